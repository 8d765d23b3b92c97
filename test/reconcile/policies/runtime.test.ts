// Snapshot policies at run time: the cron tick (after the groups), the policy's Durable Object (fence, serialised runs), preview = executor.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { GroupRulesSchema } from "../../../src/config/group.ts";
import { IMAGE_FIRING_KEY, IMAGE_MADE_BY_KEY, IMAGE_SOURCE_SERVER_KEY } from "../../../src/core/model/membership.ts";
import { IMAGE_POLICY_KEY } from "../../../src/core/snapshots/policy-snapshots.ts";
import { TickBudget } from "../../../src/reconcile/gateway/budget.ts";
import { CloudGateway } from "../../../src/reconcile/gateway/gateway.ts";
import { openCloud } from "../../../src/reconcile/gateway/cloud-factory.ts";
import { policyStub, type PolicyRunRequest } from "../../../src/reconcile/policies/policy-coordinator.ts";
import { DEFERRED_KEY } from "../../../src/store/tick-state.ts";
import { deleteAllGroups, deleteAllPolicies } from "../../support/rules.ts";
import { night, osEnv, policyRules, world } from "./world.ts";

afterEach(async () => {
  await deleteAllPolicies();
  await deleteAllGroups();
  await env.RULES.delete(DEFERRED_KEY);
});

