// Why the dry run boots fewer servers than are missing: one reason per cause, each with its numbers.
import { describe, expect, it } from "vitest";
import type { Desired, Notice, Step } from "../../../src/core/model/types.ts";
import { noBootReasons, type NoBootInput } from "../../../src/core/scaling/no-boot-reasons.ts";

const NOW = new Date("2026-11-26T09:00:00Z");
const desired = (value: number, source: Desired["source"] = "default"): Desired => ({ value, source, reason: `default ${value}` });
const notice = (code: string, message = code): Notice => ({ level: "warning", code, message });
const boot = (count: number): Step => ({ kind: "boot", group: "web", count, reason: "scale out" });
const resume = (id: string): Step => ({ kind: "resume", group: "web", serverId: id, serverName: id, action: "unshelve", takesQuota: false, reason: "resume" }) as Step;

function input(over: Partial<NoBootInput> = {}): NoBootInput {
  return { now: NOW, desired: desired(3), counted: 1, steps: [], notices: [], max: 10, maxBootsPerTick: 5, ...over };
}
const codes = (i: NoBootInput) => noBootReasons(i).map((r) => r.code);

describe("noBootReasons", () => {
  it("says nothing when the planned boots cover what is missing", () => {
    expect(noBootReasons(input({ steps: [boot(2)] }))).toEqual([]);
  });

  it("says nothing when nothing is missing", () => {
    expect(noBootReasons(input({ desired: desired(1), counted: 1 }))).toEqual([]);
  });

  it("names who paused the group, and why", () => {
    const [reason] = noBootReasons(input({ desired: desired(3, "paused"), pause: { by: "alice", reason: "maintenance" } }));
    expect(reason).toEqual({ code: "paused", message: expect.stringContaining("alice (maintenance)") });
  });

  it("gives the boot backoff's end time and failure count", () => {
    const bootBackoff = { failures: 3, since: "2026-11-26T08:50:00Z", lastAt: "2026-11-26T08:58:00Z", until: "2026-11-26T09:02:00Z", cause: "ERROR: No valid host", revision: 1 } as NoBootInput["bootBackoff"];
    const [reason] = noBootReasons(input({ bootBackoff }));
    expect(reason?.code).toBe("boot-backoff");
    expect(reason?.message).toContain("2026-11-26T09:02:00Z");
    expect(reason?.message).toContain("3 failures");
  });

  it("does not call a backoff whose time has passed a reason", () => {
    const bootBackoff = { failures: 1, since: "2026-11-26T08:00:00Z", lastAt: "2026-11-26T08:00:00Z", until: "2026-11-26T08:01:00Z", cause: "x", revision: 1 } as NoBootInput["bootBackoff"];
    expect(codes(input({ bootBackoff }))).toEqual([]);
  });

  it("quotes the configuration error that blocks boots", () => {
    const [reason] = noBootReasons(input({ bootBlock: { reason: "Invalid key_name provided." } }));
    expect(reason).toEqual({ code: "boot-blocked", message: expect.stringContaining("Invalid key_name provided.") });
  });

  it("states the quota with its numbers (instances, cores, RAM) and the flavor's size, the exhausted limit first", () => {
    const limits = { maxTotalInstances: 10, totalInstancesUsed: 4, maxTotalCores: 20, totalCoresUsed: 20, maxTotalRAMSize: 51200, totalRAMUsed: 8192, maxServerMeta: 128, maxImageMeta: 128 };
    const [reason] = noBootReasons(input({ notices: [notice("capacity-limited")], limits, flavor: { name: "m1.small", vcpus: 1, ramMB: 2048 } }));
    expect(reason?.code).toBe("quota");
    expect(reason?.message).toMatch(/m1\.small: cores 20 of 20 used \(maxTotalCores\), 1 per server; instances 4 of 10 used \(maxTotalInstances\); RAM 8192 MB of 51200 MB used/);
  });

  it("says the group is at max when replacements wait for broken servers", () => {
    const [reason] = noBootReasons(input({ notices: [notice("boot-at-max", "2 boot(s) wait until the broken servers they replace are deleted")] }));
    expect(reason).toEqual({ code: "max", message: expect.stringMatching(/^max 10 reached: 2 boot\(s\) wait/) });
  });

  it("repeats the last tick's budget deferral", () => {
    const [reason] = noBootReasons(input({ deferred: { steps: 2, message: "2 step(s) wait for the next tick" } }));
    expect(reason).toEqual({ code: "budget-deferred", message: expect.stringContaining("2 step(s) wait") });
  });

  it("explains a hold for boots whose answer was lost", () => {
    expect(codes(input({ notices: [notice("boot-held", "boots wait: 1 boot(s) of 2 server(s) got no answer")] }))).toEqual(["lost-boot-hold"]);
  });

  it("counts parked servers resumed instead of booted", () => {
    const [reason] = noBootReasons(input({ desired: desired(4), counted: 1, steps: [resume("a")] }));
    expect(reason).toEqual({ code: "resuming-parked", message: expect.stringContaining("1 parked server(s)") });
  });

  it("names maxBootsPerTick when the cap was reached", () => {
    const [reason] = noBootReasons(input({ maxBootsPerTick: 0, notices: [notice("boot-capped", "2 boot(s) or resume(s) wait for the next tick (maxBootsPerTick 0)")] }));
    expect(reason).toEqual({ code: "max-boots-per-tick", message: expect.stringContaining("maxBootsPerTick 0 reached") });
  });

  it("passes on why image or flavor did not resolve", () => {
    expect(codes(input({ notices: [notice("boot-skipped", "not booting this tick: no image is named \"x\"")] }))).toEqual(["references"]);
  });

  it("says a power group never boots", () => {
    expect(codes(input({ notices: [notice("power-short")] }))).toEqual(["power-group"]);
  });

  it("lists one reason per cause when several hold, in the order the pipeline applies them", () => {
    const bootBackoff = { failures: 2, since: "2026-11-26T08:50:00Z", lastAt: "2026-11-26T08:58:00Z", until: "2026-11-26T09:30:00Z", cause: "c", revision: 1 } as NoBootInput["bootBackoff"];
    const got = codes(input({ bootBlock: { reason: "r" }, bootBackoff, notices: [notice("boot-held"), notice("capacity-limited")], deferred: { steps: 1, message: "m" } }));
    expect(got).toEqual(["boot-blocked", "boot-backoff", "lost-boot-hold", "quota", "budget-deferred"]);
  });
});
