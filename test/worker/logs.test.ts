// Structured logs: a tick writes JSON lines (one per tick, one per action) carrying the tick's request id, and no secret.
import { afterEach, describe, expect, it, vi } from "vitest";
import { forgetGroups, rules, world } from "./world.ts";

afterEach(forgetGroups);
afterEach(() => vi.restoreAllMocks());

/** Everything the tick writes to the console during `work`, line by line. */
async function captured(work: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  for (const method of ["log", "warn", "error"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
  }
  await work();
  vi.restoreAllMocks();
  return lines;
}

describe("tick logs", () => {
  it("every line a tick writes parses as JSON", async () => {
    const { tick, service } = await world();
    await service.putGroup("logs-web", rules({ default: 2 }), { author: "alice" });
    const lines = await captured(() => tick("2026-11-26T08:00:00Z"));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
  });

  it("one tick line and one line per action, all with the tick's request id", async () => {
    const { tick, service } = await world();
    await service.putGroup("logs-ids", rules({ default: 2 }), { author: "alice" });
    const lines = (await captured(() => tick("2026-11-26T08:00:00Z"))).map((l) => JSON.parse(l) as { msg: string; tickRequestId?: string; group?: string; step?: string });
    const tickLines = lines.filter((l) => l.msg === "tick");
    const actions = lines.filter((l) => l.msg === "action" && l.group === "logs-ids");
    expect(tickLines).toHaveLength(1);
    expect(tickLines[0]?.tickRequestId).toMatch(/^req-[0-9a-f-]{36}$/);
    expect(actions.map((a) => a.step)).toEqual(["boot"]);
    expect(actions.every((a) => a.tickRequestId === tickLines[0]?.tickRequestId)).toBe(true);
  });

  it("never carries the password or a token", async () => {
    const { tick, service, cloud } = await world();
    await cloud.addFault({ kind: "bootError", status: 400, message: "Invalid key_name provided." });
    await service.putGroup("logs-secret", rules({ default: 1 }), { author: "alice" });
    const text = (await captured(() => tick("2026-11-26T08:00:00Z"))).join("\n");
    expect(text).not.toContain("demo-password");
    expect(text).not.toMatch(/X-Auth-Token|gAAAA/);
  });
});