describe("the cron tick runs snapshot policies", () => {
  it("takes one snapshot per selected server per firing, with the four marks; an unselected server is never a source", async () => {
    const { fake, policies, tick, snapshotsOf } = world();
    const db = fake.seedServer({ name: "db", metadata: { backup: "nightly" } });
    const jump = fake.seedServer({ name: "jump", metadata: { backup: "nightly" } });
    const stranger = fake.seedServer({ name: "stranger", metadata: { backup: "weekly" } });
    await policies.put("pets", policyRules(), { author: "alice" });
    await tick("2026-11-21T01:31:00Z");
    await tick("2026-11-21T01:36:00Z");
    await tick("2026-11-21T02:00:00Z");
    expect(snapshotsOf("pets")).toEqual([`${db.id}@${night(21)}`, `${jump.id}@${night(21)}`].sort());
    const image = fake.imageSnapshots().find((i) => i.properties[IMAGE_SOURCE_SERVER_KEY] === db.id)!;
    expect(image.properties).toMatchObject({ [IMAGE_MADE_BY_KEY]: "novascale", [IMAGE_POLICY_KEY]: "pets", [IMAGE_FIRING_KEY]: night(21) });
    expect(fake.imageSnapshots().some((i) => i.properties[IMAGE_SOURCE_SERVER_KEY] === stranger.id)).toBe(false);
    const view = await policies.get("pets");
    expect(view.status?.servers.map((s) => s.phase)).toEqual(["done", "done"]);
    expect((await policies.activity("pets", 10)).filter((a) => a.kind === "snapshot")).toHaveLength(2);
  });

  it("runs policies after the groups, on the tick's one listing of servers", async () => {
    const { fake, policies, groups, tick, sent } = world();
    fake.seedServer({ name: "db", metadata: { backup: "nightly" } });
    await groups.putGroup("web", GroupRulesSchema.parse({ image: "cirros", flavor: "m1.tiny", max: 2, default: 1, networks: "none" }), { author: "alice" });
    await policies.put("pets", policyRules(), { author: "alice" });
    const before = sent.length;
    await tick("2026-11-21T01:31:00Z");
    const calls = sent.slice(before);
    expect(calls.filter((c) => c.method === "GET" && c.path.endsWith("/servers/detail"))).toHaveLength(1);
    const boot = calls.findIndex((c) => c.method === "POST" && c.path.endsWith("/servers"));
    const snapshot = calls.findIndex((c) => c.method === "POST" && c.path.endsWith("/action"));
    expect(boot).toBeGreaterThanOrEqual(0);
    expect(snapshot).toBeGreaterThan(boot);
  });

  it("never snapshots a server a group deletes in the same tick: the survivor is the source, first time", async () => {
    const { fake, policies, groups, tick, snapshotsOf } = world({ buildMs: 1_000 });
    const schedules = [
      { cron: "0 20 * * *", timezone: "UTC", desired: 2 },
      { cron: "30 1 * * *", timezone: "UTC", desired: 1 },
    ];
    await groups.putGroup("web", GroupRulesSchema.parse({ image: "cirros", flavor: "m1.tiny", max: 2, default: 1, schedules, networks: "none" }), { author: "alice" });
    await tick("2026-11-20T20:00:00Z");
    await tick("2026-11-20T20:05:00Z");
    await policies.put("web-nightly", policyRules({ select: { group: "web" } }), { author: "alice" });
    await tick("2026-11-21T01:31:00Z"); // the group scales in to 1 and the policy fires, on one listing
    const survivors = fake.serverSnapshots().filter((s) => s.metadata["novascale:group"] === "web" && s.taskState !== "deleting" && s.status !== "DELETED");
    expect(survivors).toHaveLength(1);
    expect(snapshotsOf("web-nightly")).toEqual([`${survivors[0]!.id}@${night(21)}`]);
    expect((await policies.activity("web-nightly", 20)).map((a) => a.kind)).not.toContain("snapshot-failed");
  });

  it("a settled policy costs no cloud call until the next firing, a new selected server or a rules change", async () => {
    const { fake, policies, tick, sent, snapshotsOf } = world();
    fake.seedServer({ name: "db", metadata: { backup: "nightly" } });
    const put = await policies.put("steady", policyRules(), { author: "alice" });
    await tick("2026-11-21T01:31:00Z");
    await tick("2026-11-21T01:36:00Z"); // active: the firing is settled
    const glance = () => sent.filter((c) => c.path.endsWith("/v2/images")).length;
    let before = glance();
    await tick("2026-11-21T01:37:00Z");
    await tick("2026-11-21T03:00:00Z");
    expect(glance()).toBe(before);
    expect((await policies.get("steady")).lastRun?.lastSeenAt).toBe("2026-11-21T03:00:00.000Z");
    // A newly selected server (within the grace period): listed and snapshotted at once.
    const jump = fake.seedServer({ name: "jump", metadata: { backup: "nightly" } });
    await tick("2026-11-21T03:01:00Z");
    expect(glance()).toBeGreaterThan(before);
    expect(snapshotsOf("steady")).toContain(`${jump.id}@${night(21)}`);
    await tick("2026-11-21T03:06:00Z");
    before = glance();
    await tick("2026-11-21T09:07:00Z");
    expect(glance()).toBe(before);
    // A rules change, and the next firing, each list again.
    await policies.put("steady", policyRules({ retention: { keepLast: 5 } }), { author: "alice", ifMatch: put.etag });
    await tick("2026-11-21T09:08:00Z");
    expect(glance()).toBe(before + 1);
    await tick("2026-11-21T09:09:00Z");
    await tick("2026-11-22T01:31:00Z");
    expect(glance()).toBe(before + 2);
  });

  it("takes at most maxConcurrent at once, counting those still saving, and the rest on later ticks", async () => {
    const { fake, policies, tick, snapshotsOf } = world({ snapshotMs: 90_000 });
    for (const name of ["a", "b", "c", "d", "e"]) fake.seedServer({ name, metadata: { backup: "nightly" } });
    await policies.put("pets", policyRules({ maxConcurrent: 2 }), { author: "alice" });
    const counts: number[] = [];
    const inFlight: number[] = [];
    for (const at of ["01:31", "01:32", "01:33", "01:34", "01:35", "01:36", "01:37", "01:38"]) {
      await tick(`2026-11-21T${at}:00Z`);
      counts.push(snapshotsOf("pets").length);
      inFlight.push(fake.imageSnapshots().filter((i) => i.properties[IMAGE_POLICY_KEY] === "pets" && i.status !== "active").length);
    }
    expect(Math.max(...inFlight)).toBeLessThanOrEqual(2);
    expect(counts[0]).toBe(2);
    expect(counts.at(-1)).toBe(5);
    expect(new Set(snapshotsOf("pets")).size).toBe(5);
  });

  it("an operator pause takes and deletes nothing; resume picks the firing up within the grace period", async () => {
    const { fake, policies, tick, snapshotsOf } = world();
    fake.seedServer({ name: "db", metadata: { backup: "nightly" } });
    await policies.put("pets", policyRules(), { author: "alice" });
    await policies.pause("pets", "bob", "storage maintenance");
    await tick("2026-11-21T01:31:00Z");
    expect(snapshotsOf("pets")).toEqual([]);
    expect((await policies.get("pets")).status?.health).toBe("paused");
    await policies.resume("pets", "bob");
    await tick("2026-11-21T02:31:00Z");
    expect(snapshotsOf("pets")).toHaveLength(1);
  });

  it("a deleted policy's snapshots stay, and no later tick touches them", async () => {
    const { fake, policies, tick, snapshotsOf } = world();
    fake.seedServer({ name: "db", metadata: { backup: "nightly" } });
    await policies.put("pets", policyRules({ retention: { keepLast: 1 } }), { author: "alice" });
    await tick("2026-11-21T01:31:00Z");
    await tick("2026-11-22T01:31:00Z");
    await tick("2026-11-22T01:36:00Z");
    const kept = snapshotsOf("pets");
    expect(kept).toHaveLength(1);
    await policies.remove("pets", { author: "alice" });
    for (const day of [23, 24, 25]) await tick(`2026-11-${day}T01:31:00Z`);
    expect(snapshotsOf("pets")).toEqual(kept);
  });
});

