// Nightly snapshots through the Worker's cron handler (tick -> group Durable Object -> snapshots) on an isolated fake cloud.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, inject, it } from "vitest";
import type { Env } from "../../../src/config/env.ts";
import { GroupRulesSchema, type GroupRulesInput } from "../../../src/config/group.ts";
import { GROUP_KEY, IMAGE_FIRING_KEY, IMAGE_GROUP_KEY, IMAGE_MADE_BY_KEY } from "../../../src/core/model/membership.ts";
import worker from "../../../src/index.ts";
import { createGroupService } from "../../../src/reconcile/services/group-service.ts";
import { deleteAllGroups } from "../../support/rules.ts";
import { FakeCloudControl } from "../../fake-cloud/control.ts";

function rules(extra: Partial<GroupRulesInput> = {}) {
  return GroupRulesSchema.parse({ image: "cirros", flavor: "m1.tiny", min: 1, max: 1, default: 1, networks: "none", ...extra });
}

async function world() {
  const cloud = await FakeCloudControl.isolated(inject("fakeCloudUrl"), { clock: "manual", startAt: "2026-11-01T20:00:00Z", buildMs: 5_000, snapshotMs: 10_000 });
  const workerEnv: Env = { ...env, OS_AUTH_URL: cloud.authUrl };
  const service = createGroupService(workerEnv);
  const tick = async (at: string) => {
    await cloud.setTime(at);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: new Date(at), cron: "* * * * *" }), workerEnv, ctx);
    await waitOnExecutionContext(ctx);
  };
  const snapshotsOf = async (group: string) =>
    (await cloud.images()).filter((i) => i.properties[IMAGE_MADE_BY_KEY] === "novascale" && i.properties[IMAGE_GROUP_KEY] === group);
  return { cloud, service, tick, snapshotsOf };
}

// Storage is shared by the tests of this file: each test's groups go, so later ticks see only their own.
afterEach(deleteAllGroups);

