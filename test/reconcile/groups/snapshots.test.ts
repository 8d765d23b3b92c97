// The snapshot executor against the fake cloud, through the real OpenStack client: ticks, faults, retention.
import { describe, expect, it } from "vitest";
import { SnapshotPolicySchema, type SnapshotPolicy } from "../../../src/config/group.ts";
import { OpenStackSettingsSchema } from "../../../src/config/env.ts";
import { GROUP_KEY, IMAGE_FIRING_KEY, IMAGE_GROUP_KEY, IMAGE_MADE_BY_KEY, IMAGE_SOURCE_SERVER_KEY } from "../../../src/core/model/membership.ts";
import type { ManualRequest, ManualSnapshotRecord } from "../../../src/core/snapshots/manual-snapshots.ts";
import { retentionGuard } from "../../../src/core/snapshots/retention.ts";
import type { SnapshotAttempts } from "../../../src/core/snapshots/snapshots.ts";
import type { ObservedServer } from "../../../src/core/model/types.ts";
import { createComputeCloud } from "../../../src/openstack/compute-cloud.ts";
import { CloudGateway } from "../../../src/reconcile/gateway/gateway.ts";
import { listSnapshots, runSnapshotTick, takeSnapshotNow, type SnapshotTickResult } from "../../../src/reconcile/groups/snapshots.ts";
import type { FakeCloudOptions, ImageSnapshot } from "../../fake-cloud/index.ts";
import { fakeClient } from "./snapshot-world.ts";

const GROUP = "web";
/** 02:30 UTC every night. */
const NIGHTLY = { cron: "30 2 * * *", timezone: "UTC" };

function policy(extra: Partial<Parameters<typeof SnapshotPolicySchema.parse>[0]> = {}): SnapshotPolicy {
  return SnapshotPolicySchema.parse({ ...NIGHTLY, keep: 3, ...extra });
}

/** The fake cloud, the real client over it (virtual clock, no real sleeping), and a group's remembered attempts. */
function world(options: FakeCloudOptions = {}, authPath = "/identity/v3") {
  const { fake, client, cloud, foreignImage } = fakeClient(options, authPath);
  let attempts: SnapshotAttempts | undefined;

  const members = async (): Promise<ObservedServer[]> => (await client.listServers()).filter((s) => s.metadata[GROUP_KEY] === GROUP);
  /** One tick at `at`: the fake's clock moves there first, so images settle as they would have by then. */
  const tick = async (at: string, p: SnapshotPolicy = policy()): Promise<SnapshotTickResult> => {
    fake.setTime(at);
    // The cron tick's guard: the group's image by name, and every server's image, from the project-wide listing.
    const guard = retentionGuard([{ name: GROUP, image: "cirros" }], await client.listServers());
    const result = await runSnapshotTick({ cloud, group: GROUP, policy: p, members: await members(), attempts, now: new Date(at), guard });
    attempts = result.attempts;
    return result;
  };
  const images = (): ImageSnapshot[] => fake.imageSnapshots().filter((i) => i.name !== "cirros");
  const ownImages = (): ImageSnapshot[] => images().filter((i) => i.properties[IMAGE_MADE_BY_KEY] === "novascale" && i.properties[IMAGE_GROUP_KEY] === GROUP);
  const member = (name: string, createdAt = "2026-10-01T00:00:00Z") => fake.seedServer({ name, metadata: { [GROUP_KEY]: GROUP }, createdAt });
  return { fake, client, cloud, tick, images, ownImages, member, foreignImage, attempts: () => attempts };
}

const kinds = (r: SnapshotTickResult) => r.activity.map((a) => a.kind);