describe("retention: the preview is what the executor then deletes; foreign and guarded images are never touched", () => {
  it("after 9 nights, GET retention lists exactly the images the next tick deletes, with reasons; guarded and foreign images stay", async () => {
    const { fake, policies, groups, tick, snapshotsOf, foreignImage } = world();
    const db = fake.seedServer({ name: "db", metadata: { backup: "nightly" } });
    const jump = fake.seedServer({ name: "jump", metadata: { backup: "nightly" } });
    // Not ours, whatever their age: an operator's image, another policy's, and a look-alike without the made-by mark.
    const foreign = [
      foreignImage("operator-backup", { note: "by hand" }),
      foreignImage("other-policy", { [IMAGE_MADE_BY_KEY]: "novascale", [IMAGE_POLICY_KEY]: "other", [IMAGE_SOURCE_SERVER_KEY]: db.id, [IMAGE_FIRING_KEY]: night(1) }),
      foreignImage("look-alike", { [IMAGE_POLICY_KEY]: "pets", [IMAGE_SOURCE_SERVER_KEY]: db.id, [IMAGE_FIRING_KEY]: night(1) }),
    ];
    // Keep everything while the history builds up.
    const put = await policies.put("pets", policyRules({ retention: { keepLast: 100 } }), { author: "alice" });
    for (let day = 21; day <= 28; day++) {
      await tick(`2026-11-${day}T01:31:00Z`);
      await tick(`2026-11-${day}T01:36:00Z`);
    }
    expect(snapshotsOf("pets")).toHaveLength(16);
    // Guards: a server booted from db's snapshot of the 23rd, a group naming jump's snapshot of the 24th by name.
    const images = fake.imageSnapshots().filter((i) => i.properties[IMAGE_POLICY_KEY] === "pets");
    const bootedFrom = images.find((i) => i.properties[IMAGE_SOURCE_SERVER_KEY] === db.id && i.properties[IMAGE_FIRING_KEY] === night(23))!;
    const named = images.find((i) => i.properties[IMAGE_SOURCE_SERVER_KEY] === jump.id && i.properties[IMAGE_FIRING_KEY] === night(24))!;
    fake.seedServer({ name: "restored", image: bootedFrom.id });
    await groups.putGroup("restore", GroupRulesSchema.parse({ image: named.name, flavor: "m1.tiny", max: 1, default: 0, networks: "none" }), { author: "alice" });

    await tick("2026-11-29T01:31:00Z"); // the 29th's snapshots, nothing pruned (keepLast 100)
    await policies.put("pets", policyRules(), { author: "alice", ifMatch: put.etag });
    fake.setTime("2026-11-29T01:36:00Z");
    const preview = await policies.retention("pets", new Date("2026-11-29T01:36:00Z"));
    expect(preview.guard).toBe("complete");
    const toDelete = preview.images.filter((i) => i.action === "delete").map((i) => i.id).sort();
    expect(toDelete.length).toBeGreaterThan(0);
    expect(preview.images.find((i) => i.id === bootedFrom.id)).toMatchObject({ action: "keep", heldBack: true });
    expect(preview.images.find((i) => i.id === named.id)).toMatchObject({ action: "keep", heldBack: true });
    expect(preview.images.find((i) => i.firing === night(28) && i.sourceServer === db.id)?.reason).toContain("daily 2026-11-28");
    expect(preview.images.some((i) => foreign.includes(i.id))).toBe(false);
    // The preview wrote nothing and deleted nothing.
    expect(snapshotsOf("pets")).toHaveLength(18);

    const before = new Set(fake.imageSnapshots().map((i) => i.id));
    await tick("2026-11-29T01:36:00Z");
    const after = new Set(fake.imageSnapshots().map((i) => i.id));
    const deleted = [...before].filter((id) => !after.has(id)).sort();
    expect(deleted).toEqual(toDelete);
    for (const id of [...foreign, bootedFrom.id, named.id]) expect(after.has(id)).toBe(true);
    // restic's rule per server, plus what the guards hold: db keeps 22, 27, 28, 29 and the 23rd it was booted from.
    const firingsOf = (serverId: string) => snapshotsOf("pets").filter((s) => s.startsWith(`${serverId}@`)).map((s) => s.slice(serverId.length + 1));
    expect(firingsOf(db.id)).toEqual([22, 23, 27, 28, 29].map(night));
    expect(firingsOf(jump.id)).toEqual([22, 24, 27, 28, 29].map(night));
  });
});

