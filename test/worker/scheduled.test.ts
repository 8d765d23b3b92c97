// The Worker's cron handler end to end: scheduled() -> real OpenStack client -> the fake cloud, with its faults.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { Env } from "../../src/config/env.ts";
import { BOOT_INTENT_KEY, GROUP_KEY } from "../../src/core/model/membership.ts";
import { START, bootRequests, forgetGroups, rules, world } from "./world.ts";

const officeHours = {
  default: 1,
  schedules: [
    { cron: "0 8 * * *", timezone: "UTC", desired: 3 },
    { cron: "0 20 * * *", timezone: "UTC", desired: 1 },
  ],
};

// Storage is shared by the tests of this file: each test's groups go, so later ticks see only their own.
afterEach(forgetGroups);

describe("scheduled() against the fake cloud", () => {
  it("scales a group up and down through cron ticks by its schedule", async () => {
    const { tick, service, members, cloud } = await world();
    await service.putGroup("sched-web", rules({ ...officeHours, namePrefix: "web" }), { author: "alice" });
    await tick("2026-11-26T07:30:00Z");
    expect(await members("sched-web")).toHaveLength(1);
    await cloud.resetStats();
    await tick("2026-11-26T08:00:00Z");
    expect(await bootRequests(cloud)).toBe(1); // both new servers in one multi-create
    const up = await members("sched-web");
    expect(up).toHaveLength(3);
    expect(up.every((s) => s.name.startsWith("web-") && s.metadata[BOOT_INTENT_KEY] !== undefined)).toBe(true);
    await tick("2026-11-26T12:00:00Z");
    expect((await members("sched-web")).every((s) => s.status === "ACTIVE")).toBe(true);
    await tick("2026-11-26T20:00:00Z");
    expect(await members("sched-web")).toHaveLength(1);
  });

  it("boots servers labelled for `openstack server list --tags` and Horizon: tags novascale, novascale:<group> and a description", async () => {
    const { tick, service, members } = await world();
    await service.putGroup("label-fc", rules({ default: 2 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    const booted = await members("label-fc");
    expect(booted).toHaveLength(2);
    for (const s of booted) {
      expect(s.tags).toEqual(["novascale", "novascale:label-fc"]);
      expect(s.description).toBe("managed by novascale group label-fc");
    }
  });

  it("an override raises the count and the schedule takes over when it ends", async () => {
    const { tick, service, members } = await world();
    await service.putGroup("ovr-fc", rules(officeHours), { author: "alice" });
    await service.setOverride("ovr-fc", { desired: 5, until: "2026-11-26T09:00:00Z", reason: "launch", author: "bob" }, new Date(START));
    await tick("2026-11-26T08:10:00Z");
    expect(await members("ovr-fc")).toHaveLength(5);
    await tick("2026-11-26T09:00:00Z");
    expect(await members("ovr-fc")).toHaveLength(3);
  });

  it("a paused group is left exactly as it is", async () => {
    const { tick, service, members, cloud } = await world();
    await service.putGroup("pause-fc", rules({ default: 3 }), { author: "alice" });
    await service.pause("pause-fc", "bob", "investigating");
    await cloud.resetStats();
    await tick("2026-11-26T08:10:00Z");
    expect(await members("pause-fc")).toHaveLength(0);
    expect(await bootRequests(cloud)).toBe(0);
  });

  it("replaces a server that went to ERROR", async () => {
    const { tick, service, members, cloud } = await world();
    await cloud.addFault({ kind: "errorAfterActive", afterMs: 60_000, times: 1 });
    await service.putGroup("err-fc", rules({ default: 2 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    await tick("2026-11-26T08:01:00Z"); // ACTIVE by now; ERROR a minute later
    await tick("2026-11-26T08:05:00Z");
    const after = await members("err-fc");
    expect(after).toHaveLength(2);
    expect(after.every((s) => s.status !== "ERROR")).toBe(true);
    expect((await service.activity("err-fc", 20)).filter((a) => a.kind === "delete")).toHaveLength(1);
  });

  it("the activity entry of an ERROR server's delete keeps Nova's fault message", async () => {
    const { tick, service, cloud } = await world();
    await cloud.addFault({ kind: "errorAfterActive", afterMs: 60_000, times: 1 });
    await service.putGroup("fault-fc", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    await tick("2026-11-26T08:01:00Z"); // ACTIVE by now; ERROR a minute later
    await tick("2026-11-26T08:05:00Z");
    const deletes = (await service.activity("fault-fc", 20)).filter((a) => a.kind === "delete");
    expect(deletes.map((a) => a.reason)).toEqual([expect.stringContaining("Nova fault 500: Injected failure: the hypervisor lost this instance (fake cloud).")]);
  });

  it("a server Nova could not place (No valid host, listed in ERROR without its fault as a real Zed does) leaves that fault in its delete's activity entry", async () => {
    const { tick, service, cloud } = await world();
    await cloud.addFault({ kind: "noValidHost", times: 1 });
    await service.putGroup("nvh-fc", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    await tick("2026-11-26T08:01:00Z");
    const deletes = (await service.activity("nvh-fc", 20)).filter((a) => a.kind === "delete");
    expect(deletes.map((a) => a.reason)).toEqual([expect.stringContaining("Nova fault 500: No valid host was found.")]);
  });

  it("replaces a server stuck in BUILD after the build timeout", async () => {
    const { tick, service, members, cloud } = await world();
    await cloud.addFault({ kind: "stuckBuild", times: 1 });
    await service.putGroup("stuck-fc", rules({ default: 1, limits: { buildTimeoutMinutes: 10 } }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    const [stuck] = await members("stuck-fc");
    await tick("2026-11-26T08:05:00Z");
    expect((await members("stuck-fc")).map((s) => s.id)).toEqual([stuck?.id]);
    await tick("2026-11-26T08:11:00Z");
    await tick("2026-11-26T08:12:00Z");
    const now = await members("stuck-fc");
    expect(now).toHaveLength(1);
    expect(now[0]?.id).not.toBe(stuck?.id);
    expect(now[0]?.status).toBe("ACTIVE");
  });

  it("deletes nothing when the server listing fails", async () => {
    const { tick, service, members, cloud } = await world();
    await service.putGroup("nolist-fc", rules({ default: 2 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    await service.putGroup("nolist-fc", rules({ default: 0 }), { author: "alice" });
    await cloud.addFault({ kind: "randomErrors", rate: 1, statuses: [500], service: "compute", method: "GET", path: "/servers" });
    await tick("2026-11-26T08:05:00Z");
    expect(await members("nolist-fc")).toHaveLength(2);
    const status = await service.status("nolist-fc", new Date("2026-11-26T08:05:00Z"));
    expect(status.lastTick?.listing).toBe("failed");
  });

  it("a 400 on boot puts the group in error and stops booting until the rules change", async () => {
    const { tick, service, members, cloud } = await world();
    await cloud.addFault({ kind: "bootError", status: 400, message: "Invalid key_name provided." });
    await service.putGroup("bad-fc", rules({ default: 2 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    await cloud.resetStats();
    await tick("2026-11-26T08:01:00Z");
    expect(await bootRequests(cloud)).toBe(0);
    const status = await service.status("bad-fc", new Date("2026-11-26T08:01:00Z"));
    expect(status.health).toBe("error");
    expect(status.bootBlock?.reason).toContain("Invalid key_name");

    await cloud.clearFaults();
    await service.putGroup("bad-fc", rules({ default: 2, metadata: { fixed: "yes" } }), { author: "alice" });
    await tick("2026-11-26T08:02:00Z");
    expect(await members("bad-fc")).toHaveLength(2);
  });

  it("a failing delete is retried on later ticks until the group converges", async () => {
    const { tick, service, members, cloud } = await world();
    await service.putGroup("delfail-fc", rules({ default: 2 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    await cloud.addFault({ kind: "deleteFails", times: 6, status: 500 });
    await service.putGroup("delfail-fc", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-26T08:01:00Z");
    expect((await service.activity("delfail-fc", 10)).map((a) => a.kind)).toContain("delete-failed");
    await cloud.clearFaults();
    await tick("2026-11-26T08:02:00Z");
    await tick("2026-11-26T08:03:00Z");
    expect(await members("delfail-fc")).toHaveLength(1);
  });

  it("rules with more metadata than the cloud allows stop booting without sending a doomed boot", async () => {
    const { tick, service, cloud } = await world({ mode: "book" }); // the book's cloud: 5 metadata items
    await service.putGroup("meta-fc", rules({ default: 1, metadata: { a: "1", b: "2", c: "3", d: "4" } }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    expect(await bootRequests(cloud)).toBe(0);
    const status = await service.status("meta-fc", new Date("2026-11-26T08:00:00Z"));
    expect(status.health).toBe("error");
    expect(status.bootBlock?.reason).toMatch(/metadata/i);
  });

  it("boots what the quota allows and reports capacity-limited", async () => {
    const { tick, service, members, cloud } = await world();
    await cloud.setQuota("demo", { instances: 2 });
    await service.putGroup("quota-fc", rules({ default: 4 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    expect(await members("quota-fc")).toHaveLength(2);
    const status = await service.status("quota-fc", new Date("2026-11-26T08:00:00Z"));
    expect(status.health).toBe("capacity-limited");
  });

  it("a boot whose answer was lost is found on the next listing, not booted twice", async () => {
    const { tick, service, members, cloud } = await world();
    await cloud.addFault({ kind: "bootFalseNegative", times: 1 });
    await service.putGroup("lost-fc", rules({ default: 2 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    expect(await members("lost-fc")).toHaveLength(2);
    await tick("2026-11-26T08:01:00Z");
    await tick("2026-11-26T08:02:00Z");
    expect(await members("lost-fc")).toHaveLength(2);
    expect((await cloud.servers()).filter((s) => s.metadata[GROUP_KEY] === "lost-fc")).toHaveLength(2);
  });

  it("a tick and a manual reconcile racing on one group boot it once", async () => {
    const { tick, service, cloud } = await world();
    await cloud.addFault({ kind: "slow", delayMs: 300, service: "compute", method: "POST", path: "/servers" });
    await service.putGroup("race-fc", rules({ default: 3 }), { author: "alice" });
    await cloud.setTime("2026-11-26T08:00:00Z");
    await Promise.all([
      tick("2026-11-26T08:00:00Z"),
      service.reconcileNow("race-fc", "alice", new Date("2026-11-26T08:00:00Z")),
      service.reconcileNow("race-fc", "bob", new Date("2026-11-26T08:00:00Z")),
    ]);
    expect((await cloud.servers()).filter((s) => s.metadata[GROUP_KEY] === "race-fc")).toHaveLength(3);
  });

  it("converges once flaky API errors clear, without ever exceeding the desired count", async () => {
    const { tick, service, members, cloud } = await world();
    await service.putGroup("flaky-fc", rules({ default: 4 }), { author: "alice" });
    await cloud.addFault({ kind: "randomErrors", rate: 0.6, statuses: [500, 503], seed: 7, service: "compute" });
    await cloud.addFault({ kind: "bootFalseNegative", times: 1 });
    for (let minute = 0; minute < 4; minute++) {
      await tick(`2026-11-26T08:0${minute}:00Z`);
      expect((await cloud.servers()).filter((s) => s.metadata[GROUP_KEY] === "flaky-fc").length).toBeLessThanOrEqual(4);
    }
    await cloud.clearFaults();
    for (let minute = 4; minute < 7; minute++) await tick(`2026-11-26T08:0${minute}:00Z`);
    expect(await members("flaky-fc")).toHaveLength(4);
    const status = await service.status("flaky-fc", new Date("2026-11-26T08:06:00Z"));
    expect(status.health).toBe("steady");
  });

  it("wrong credentials put every group in error with an auth category, and nothing is done", async () => {
    const { tick, service, members, workerEnv } = await world();
    await service.putGroup("auth-fc", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z", { ...workerEnv, OS_PASSWORD: "not-the-password" });
    expect(await members("auth-fc")).toHaveLength(0);
    const status = await service.status("auth-fc", new Date("2026-11-26T08:00:00Z"));
    expect(status.health).toBe("error");
    expect(status.lastTick?.errors[0]?.category).toBe("auth");
    expect(JSON.stringify(status)).not.toContain("not-the-password");
  });

  it("incomplete OpenStack settings are reported as a config error, without a crash", async () => {
    const { tick, service, workerEnv } = await world();
    await service.putGroup("nocfg-fc", rules({ default: 1 }), { author: "alice" });
    const { OS_AUTH_URL: _dropped, ...withoutUrl } = workerEnv;
    await tick("2026-11-26T08:00:00Z", withoutUrl as Env);
    const status = await service.status("nocfg-fc", new Date("2026-11-26T08:00:00Z"));
    expect(status.lastTick?.errors[0]).toMatchObject({ category: "config" });
    expect(status.lastTick?.errors[0]?.message).toContain("OS_AUTH_URL");
  });

  it("keeps working when the cloud revokes its tokens between ticks (re-authenticates)", async () => {
    const { tick, service, members, cloud } = await world();
    await service.putGroup("revoke-fc", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    await cloud.revokeTokens();
    await service.putGroup("revoke-fc", rules({ default: 2 }), { author: "alice" });
    await tick("2026-11-26T08:01:00Z");
    expect(await members("revoke-fc")).toHaveLength(2);
  });

  it("never touches servers without the group tag", async () => {
    const { tick, service, cloud } = await world();
    const stranger = await cloud.seedServer({ name: "own-fc-1" });
    const neighbour = await cloud.seedServer({ name: "neighbour", metadata: { [GROUP_KEY]: "someone-else" } });
    await cloud.seedServer({ name: "mine", metadata: { [GROUP_KEY]: "own-fc", [BOOT_INTENT_KEY]: "seeded" } });
    await service.putGroup("own-fc", rules({ default: 0 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    await tick("2026-11-26T08:10:00Z");
    const left = (await cloud.servers()).filter((s) => s.taskState !== "deleting" && s.status !== "DELETED").map((s) => s.id);
    expect(left.sort()).toEqual([stranger.id, neighbour.id].sort());
  });

  it("a steady tick writes nothing to KV and does not rewrite the group's record", async () => {
    const { tick, service, workerEnv } = await world();
    await service.putGroup("steady-fc", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    await tick("2026-11-26T08:05:00Z");
    let writes = 0;
    const countingKv: KVNamespace = new Proxy(workerEnv.RULES, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === "put" || prop === "delete") writes += 1;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await tick("2026-11-26T08:06:00Z", { ...workerEnv, RULES: countingKv });
    await tick("2026-11-26T08:07:00Z", { ...workerEnv, RULES: countingKv });
    expect(writes).toBe(0);
    const status = await service.status("steady-fc", new Date("2026-11-26T08:07:00Z"));
    expect(status.health).toBe("steady");
    expect(status.lastTick?.at).toBe("2026-11-26T08:05:00.000Z");
  });
});
