// A compute version discovery that fell back to plain 2.1 (issue 27 item 7) shows in group status as a warning notice.
import { describe, expect, it } from "vitest";
import { rules, world } from "./world.ts";

describe("compute version discovery fallback in group status", () => {
  it("a tick whose version document answered 403 names the fallback in the group's notices", async () => {
    const { tick, service, cloud } = await world();
    // A proxy guarding the version document (catalog URL and the unversioned root), not the API itself.
    // Set before the write: its reference check would otherwise discover first and the token would remember it.
    await cloud.addFault({ kind: "randomErrors", rate: 1, statuses: [403], service: "compute", method: "GET", path: "^/(v2\\.1/?)?$" });
    await service.putGroup("dv-fb", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    const status = await service.status("dv-fb", new Date("2026-11-26T08:00:00Z"));
    const notice = status.lastTick?.notices.find((n) => n.code === "compute-discovery-fallback");
    expect([notice?.level, notice?.message.includes("without microversions")]).toEqual(["warning", true]);
  });

  it("a tick whose discovery worked has no fallback notice", async () => {
    const { tick, service } = await world();
    await service.putGroup("dv-ok", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    const status = await service.status("dv-ok", new Date("2026-11-26T08:00:00Z"));
    expect(status.lastTick?.notices.map((n) => n.code)).not.toContain("compute-discovery-fallback");
  });
});