describe("the policy's Durable Object", () => {
  function request(policy: Awaited<ReturnType<ReturnType<typeof world>["policies"]["put"]>>["policy"], now: string): PolicyRunRequest {
    return { policy, now, trigger: "manual", author: "test" };
  }

  it("two overlapping runs never snapshot a server twice for one firing", async () => {
    const { fake, factory, policies, snapshotsOf } = world();
    for (const name of ["a", "b", "c"]) fake.seedServer({ name, metadata: { backup: "nightly" } });
    const { policy } = await policies.put("overlap", policyRules({ maxConcurrent: 10 }), { author: "alice" });
    fake.setTime("2026-11-21T01:31:00Z");
    const stub = policyStub(env, "overlap");
    const gateway = () => new CloudGateway(openCloud(osEnv, factory));
    const runs = await Promise.all(Array.from({ length: 4 }, () => stub.run(request(policy, "2026-11-21T01:31:00.000Z"), gateway())));
    expect(runs.flatMap((r) => r.steps).filter((s) => s.kind === "snapshot")).toHaveLength(3);
    expect(snapshotsOf("overlap")).toHaveLength(3);
    expect(new Set(snapshotsOf("overlap")).size).toBe(3);
  });

  it("while Glance does not list a snapshot it just took, a later run does not take a second one (the ledger)", async () => {
    const { fake, factory, policies, snapshotsOf, hidden } = world();
    fake.seedServer({ name: "db", metadata: { backup: "nightly" } });
    const { policy } = await policies.put("lagging", policyRules(), { author: "alice" });
    fake.setTime("2026-11-21T01:31:00Z");
    const stub = policyStub(env, "lagging");
    const gateway = () => new CloudGateway(openCloud(osEnv, factory));
    await stub.run(request(policy, "2026-11-21T01:31:00.000Z"), gateway());
    expect(snapshotsOf("lagging")).toHaveLength(1);
    for (const i of fake.imageSnapshots()) hidden.add(i.id);
    fake.setTime("2026-11-21T01:32:00Z");
    const second = await stub.run(request(policy, "2026-11-21T01:32:00.000Z"), gateway());
    expect(second.steps).toEqual([]);
    expect(second.notices.map((n) => n.code)).toContain("snapshot-sent");
    expect(snapshotsOf("lagging")).toHaveLength(1);
  });

  it("refuses to act on an older revision than it was told (acts on the newest), and on any revision after a delete", async () => {
    const { fake, factory, policies, snapshotsOf } = world();
    fake.seedServer({ name: "db", metadata: { backup: "nightly" } });
    const first = await policies.put("fenced", policyRules(), { author: "alice" });
    await policies.put("fenced", policyRules({ select: { metadata: { backup: "none" } } }), { author: "alice" });
    fake.setTime("2026-11-21T01:31:00Z");
    const stub = policyStub(env, "fenced");
    const gateway = () => new CloudGateway(openCloud(osEnv, factory));
    const stale = await stub.run(request(first.policy, "2026-11-21T01:31:00.000Z"), gateway());
    expect(stale.rulesRevision).toBe(2);
    expect(stale.notices.map((n) => n.code)).toContain("rules-newer");
    expect(snapshotsOf("fenced")).toEqual([]); // revision 2 selects nothing
    await policies.remove("fenced", { author: "alice" });
    const afterDelete = await stub.run(request(first.policy, "2026-11-21T01:32:00.000Z"), gateway());
    expect(afterDelete.errors[0]?.message).toContain("was deleted");
    expect(snapshotsOf("fenced")).toEqual([]);
  });
});