describe("nightly snapshots on cron ticks", () => {
  it("keep+1 nights of ticks leave exactly keep active snapshots; a server outside the group and the base image are untouched", async () => {
    const { cloud, service, tick, snapshotsOf } = await world();
    const keep = 2;
    await service.putGroup("nightly", rules({ snapshots: { cron: "30 2 * * *", timezone: "UTC", keep } }), { author: "alice" });
    await tick("2026-11-01T20:00:00Z"); // boots the group's server
    await tick("2026-11-01T20:01:00Z");
    // Not ours: a server outside the group (never a snapshot source, never deleted).
    const stranger = await cloud.seedServer({ name: "stranger", metadata: {} });
    expect(stranger.metadata[GROUP_KEY]).toBeUndefined();
    for (let night = 2; night <= 2 + keep; night++) {
      await tick(`2026-11-0${night}T02:31:00Z`);
      await tick(`2026-11-0${night}T02:36:00Z`);
    }
    const kept = await snapshotsOf("nightly");
    expect(kept.map((i) => i.properties[IMAGE_FIRING_KEY]).sort()).toEqual(["2026-11-03T02:30:00.000Z", "2026-11-04T02:30:00.000Z"]);
    expect(kept.every((i) => i.status === "active")).toBe(true);
    expect((await cloud.images()).some((i) => i.name === "cirros")).toBe(true);
    expect(kept.every((i) => i.properties["novascale:source-server"] !== stranger.id)).toBe(true);
    expect((await cloud.servers()).find((s) => s.id === stranger.id)?.status).toBe("ACTIVE");

    const activity = await service.activity("nightly", 100);
    const kinds = activity.map((e) => e.kind);
    expect(kinds.filter((k) => k === "snapshot")).toHaveLength(keep + 1);
    expect(kinds.filter((k) => k === "snapshot-confirmed")).toHaveLength(keep + 1);
    expect(kinds.filter((k) => k === "image-deleted")).toHaveLength(1);
    await cloud.dispose();
  });

  it("does not snapshot the server the same tick scales in: the snapshot comes from a survivor, first time", async () => {
    const { cloud, service, tick, snapshotsOf } = await world();
    const schedules = [
      { cron: "0 20 * * *", timezone: "UTC", desired: 2 },
      { cron: "30 2 * * *", timezone: "UTC", desired: 1 },
    ];
    await service.putGroup("shrink", rules({ max: 2, schedules, snapshots: { cron: "30 2 * * *", timezone: "UTC", keep: 3 } }), { author: "alice" });
    await tick("2026-11-01T20:00:00Z");
    await tick("2026-11-01T20:01:00Z");
    await tick("2026-11-02T02:31:00Z");
    const survivors = (await cloud.servers()).filter((s) => s.metadata[GROUP_KEY] === "shrink" && s.taskState !== "deleting" && s.status !== "DELETED");
    expect(survivors).toHaveLength(1);
    const taken = await snapshotsOf("shrink");
    expect(taken.map((i) => i.properties["novascale:source-server"])).toEqual([survivors[0]!.id]);
    expect((await service.activity("shrink", 50)).map((e) => e.kind)).not.toContain("snapshot-failed");
    await cloud.dispose();
  });

  it("a paused group takes no snapshot (held back, shown as a notice) and takes it after resume within grace", async () => {
    const { cloud, service, tick, snapshotsOf } = await world();
    await service.putGroup("held", rules({ snapshots: { cron: "30 2 * * *", timezone: "UTC", keep: 3 } }), { author: "alice" });
    await tick("2026-11-01T20:00:00Z");
    await service.pause("held", "bob", "maintenance");
    await tick("2026-11-02T02:31:00Z");
    expect(await snapshotsOf("held")).toEqual([]);
    const status = await service.status("held", new Date("2026-11-02T02:31:00Z"));
    expect(status.lastTick?.notices.map((n) => n.code)).toContain("snapshots-paused");
    await service.resume("held", "bob");
    await tick("2026-11-02T04:00:00Z");
    expect(await snapshotsOf("held")).toHaveLength(1);
    await cloud.dispose();
  });

  it("a duplicate tick at the same minute takes no second snapshot", async () => {
    const { cloud, service, tick, snapshotsOf } = await world();
    await service.putGroup("dup", rules({ snapshots: { cron: "30 2 * * *", timezone: "UTC", keep: 3 } }), { author: "alice" });
    await tick("2026-11-01T20:00:00Z");
    await tick("2026-11-02T02:31:00Z");
    await tick("2026-11-02T02:31:00Z");
    expect(await snapshotsOf("dup")).toHaveLength(1);
    await cloud.dispose();
  });

  it("shows a failed snapshot (image ended killed) in the tick record and retries it on the next tick", async () => {
    const { cloud, service, tick, snapshotsOf } = await world();
    await service.putGroup("killed", rules({ snapshots: { cron: "30 2 * * *", timezone: "UTC", keep: 3 } }), { author: "alice" });
    await tick("2026-11-01T20:00:00Z");
    await cloud.addFault({ kind: "snapshotKilled", times: 1 });
    await tick("2026-11-02T02:31:00Z");
    await tick("2026-11-02T02:36:00Z");
    const statuses = (await snapshotsOf("killed")).map((i) => i.status).sort();
    expect(statuses).toEqual(["killed", "queued"]);
    const activity = await service.activity("killed", 50);
    expect(activity.map((e) => e.kind)).toContain("snapshot-failed");
    await cloud.dispose();
  });
  it("a group that boots from its own older snapshot (by id) keeps that image through keep+1 nights, and says why", async () => {
    const { cloud, service, tick, snapshotsOf } = await world();
    const keep = 2;
    const snapshots = { cron: "30 2 * * *", timezone: "UTC", keep };
    await service.putGroup("selfboot", rules({ snapshots }), { author: "alice" });
    await tick("2026-11-01T20:00:00Z");
    await tick("2026-11-02T02:31:00Z");
    await tick("2026-11-02T02:36:00Z");
    const [base] = await snapshotsOf("selfboot");
    expect(base?.status).toBe("active");
    // The group now boots from that snapshot; a server outside any group runs on another of its nights later.
    await service.putGroup("selfboot", rules({ image: { id: base!.id }, snapshots }), { author: "alice" });
    for (let night = 3; night <= 3 + keep; night++) {
      await tick(`2026-11-0${night}T02:31:00Z`);
      await tick(`2026-11-0${night}T02:36:00Z`);
    }
    const kept = await snapshotsOf("selfboot");
    expect(kept.map((i) => i.properties[IMAGE_FIRING_KEY]).sort()).toEqual(["2026-11-02T02:30:00.000Z", "2026-11-04T02:30:00.000Z", "2026-11-05T02:30:00.000Z"]);
    const activity = await service.activity("selfboot", 100);
    expect(activity.filter((e) => e.kind === "image-kept" && e.imageId === base!.id).map((e) => e.reason)).toEqual([
      expect.stringContaining("group 'selfboot' boots from it (by id)"),
      expect.stringContaining("group 'selfboot' boots from it (by id)"),
    ]);
    const listing = await service.listSnapshots("selfboot", new Date("2026-11-05T02:40:00Z"));
    expect(listing.status?.heldBack.map((h) => h.id)).toEqual([base!.id]);
    await cloud.dispose();
  });

  it("never deletes a snapshot a server outside any group was booted from", async () => {
    const { cloud, service, tick, snapshotsOf } = await world();
    await service.putGroup("pets", rules({ snapshots: { cron: "30 2 * * *", timezone: "UTC", keep: 1 } }), { author: "alice" });
    await tick("2026-11-01T20:00:00Z");
    await tick("2026-11-02T02:31:00Z");
    await tick("2026-11-02T02:36:00Z");
    const [first] = await snapshotsOf("pets");
    await cloud.seedServer({ name: "restored-by-hand", image: first!.id, metadata: {} });
    await tick("2026-11-03T02:31:00Z");
    await tick("2026-11-03T02:36:00Z");
    expect((await snapshotsOf("pets")).map((i) => i.id)).toContain(first!.id);
    const kept = (await service.activity("pets", 50)).find((e) => e.kind === "image-kept");
    expect(kept?.reason).toContain("in use by 1 server");
    await cloud.dispose();
  });
});
