// Retention's guard at prune time (issue 24 item 4): what a group's current rules name is kept, whatever the KV index the tick read says.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { GroupRulesSchema } from "../../../src/config/group.ts";
import { IMAGE_FIRING_KEY, IMAGE_SOURCE_SERVER_KEY } from "../../../src/core/model/membership.ts";
import { IMAGE_POLICY_KEY } from "../../../src/core/snapshots/policy-snapshots.ts";
import { INDEX_KEY } from "../../../src/store/rules.ts";
import { DEFERRED_KEY } from "../../../src/store/tick-state.ts";
import { deleteAllGroups, deleteAllPolicies } from "../../support/rules.ts";
import { night, policyRules, world } from "./world.ts";

afterEach(async () => {
  await deleteAllPolicies();
  await deleteAllGroups();
  await env.RULES.delete(DEFERRED_KEY);
});

/** Eight nights of db's snapshots under keepLast 100, then the policy's real retention (keepDaily 3, keepWeekly 2). */
async function history() {
  const w = world();
  const db = w.fake.seedServer({ name: "db", metadata: { backup: "nightly" } });
  const put = await w.policies.put("pets", policyRules({ retention: { keepLast: 100 } }), { author: "alice" });
  for (let day = 21; day <= 28; day++) {
    await w.tick(`2026-11-${day}T01:31:00Z`);
    await w.tick(`2026-11-${day}T01:36:00Z`);
  }
  await w.tick("2026-11-29T01:31:00Z");
  await w.policies.put("pets", policyRules(), { author: "alice", ifMatch: put.etag });
  // db's snapshot of the 23rd: not kept by keepDaily 3 / keepWeekly 2 (db keeps 22, 27, 28, 29).
  const target = w.fake.imageSnapshots().find((i) => i.properties[IMAGE_POLICY_KEY] === "pets" && i.properties[IMAGE_SOURCE_SERVER_KEY] === db.id && i.properties[IMAGE_FIRING_KEY] === night(23))!;
  return { ...w, db, target };
}

const restoreRules = (image: string | { id: string }) => GroupRulesSchema.parse({ image, flavor: "m1.tiny", max: 1, default: 0, networks: "none" });

describe("the retention guard reads the registry's current rules when it prunes", () => {
  it("a group re-pointed at a snapshot after the tick read the KV index keeps that snapshot (by name)", async () => {
    const { groups, tick, target, fake } = await history();
    await groups.putGroup("restore", restoreRules("cirros"), { author: "alice" });
    const stale = await env.RULES.get(INDEX_KEY, "text");
    await groups.putGroup("restore", restoreRules(target.name), { author: "bob" });
    // KV lags: the tick reads the index from before the re-point.
    await env.RULES.put(INDEX_KEY, stale!);
    await tick("2026-11-29T01:36:00Z");
    expect(fake.imageSnapshots().some((i) => i.id === target.id)).toBe(true);
  });

  it("the same holds for a group naming it by id, and the images nothing names are still pruned", async () => {
    const { groups, tick, target, fake, snapshotsOf } = await history();
    await groups.putGroup("restore", restoreRules("cirros"), { author: "alice" });
    const stale = await env.RULES.get(INDEX_KEY, "text");
    await groups.putGroup("restore", restoreRules({ id: target.id }), { author: "bob" });
    await env.RULES.put(INDEX_KEY, stale!);
    const before = snapshotsOf("pets").length;
    await tick("2026-11-29T01:36:00Z");
    expect(fake.imageSnapshots().some((i) => i.id === target.id)).toBe(true);
    expect(snapshotsOf("pets").length).toBeLessThan(before);
  });

  it("the preview holds it back too, naming the group, as the run then does", async () => {
    const { groups, policies, target, fake } = await history();
    await groups.putGroup("restore", restoreRules("cirros"), { author: "alice" });
    const stale = await env.RULES.get(INDEX_KEY, "text");
    await groups.putGroup("restore", restoreRules(target.name), { author: "bob" });
    await env.RULES.put(INDEX_KEY, stale!);
    fake.setTime("2026-11-29T01:36:00Z");
    const preview = await policies.retention("pets", new Date("2026-11-29T01:36:00Z"));
    const shown = preview.images.find((i) => i.id === target.id);
    expect(shown).toMatchObject({ action: "keep", heldBack: true });
    expect(shown?.reason).toContain("'restore'");
  });
});
