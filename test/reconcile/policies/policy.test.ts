// Snapshot policies (issue 18): the pure planner, one rule per test, and nine nights on the fake cloud through the real client.
import { describe, expect, it } from "vitest";
import { SnapshotPolicyRulesSchema, type SnapshotPolicyRulesInput } from "../../../src/config/snapshot-policy.ts";
import { IMAGE_FIRING_KEY, IMAGE_MADE_BY_KEY, IMAGE_SOURCE_SERVER_KEY } from "../../../src/core/model/membership.ts";
import { IMAGE_POLICY_KEY, planPolicySnapshots, type PolicyPlanInput } from "../../../src/core/snapshots/policy-snapshots.ts";
import { retentionGuard } from "../../../src/core/snapshots/retention.ts";
import type { ObservedImage } from "../../../src/core/model/types.ts";
import { runPolicyTick } from "../../../src/reconcile/policies/policy-snapshots.ts";
import { NO_GUARD, server } from "../../core/snapshots/builders.ts";
import { fakeClient } from "../groups/snapshot-world.ts";

const rulesOf = (extra: Partial<SnapshotPolicyRulesInput> = {}) =>
  SnapshotPolicyRulesSchema.parse({ select: { metadata: { backup: "nightly" } }, cron: "30 1 * * *", retention: { keepDaily: 3, keepWeekly: 2 }, ...extra });
const pet = (id: string, extra: Parameters<typeof server>[0] = { id }) => server({ group: null, metadata: { backup: "nightly" }, ...extra, id });

function policyImage(o: { id: string; source: string; firing: string; status?: string; policy?: string; extra?: Record<string, string> }): ObservedImage {
  return {
    id: o.id,
    name: `img-${o.id}`,
    status: o.status ?? "active",
    created: o.firing,
    properties: { [IMAGE_MADE_BY_KEY]: "novascale", [IMAGE_POLICY_KEY]: o.policy ?? "pets", [IMAGE_SOURCE_SERVER_KEY]: o.source, [IMAGE_FIRING_KEY]: o.firing, ...o.extra },
  };
}
const night = (day: number) => `2026-11-${String(day).padStart(2, "0")}T01:30:00.000Z`;

function plan(o: Partial<PolicyPlanInput> = {}) {
  return planPolicySnapshots({ name: "pets", rules: rulesOf(), servers: [pet("db"), pet("jump")], images: [], now: new Date("2026-11-29T01:31:00Z"), guard: NO_GUARD, ...o });
}

describe("snapshot policy rules", () => {
  it("needs a retention rule", () => {
    const parsed = SnapshotPolicyRulesSchema.safeParse({ select: { group: "web" }, cron: "30 1 * * *", retention: {} });
    expect(parsed.success).toBe(false);
  });
  it("refuses selecting by novascale's own keys, pointing to select.group", () => {
    const parsed = SnapshotPolicyRulesSchema.safeParse({ select: { metadata: { "novascale:group": "web" } }, cron: "30 1 * * *", retention: { keepLast: 1 } });
    expect(parsed.success ? "" : parsed.error.issues[0]?.message).toContain('"group"');
  });
});

