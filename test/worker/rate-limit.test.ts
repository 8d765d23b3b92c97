// A Retry-After longer than a tick may wait is remembered across ticks: the next tick does not call the rate limiter again, and status says why.
import { describe, expect, it } from "vitest";
import { rules, world } from "./world.ts";

// Its own file: the memory lives in the isolate (like the token cache), so no other test shares it.
describe("a rate limit that asks for a long wait", () => {
  it("the next tick sends nothing to that endpoint and its status names the wait", async () => {
    const { tick, service, cloud } = await world();
    await service.putGroup("rl-fc", rules({ default: 1 }), { author: "alice" });
    await cloud.addFault({ kind: "randomErrors", rate: 1, statuses: [429], retryAfterSeconds: 600, service: "compute", method: "GET", path: "/servers" });
    await tick("2026-11-26T08:00:00Z");
    await cloud.resetStats();
    await tick("2026-11-26T08:01:00Z");
    const stats = await cloud.stats();
    expect(Object.keys(stats.byRoute).filter((route) => route.includes("/servers"))).toEqual([]);
    const status = await service.status("rl-fc", new Date("2026-11-26T08:01:00Z"));
    expect(status.lastTick?.listing).toBe("failed");
    expect(JSON.stringify(status.lastTick?.errors)).toContain("asked us to wait (Retry-After) until");
  });
});
