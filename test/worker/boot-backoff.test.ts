// Repeated boot failures back off (1, 2, 4 ... 60 min), end with success, newer rules or "retry boots"; a rejected boot blocks until retried (end to end on the fake cloud).
import { afterEach, describe, expect, it } from "vitest";
import { ConflictError } from "../../src/reconcile/shared/service.ts";
import { bootRequests, forgetGroups, rules, world } from "./world.ts";

afterEach(forgetGroups);

const T = (hhmm: string) => `2026-11-26T${hhmm}:00.000Z`;

/** A group of one whose every server Nova puts in ERROR as soon as it is built (a NoValidHost-like loop). */
async function erroring(name: string) {
  const w = await world();
  const faultId = await w.cloud.addFault({ kind: "errorAfterActive", afterMs: 0 });
  await w.service.putGroup(name, rules({ default: 1 }), { author: "alice" });
  return { ...w, faultId };
}

describe("boot backoff", () => {
  it("the first ERROR is replaced at once; from the second on, boots wait 1 then 2 minutes", async () => {
    const { cloud, tick } = await erroring("bo-sched");
    await tick(T("08:00")); // boot 1
    await tick(T("08:01")); // ERROR (1st failure): delete + replace at once
    expect(await bootRequests(cloud)).toBe(2);
    await tick(T("08:02")); // ERROR (2nd): boots wait until 08:03
    expect(await bootRequests(cloud)).toBe(2);
    await tick(T("08:03")); // the wait is over
    expect(await bootRequests(cloud)).toBe(3);
    await tick(T("08:04")); // ERROR (3rd): wait 2 min, until 08:06
    await tick(T("08:05"));
    expect(await bootRequests(cloud)).toBe(3);
    await tick(T("08:06"));
    expect(await bootRequests(cloud)).toBe(4);
  });

  it("status says until when boots wait and why (Nova's fault), and the group is in error", async () => {
    const { service, tick } = await erroring("bo-status");
    for (const at of ["08:00", "08:01", "08:02"]) await tick(T(at));
    const status = await service.status("bo-status", new Date(T("08:02")));
    expect(status.bootsBlocked).toMatch(/^boots blocked until 2026-11-26T08:03:00.000Z \(2 failures in a row\): server .* went to ERROR: /);
    expect(status.bootBackoff?.failures).toBe(2);
    expect(status.health).toBe("error");
  });

  it("the tick's record says boots wait (notice boot-backoff) and the activity log has one boot-backoff entry with the counts", async () => {
    const { service, tick } = await erroring("bo-activity");
    for (const at of ["08:00", "08:01", "08:02"]) await tick(T(at));
    const status = await service.status("bo-activity", new Date(T("08:02")));
    expect(status.lastTick?.notices.map((n) => n.code)).toContain("boot-backoff");
    const entries = (await service.activity("bo-activity", 50)).filter((a) => a.kind === "boot-backoff");
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ count: 2, counts: { from: 0, to: 1 } });
  });

  it("a server that comes up ACTIVE ends the backoff", async () => {
    const { cloud, service, tick, faultId } = await erroring("bo-success");
    for (const at of ["08:00", "08:01", "08:02"]) await tick(T(at)); // 2 failures: waiting until 08:03
    await cloud.removeFault(faultId); // the cloud heals: the boot of 08:03 comes up
    await tick(T("08:03"));
    await tick(T("08:04"));
    const status = await service.status("bo-success", new Date(T("08:04")));
    expect(status.bootBackoff).toBeNull();
    expect((await service.activity("bo-success", 50)).map((a) => a.kind)).toContain("boot-backoff-ended");
  });

  it("a newer revision of the rules ends the backoff and boots at once", async () => {
    const { cloud, service, tick } = await erroring("bo-rules");
    for (const at of ["08:00", "08:01", "08:02"]) await tick(T(at)); // waiting until 08:03
    await service.putGroup("bo-rules", rules({ default: 1, max: 19 }), { author: "alice" });
    await tick("2026-11-26T08:02:30.000Z");
    expect(await bootRequests(cloud)).toBe(3);
  });
});

describe("retry boots", () => {
  it("ends a backoff: the next tick boots, though the wait is not over", async () => {
    const { cloud, service, tick } = await erroring("rb-backoff");
    for (const at of ["08:00", "08:01", "08:02", "08:03", "08:04"]) await tick(T(at)); // 3rd failure at 08:04: wait until 08:06
    const before = await bootRequests(cloud);
    const cleared = await service.retryBoots("rb-backoff", "bob");
    expect(cleared.bootBackoff?.failures).toBe(3);
    await tick(T("08:05"));
    expect(await bootRequests(cloud)).toBe(before + 1);
    expect((await service.activity("rb-backoff", 50)).find((a) => a.kind === "boot-unblocked")?.author).toBe("bob");
  });

  it("lifts the block a rejected boot (bad key pair: 400) left, without a rules change", async () => {
    const { cloud, service, tick } = await world({ keypairs: ["ops"] });
    await service.putGroup("rb-key", rules({ default: 1, keyName: "nope" }), { author: "alice" });
    await tick(T("08:00")); // 400: blocked
    await tick(T("08:01"));
    expect(await bootRequests(cloud)).toBe(1);
    const cleared = await service.retryBoots("rb-key", "bob");
    expect(cleared.bootBlock?.reason).toMatch(/key_name/);
    await tick(T("08:02"));
    expect(await bootRequests(cloud)).toBe(2);
  });

  it("is refused (ConflictError, 409) when booting is not stopped", async () => {
    const { service, tick } = await world();
    await service.putGroup("rb-none", rules({ default: 1 }), { author: "alice" });
    await tick(T("08:00"));
    await expect(service.retryBoots("rb-none", "bob")).rejects.toBeInstanceOf(ConflictError);
  });
});