describe("planPolicySnapshots", () => {
  it("takes one snapshot of each selected server per firing, marked with the policy, the server and the firing", () => {
    const steps = plan().steps.filter((s) => s.kind === "snapshot");
    expect(steps.map((s) => (s.kind === "snapshot" ? [s.serverId, s.firing] : []))).toEqual([["db", night(29)], ["jump", night(29)]]);
  });

  it("never selects a server whose metadata does not match", () => {
    const steps = plan({ servers: [pet("db"), server({ id: "other", group: null, metadata: { backup: "weekly" } })] }).steps;
    expect(steps.map((s) => (s.kind === "snapshot" ? s.serverId : ""))).toEqual(["db"]);
  });

  it("selects a group's members with select.group", () => {
    const steps = plan({ rules: rulesOf({ select: { group: "web" } }), servers: [server({ id: "w1", group: "web" }), pet("db")] }).steps;
    expect(steps.map((s) => (s.kind === "snapshot" ? s.serverId : ""))).toEqual(["w1"]);
  });

  it("takes at most maxConcurrent at once, counting those in flight; the rest wait for a later tick", () => {
    const saving = policyImage({ id: "x", source: "db", firing: night(29), status: "saving" });
    const result = plan({ rules: rulesOf({ maxConcurrent: 2 }), servers: [pet("a1"), pet("a2"), pet("db")], images: [saving] });
    expect(result.steps.filter((s) => s.kind === "snapshot")).toHaveLength(1);
    expect(result.status.servers.map((s) => s.phase)).toEqual(["due", "waiting", "in-progress"]);
  });

  it("says so when it selects no server at all", () => {
    const result = plan({ servers: [server({ id: "other", group: null, metadata: { backup: "weekly" } })] });
    expect(result.notices.find((n) => n.code === "selects-nothing")?.message).toContain("backup=nightly");
  });

  it("takes none while a server is busy (a task under way) and says so", () => {
    expect(plan({ servers: [pet("db", { id: "db", taskState: "image_uploading" })] }).status.servers[0]?.phase).toBe("busy");
  });

  it("marks a server stale when its newest snapshot is older than two firings", () => {
    const old = policyImage({ id: "o", source: "db", firing: night(25) });
    const result = plan({ servers: [pet("db")], images: [old] });
    expect(result.status.health).toBe("stale");
    expect(result.notices.map((n) => n.code)).toContain("snapshots-stale");
  });

  it("keeps per server what restic keeps, and deletes the rest with the reason", () => {
    const images = [21, 22, 23, 24, 25, 26, 27, 28, 29].map((d) => policyImage({ id: `db-${d}`, source: "db", firing: night(d) }));
    const result = plan({ servers: [pet("db")], images });
    expect(result.retention.filter((d) => d.action === "keep").map((d) => d.image.id)).toEqual(["db-29", "db-28", "db-27", "db-22"]);
    expect(result.retention.find((d) => d.image.id === "db-22")?.reason).toBe("weekly 2026-W47");
  });

  it("never decides on images without this policy's marks", () => {
    const other = policyImage({ id: "other", source: "db", firing: night(1), policy: "other" });
    expect(plan({ images: [other] }).retention).toEqual([]);
  });

  it("refuses to prune a volume-backed snapshot (its Cinder volume snapshots would leak) and reports it", () => {
    const bdm = { block_device_mapping: '[{"source_type": "snapshot", "snapshot_id": "c1"}]' };
    const images = [20, 27, 28, 29].map((d) => policyImage({ id: `db-${d}`, source: "db", firing: night(d), ...(d === 20 ? { extra: bdm } : {}) }));
    const result = plan({ servers: [pet("db")], images, rules: rulesOf({ retention: { keepLast: 1 } }) });
    expect(result.steps.flatMap((s) => (s.kind === "deleteImage" ? [s.imageId] : []))).toEqual(["db-27", "db-28"]);
    expect(result.notices.map((n) => n.code)).toContain("snapshot-volume-backed");
  });

  it("never deletes an image a server was booted from", () => {
    const images = [27, 28, 29].map((d) => policyImage({ id: `db-${d}`, source: "db", firing: night(d) }));
    const guard = retentionGuard([], [{ imageId: "db-27" }]);
    const result = plan({ servers: [pet("db")], images, rules: rulesOf({ retention: { keepLast: 1 } }), guard });
    expect(result.steps.flatMap((s) => (s.kind === "deleteImage" ? [s.imageId] : []))).toEqual(["db-28"]);
  });

  it("prunes none of a server's snapshots before its own snapshot of the latest firing is active (another server's does not count)", () => {
    // db got its slot for the 24th; jump waits for it (maxConcurrent 1): jump's 20th must stay until jump's 24th is active.
    const images = [
      ...[20, 21, 22, 23, 24].map((d) => policyImage({ id: `db-${d}`, source: "db", firing: night(d) })),
      ...[20, 21, 22, 23].map((d) => policyImage({ id: `jump-${d}`, source: "jump", firing: night(d) })),
    ];
    const result = plan({ rules: rulesOf({ maxConcurrent: 1, retention: { keepDaily: 3 } }), images, now: new Date("2026-11-24T01:40:00Z") });
    expect(result.steps.map((s) => (s.kind === "snapshot" ? `snapshot ${s.serverId}` : `delete ${s.imageId}`)).sort()).toEqual(["delete db-20", "delete db-21", "snapshot jump"]);
    expect(result.retention.find((d) => d.image.id === "jump-20")?.reason).toMatch(/^waits: server jump's snapshot for .* is not active yet/);
  });

  it("prunes a gone server's snapshots by the same rules once the firing is served, keeping its last one", () => {
    const images = [
      ...[20, 21, 22, 23].map((d) => policyImage({ id: `gone-${d}`, source: "gone", firing: night(d) })),
      policyImage({ id: "db-24", source: "db", firing: night(24) }),
    ];
    const result = plan({ servers: [pet("db")], rules: rulesOf({ retention: { keepLast: 1 } }), images, now: new Date("2026-11-24T01:40:00Z") });
    expect(result.steps.flatMap((s) => (s.kind === "deleteImage" ? [s.imageId] : [])).sort()).toEqual(["gone-20", "gone-21", "gone-22"]);
  });

  it("a paused policy takes and deletes nothing", () => {
    const images = [21, 22, 23, 24, 25, 26, 27, 28].map((d) => policyImage({ id: `db-${d}`, source: "db", firing: night(d) }));
    const result = plan({ rules: rulesOf({ paused: true }), images, now: new Date("2026-11-28T02:00:00Z") });
    expect(result.steps).toEqual([]);
    expect(result.status.health).toBe("paused");
  });
});

describe("a snapshot policy on the fake cloud, through the real client", () => {
  it("9 nights with keepDaily 3, keepWeekly 2: one snapshot per selected server per night, each keeps exactly restic's firings; others untouched", async () => {
    const { fake, client, cloud, foreignImage } = fakeClient({ startAt: "2026-11-20T12:00:00Z" });
    const db = fake.seedServer({ name: "db", metadata: { backup: "nightly" } });
    const jump = fake.seedServer({ name: "jump", metadata: { backup: "nightly" } });
    const stranger = fake.seedServer({ name: "stranger", metadata: { backup: "never" } });
    const operators = foreignImage("operator-backup", { note: "made by hand" });
    const rules = rulesOf();
    const taken: string[] = [];
    for (let day = 21; day <= 29; day++) {
      for (const at of [`2026-11-${day}T01:31:00Z`, `2026-11-${day}T01:36:00Z`]) {
        fake.setTime(at);
        const servers = await client.listServers();
        const tick = await runPolicyTick({ cloud, name: "pets", rules, servers, now: new Date(at), guard: retentionGuard([], servers) });
        expect(tick.errors).toEqual([]);
        taken.push(...tick.activity.filter((a) => a.kind === "snapshot").map((a) => `${a.serverIds?.[0]}@${day}`));
      }
    }
    expect(taken).toHaveLength(18);
    const images = fake.imageSnapshots();
    const firingsOf = (serverId: string) =>
      images.filter((i) => i.properties[IMAGE_POLICY_KEY] === "pets" && i.properties[IMAGE_SOURCE_SERVER_KEY] === serverId).map((i) => i.properties[IMAGE_FIRING_KEY]).sort();
    const restic = [22, 27, 28, 29].map(night);
    expect(firingsOf(db.id)).toEqual(restic);
    expect(firingsOf(jump.id)).toEqual(restic);
    expect(firingsOf(stranger.id)).toEqual([]);
    expect(images.map((i) => i.id)).toContain(operators);
    expect(fake.imageSnapshots().find((i) => i.name === "cirros")).toBeDefined();
  });

  it("4 nights in one ISO week with keepDaily 3, keepWeekly 2: the weekly rule's count left keeps the oldest night too (restic >= 0.16)", async () => {
    const { fake, client, cloud } = fakeClient({ startAt: "2026-11-22T12:00:00Z" });
    const db = fake.seedServer({ name: "db", metadata: { backup: "nightly" } });
    for (let day = 23; day <= 26; day++) {
      for (const at of [`2026-11-${day}T01:31:00Z`, `2026-11-${day}T01:36:00Z`]) {
        fake.setTime(at);
        const servers = await client.listServers();
        const tick = await runPolicyTick({ cloud, name: "pets", rules: rulesOf(), servers, now: new Date(at), guard: retentionGuard([], servers) });
        expect(tick.errors).toEqual([]);
      }
    }
    const firings = fake.imageSnapshots().filter((i) => i.properties[IMAGE_POLICY_KEY] === "pets" && i.properties[IMAGE_SOURCE_SERVER_KEY] === db.id).map((i) => i.properties[IMAGE_FIRING_KEY]).sort();
    expect(firings).toEqual([23, 24, 25, 26].map(night));
  });
});