describe("runSnapshotTick on the fake cloud", () => {
  it("takes a snapshot with createImage on the first tick after the firing, marked with group, source and firing", async () => {
    const w = world();
    const a = w.member("web-1");
    const r = await w.tick("2026-11-02T02:31:00Z");
    expect(kinds(r)).toEqual(["snapshot"]);
    const own = w.ownImages();
    expect(own).toHaveLength(1);
    expect(own[0]!.properties[IMAGE_SOURCE_SERVER_KEY]).toBe(a.id);
    expect(own[0]!.properties[IMAGE_FIRING_KEY]).toBe("2026-11-02T02:30:00.000Z");
    expect(r.results[0]?.imageId).toBe(own[0]!.id);
  });

  it("takes no second snapshot on a duplicate tick while the first is saving", async () => {
    const w = world();
    w.member("web-1");
    w.member("web-2", "2026-10-02T00:00:00Z");
    await w.tick("2026-11-02T02:31:00Z");
    const again = await w.tick("2026-11-02T02:31:05Z");
    expect(again.results).toEqual([]);
    expect(w.ownImages()).toHaveLength(1);
  });

  it("confirms the snapshot once it is active, and only once", async () => {
    const w = world();
    w.member("web-1");
    await w.tick("2026-11-02T02:31:00Z");
    const second = await w.tick("2026-11-02T02:32:00Z");
    const third = await w.tick("2026-11-02T02:33:00Z");
    expect(kinds(second)).toEqual(["snapshot-confirmed"]);
    expect(kinds(third)).toEqual([]);
    expect(w.ownImages().map((i) => i.status)).toEqual(["active"]);
  });

  it("catches up a missed night: the first tick hours later takes that night's snapshot", async () => {
    const w = world();
    w.member("web-1");
    const r = await w.tick("2026-11-02T06:10:00Z");
    expect(kinds(r)).toEqual(["snapshot"]);
    expect(w.ownImages()[0]!.properties[IMAGE_FIRING_KEY]).toBe("2026-11-02T02:30:00.000Z");
  });

  it("records a createImage failure and retries on the next tick", async () => {
    const w = world();
    w.member("web-1");
    const fault = w.fake.addFault({ kind: "randomErrors", rate: 1, statuses: [403], service: "compute", method: "POST", path: "/action$" });
    const failed = await w.tick("2026-11-02T02:31:00Z");
    expect(kinds(failed)).toEqual(["snapshot-failed"]);
    expect(failed.errors).toHaveLength(1);
    expect(w.attempts()).toMatchObject({ attempts: 1 });
    expect(w.ownImages()).toEqual([]);
    w.fake.removeFault(fault);
    const retried = await w.tick("2026-11-02T02:32:00Z");
    expect(kinds(retried)).toEqual(["snapshot"]);
    expect(retried.steps[0]).toMatchObject({ kind: "snapshot", attempt: 2 });
  });

  it("records an image that ended killed as a failure, retries from another member, and cleans it up after success", async () => {
    const w = world();
    w.member("web-1");
    w.member("web-2", "2026-10-02T00:00:00Z");
    w.fake.addFault({ kind: "snapshotKilled", times: 1 });
    await w.tick("2026-11-02T02:31:00Z");
    const afterKill = await w.tick("2026-11-02T02:32:00Z");
    expect(kinds(afterKill)).toEqual(["snapshot-failed", "snapshot"]);
    const killed = w.ownImages().find((i) => i.status === "killed")!;
    const retry = w.ownImages().find((i) => i.status !== "killed")!;
    expect(retry.properties[IMAGE_SOURCE_SERVER_KEY]).not.toBe(killed.properties[IMAGE_SOURCE_SERVER_KEY]);
    const confirmed = await w.tick("2026-11-02T02:33:00Z");
    expect(kinds(confirmed)).toEqual(["snapshot-confirmed", "image-deleted"]);
    expect(w.ownImages().map((i) => i.id)).toEqual([retry.id]);
  });

  it("gives up after maxAttempts killed images and reports it, taking nothing more", async () => {
    const w = world();
    w.member("web-1");
    w.fake.addFault({ kind: "snapshotKilled", times: 5 });
    const p = policy({ maxAttempts: 2 });
    await w.tick("2026-11-02T02:31:00Z", p);
    await w.tick("2026-11-02T02:32:00Z", p);
    const exhausted = await w.tick("2026-11-02T02:33:00Z", p);
    expect(exhausted.results).toEqual([]);
    expect(exhausted.notices.map((n) => n.code)).toEqual(["snapshot-attempts-exhausted"]);
    expect(w.ownImages()).toHaveLength(2);
  });

  it("once the night is served and pruned, later ticks make no cloud call until the next firing", async () => {
    const w = world();
    w.member("web-1");
    await w.tick("2026-11-02T02:31:00Z");
    await w.tick("2026-11-02T02:32:00Z");
    // The tick's own server listing (shared with scaling) aside, the snapshot half asks nothing.
    const members = (await w.client.listServers()).filter((s) => s.metadata[GROUP_KEY] === GROUP);
    w.fake.resetStats();
    const quiet = await runSnapshotTick({ cloud: w.cloud, group: GROUP, policy: policy(), members, attempts: w.attempts(), now: new Date("2026-11-02T02:33:00Z") });
    expect(quiet.settled).toBe(true);
    expect(w.fake.stats().total).toBe(0);
    const nextNight = await w.tick("2026-11-03T02:31:00Z");
    expect(kinds(nextNight)).toEqual(["snapshot"]);
  });

  it("does nothing when the image listing fails (it cannot know whether tonight's exists)", async () => {
    const w = world();
    w.member("web-1");
    w.fake.addFault({ kind: "randomErrors", rate: 1, statuses: [403], service: "image", method: "GET" });
    const r = await w.tick("2026-11-02T02:31:00Z");
    expect(r.results).toEqual([]);
    expect(r.errors).toHaveLength(1);
    expect(w.ownImages()).toEqual([]);
  });

  for (const era of [
    { label: "modern (2.93: image id in the body)", options: {}, authPath: "/identity/v3", numericIds: false },
    { label: "pre-2.45 (image id in Location)", options: { maxMicroversion: "2.44" }, authPath: "/identity/v3", numericIds: false },
    {
      label: "the book's cloud (Keystone v2.0, Compute v1.1 with numeric ids, Nova's image proxy, 5 metadata items)",
      options: { mode: "book" as const, keystoneV2Style: "book" as const },
      authPath: "/identity/v2.0",
      numericIds: true,
    },
  ]) {
    it(`keep+1 nightly ticks leave exactly keep snapshots, all novascale's, and a foreign image untouched: ${era.label}`, async () => {
      const w = world(era.options, era.authPath);
      w.member("web-1");
      const operators = w.foreignImage("operator-backup", { note: "made by hand" });
      const otherGroup = w.foreignImage("api-snapshot-20261101T0230Z", {
        [IMAGE_MADE_BY_KEY]: "novascale",
        [IMAGE_GROUP_KEY]: "api",
        [IMAGE_FIRING_KEY]: "2026-11-01T02:30:00.000Z",
      });
      const keep = 3;
      for (let night = 2; night <= 2 + keep; night++) {
        const day = String(night).padStart(2, "0");
        const before = new Set(w.ownImages().map((i) => i.id));
        const taken = await w.tick(`2026-11-${day}T02:31:00Z`, policy({ keep }));
        const created = w.ownImages().filter((i) => !before.has(i.id));
        // The id as this era's API names the image: a UUID, or the book's number.
        const apiIds = created.map((i) => (era.numericIds ? String(w.fake.images.get(i.id)!.numericId) : i.id));
        expect(taken.results.filter((x) => x.step.kind === "snapshot" && x.outcome === "done").map((x) => x.imageId)).toEqual(apiIds);
        await w.tick(`2026-11-${day}T02:35:00Z`, policy({ keep }));
      }
      const own = w.ownImages();
      expect(own).toHaveLength(keep);
      expect(own.every((i) => i.status === "active")).toBe(true);
      expect(own.map((i) => i.properties[IMAGE_FIRING_KEY]).sort()).toEqual([
        "2026-11-03T02:30:00.000Z",
        "2026-11-04T02:30:00.000Z",
        "2026-11-05T02:30:00.000Z",
      ]);
      const ids = w.images().map((i) => i.id);
      expect(ids).toContain(operators);
      expect(ids).toContain(otherGroup);
    });
  }

  it("keeps retention per group across member replacement: the old server's snapshots are pruned by age", async () => {
    const w = world();
    const old = w.member("web-old");
    for (const day of ["02", "03"]) {
      await w.tick(`2026-11-${day}T02:31:00Z`, policy({ keep: 2 }));
      await w.tick(`2026-11-${day}T02:35:00Z`, policy({ keep: 2 }));
    }
    await w.client.deleteServer(old.id);
    w.fake.advance(60_000);
    const fresh = w.member("web-new", "2026-11-03T12:00:00Z");
    await w.tick("2026-11-04T02:31:00Z", policy({ keep: 2 }));
    await w.tick("2026-11-04T02:35:00Z", policy({ keep: 2 }));
    const own = w.ownImages();
    expect(own.map((i) => i.properties[IMAGE_FIRING_KEY]).sort()).toEqual(["2026-11-03T02:30:00.000Z", "2026-11-04T02:30:00.000Z"]);
    expect(own.find((i) => i.properties[IMAGE_FIRING_KEY] === "2026-11-04T02:30:00.000Z")?.properties[IMAGE_SOURCE_SERVER_KEY]).toBe(fresh.id);
  });
});

