// Uploads stuck from an earlier night (issue 24 item 5): they stop counting against maxConcurrent, are reported and cleaned up, never a stranger's.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { IMAGE_FIRING_KEY, IMAGE_MADE_BY_KEY, IMAGE_SOURCE_SERVER_KEY } from "../../../src/core/model/membership.ts";
import { IMAGE_POLICY_KEY } from "../../../src/core/snapshots/policy-snapshots.ts";
import { DEFERRED_KEY } from "../../../src/store/tick-state.ts";
import { deleteAllGroups, deleteAllPolicies } from "../../support/rules.ts";
import { night, policyRules, world } from "./world.ts";

afterEach(async () => {
  await deleteAllPolicies();
  await deleteAllGroups();
  await env.RULES.delete(DEFERRED_KEY);
});

/** One server, maxConcurrent 1, graceHours 2; the 21st's upload never finishes. */
async function stuckNight() {
  const w = world();
  const db = w.fake.seedServer({ name: "db", metadata: { backup: "nightly" } });
  await w.policies.put("pets", policyRules({ maxConcurrent: 1, graceHours: 2 }), { author: "alice" });
  w.fake.addFault({ kind: "snapshotStuck", times: 1 });
  await w.tick("2026-11-21T01:31:00Z");
  await w.tick("2026-11-21T03:00:00Z");
  const stuck = w.fake.imageSnapshots().find((i) => i.properties[IMAGE_POLICY_KEY] === "pets")!;
  expect(stuck.status).toBe("saving");
  return { ...w, db, stuck };
}

describe("an upload stuck from an earlier night", () => {
  it("no longer fills maxConcurrent: the next night's snapshot is taken", async () => {
    const { tick, snapshotsOf, db } = await stuckNight();
    const next = await tick("2026-11-22T01:31:00Z");
    const record = next.policies?.records[0]?.record;
    expect(record?.steps.filter((s) => s.kind === "snapshot").map((s) => s.serverId)).toEqual([db.id]);
    expect(snapshotsOf("pets")).toContain(`${db.id}@${night(22)}`);
  });

  it("is reported in the run's status (server, since) and as a notice", async () => {
    const { tick, policies, stuck, db } = await stuckNight();
    await tick("2026-11-22T01:31:00Z");
    const { lastRun } = await policies.get("pets");
    expect(lastRun?.status?.stuck).toEqual([{ imageId: stuck.id, imageName: stuck.name, serverId: db.id, status: "saving", since: "2026-11-21T01:31:00Z", firing: night(21) }]);
    expect(lastRun?.status?.inFlight).toBe(1); // the 22nd's, not the stuck one
    expect(lastRun?.notices.find((n) => n.code === "snapshot-stuck")?.message).toContain(db.id);
  });

  it("is deleted, with an activity line naming it stuck and its server", async () => {
    const { tick, policies, fake, stuck, db } = await stuckNight();
    await tick("2026-11-22T01:31:00Z");
    expect(fake.images.has(stuck.id)).toBe(false);
    const activity = await policies.activity("pets", 50);
    const line = activity.find((a) => a.kind === "image-deleted" && a.imageId === stuck.id);
    expect(line?.reason).toContain("stuck upload");
    expect(line?.reason).toContain(db.id);
  });

  it("a stranger's image stuck as long (another policy's, an operator's, a look-alike) is never touched", async () => {
    const { tick, fake, foreignImage, db } = await stuckNight();
    const foreign = [
      foreignImage("operator-upload", { note: "by hand" }),
      foreignImage("other-policy", { [IMAGE_MADE_BY_KEY]: "novascale", [IMAGE_POLICY_KEY]: "other", [IMAGE_SOURCE_SERVER_KEY]: db.id, [IMAGE_FIRING_KEY]: night(20) }),
      foreignImage("look-alike", { [IMAGE_POLICY_KEY]: "pets", [IMAGE_SOURCE_SERVER_KEY]: db.id, [IMAGE_FIRING_KEY]: night(20) }),
    ];
    for (const id of foreign) fake.images.get(id)!.status = "saving";
    await tick("2026-11-22T01:31:00Z");
    await tick("2026-11-22T01:36:00Z");
    for (const id of foreign) expect(fake.images.get(id)?.status).toBe("saving");
  });

  it("an upload of the latest firing, however slow, still counts and is kept", async () => {
    const { fake, tick, policies } = world();
    fake.seedServer({ name: "db", metadata: { backup: "nightly" } });
    fake.seedServer({ name: "web", metadata: { backup: "nightly" } });
    await policies.put("pets", policyRules({ maxConcurrent: 1, graceHours: 2 }), { author: "alice" });
    fake.addFault({ kind: "snapshotStuck", times: 1 });
    await tick("2026-11-21T01:31:00Z");
    const late = await tick("2026-11-21T04:00:00Z"); // past graceHours, same firing
    expect(late.policies?.records[0]?.record?.status?.inFlight).toBe(1);
    expect(late.policies?.records[0]?.record?.status?.stuck).toEqual([]);
    expect(fake.imageSnapshots().filter((i) => i.status === "saving")).toHaveLength(1);
  });
});