describe("the tick's budget and policies", () => {
  it("a busy group that always wants more than the budget does not make the night's backup miss its grace period (issue 24 item 8)", async () => {
    const { fake, policies, groups, tick, snapshotsOf } = world();
    fake.seedServer({ name: "db", metadata: { backup: "nightly" } });
    // 30 broken servers Nova never deletes (500): the group wants 30 deletes every tick, far more than the budget.
    for (let i = 0; i < 30; i++) fake.seedServer({ name: `busy-${i}`, status: "ERROR", metadata: { "novascale:group": "busy" } });
    fake.addFault({ kind: "deleteFails", times: 100_000 });
    await groups.putGroup("busy", GroupRulesSchema.parse({ image: "cirros", flavor: "m1.tiny", min: 0, max: 50, default: 0, networks: "none", limits: { maxDeletesPerTick: 30 } }), { author: "alice" });
    await policies.put("pets", policyRules({ graceHours: 1 }), { author: "alice" });
    // Three ticks inside the one-hour grace period of the 01:30 firing.
    for (const at of ["2026-11-21T01:31:00Z", "2026-11-21T01:32:00Z", "2026-11-21T01:33:00Z"]) await tick(at, new TickBudget({ subrequests: 12 }));
    expect(snapshotsOf("pets")).toHaveLength(1);
  });

  it("policies the budget could not reach are deferred, shown in status, and served first by the next tick", async () => {
    const { fake, policies, tick } = world();
    const names = ["p0", "p1", "p2", "p3", "p4", "p5"];
    for (const name of names) {
      fake.seedServer({ name: `${name}-server`, metadata: { policy: name } });
      await policies.put(name, policyRules({ select: { metadata: { policy: name } } }), { author: "alice" });
    }
    const first = await tick("2026-11-21T01:31:00Z", new TickBudget({ subrequests: 10 }));
    const deferred = first.policies?.deferred.map((d) => d.name) ?? [];
    expect(deferred.length).toBeGreaterThan(0);
    expect(first.budget?.spent).toBeLessThanOrEqual(10);
    const waiting = deferred[0]!;
    expect((await policies.get(waiting)).deferred?.reason).toBe("subrequests");
    const second = await tick("2026-11-21T01:32:00Z", new TickBudget({ subrequests: 10 }));
    const servedSecond = (second.policies?.records ?? []).map((r) => r.policy);
    expect(servedSecond.slice(0, Math.min(deferred.length, servedSecond.length))).toEqual(deferred.slice(0, servedSecond.length));
    for (let i = 0; i < 6; i++) {
      const more = await tick(`2026-11-21T01:${33 + i}:00Z`, new TickBudget({ subrequests: 10 }));
      if ((more.policies?.deferred.length ?? 0) === 0) break;
    }
    for (const name of names) expect((await policies.get(name)).status?.servers[0]?.phase, name).toMatch(/done|in-progress/);
    expect((await policies.get(waiting)).deferred).toBeNull();
  });
});