describe("listSnapshots and takeSnapshotNow on the fake cloud", () => {
  it("lists the group's own snapshots newest first with the policy's phase, and no foreign image", async () => {
    const w = world();
    w.member("web-1");
    w.foreignImage("operator-backup", {});
    await w.tick("2026-11-02T02:31:00Z");
    w.fake.setTime("2026-11-02T02:40:00Z");
    const answer = await listSnapshots({ cloud: w.cloud, group: GROUP, policy: policy(), attempts: w.attempts(), now: new Date("2026-11-02T02:40:00Z") });
    if (!answer.ok) throw new Error(answer.error.message);
    expect(answer.value.snapshots.map((s) => s.status)).toEqual(["active"]);
    expect(answer.value.status?.phase).toBe("done");
  });

  it("takes a manual snapshot now, which does not stand in for the nightly one", async () => {
    const w = world();
    w.member("web-1");
    w.fake.setTime("2026-11-02T14:00:00Z");
    const taken = await takeSnapshotNow({ cloud: w.cloud, group: GROUP, policy: policy(), author: "alice", now: new Date("2026-11-02T14:00:00Z") });
    expect(taken.error).toBeNull();
    expect(taken.activity.map((a) => a.kind)).toEqual(["snapshot"]);
    expect(w.ownImages()[0]?.name).toBe("web-snapshot-manual-20261102T1400Z");
    const night = await w.tick("2026-11-03T02:31:00Z");
    expect(kinds(night)).toEqual(["snapshot"]);
  });
});

describe("a manual snapshot request is idempotent (case 4)", () => {
  const take = (w: ReturnType<typeof world>, log: ManualSnapshotRecord[], at: string, request: ManualRequest = {}) => {
    w.fake.setTime(at);
    return takeSnapshotNow({ cloud: w.cloud, group: GROUP, policy: policy(), author: "alice", now: new Date(at), request, log });
  };

  it("a repeat at once answers the snapshot in progress instead of snapshotting another member", async () => {
    const w = world();
    w.member("web-1", "2026-10-01T00:00:00Z");
    w.member("web-2", "2026-10-02T00:00:00Z");
    const first = await take(w, [], "2026-11-02T14:00:00Z");
    const again = await take(w, first.log, "2026-11-02T14:00:01Z");
    expect(again.result?.imageId).toBe(first.result?.imageId);
    expect(again.replayed).toMatch(/still (queued|saving)/);
    expect(w.ownImages()).toHaveLength(1);
  });

  it("force takes another although the first is still in progress", async () => {
    const w = world();
    w.member("web-1", "2026-10-01T00:00:00Z");
    w.member("web-2", "2026-10-02T00:00:00Z");
    const first = await take(w, [], "2026-11-02T14:00:00Z");
    const forced = await take(w, first.log, "2026-11-02T14:00:01Z", { force: true });
    expect(forced.replayed).toBeNull();
    expect(w.ownImages()).toHaveLength(2);
  });

  it("a repeat after the first one is active takes a new one", async () => {
    const w = world();
    w.member("web-1");
    const first = await take(w, [], "2026-11-02T14:00:00Z");
    const later = await take(w, first.log, "2026-11-02T14:02:00Z");
    expect(later.replayed).toBeNull();
    expect(later.result?.imageId).not.toBe(first.result?.imageId);
  });

  it("the same Idempotency-Key answers the earlier answer, even once the image is active", async () => {
    const w = world();
    w.member("web-1");
    const first = await take(w, [], "2026-11-02T14:00:00Z", { idempotencyKey: "k-1" });
    const again = await take(w, first.log, "2026-11-02T15:00:00Z", { idempotencyKey: "k-1" });
    expect(again.result?.imageId).toBe(first.result?.imageId);
    expect(again.replayed).toContain("Idempotency-Key 'k-1'");
    expect(w.ownImages()).toHaveLength(1);
  });

  it("refuses an Idempotency-Key reused with another request, taking nothing", async () => {
    const w = world();
    const one = w.member("web-1", "2026-10-01T00:00:00Z");
    const two = w.member("web-2", "2026-10-02T00:00:00Z");
    const first = await take(w, [], "2026-11-02T14:00:00Z", { idempotencyKey: "k-1", serverId: one.id });
    const reused = await take(w, first.log, "2026-11-02T14:00:05Z", { idempotencyKey: "k-1", serverId: two.id });
    expect(reused.keyReused?.imageId).toBe(first.result?.imageId);
    expect(reused.step).toBeNull();
    expect(w.ownImages()).toHaveLength(1);
  });

  it("marks a manual snapshot as such, so the nightly one is still taken and retention keeps them apart", async () => {
    const w = world();
    w.member("web-1");
    const taken = await take(w, [], "2026-11-02T02:30:00Z");
    expect(w.ownImages()[0]?.properties["novascale:kind"]).toBe("manual");
    expect(taken.step?.kind === "snapshot" && taken.step.firing).toBe("2026-11-02T02:30:00.000Z");
    const night = await w.tick("2026-11-02T02:31:00Z");
    expect(kinds(night)).toEqual(["snapshot"]);
  });
});
