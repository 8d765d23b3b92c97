// End to end on the real cloud: a snapshot policy over hand-booted servers selected by metadata, nine nights of cron ticks, restic's retention checked on Glance.
import { describe, expect, it } from "vitest";
import { testName, waitFor, type GlanceImage } from "../support/devcloud.ts";
import { useE2eWorker } from "../support/e2e.ts";
import { addDays, isoWeek, isoWeekday, localDate, resticForget, resticKeeps, zonedTime } from "../support/restic-forget.ts";

const MADE_BY_KEY = "novascale:made-by";
const POLICY_KEY = "novascale:policy";
const SOURCE_KEY = "novascale:source-server";
const FIRING_KEY = "novascale:firing";

const policy = testName("pol");
/** The selector's value is unique to this run, so no other test's servers are selected. */
const BACKUP = `nightly-${policy}`;
/**
 * Tokyo (UTC+9, no DST): 01:30 there is 16:30 UTC the day before, so the policy's days and ISO weeks differ
 * from UTC's; a Worker that bucketed in UTC (or by upload time, or over both servers at once) keeps other firings.
 */
const ZONE = "Asia/Tokyo";
const CRON = "30 1 * * *";
const RETENTION = { keepDaily: 3, keepWeekly: 2 };
const NIGHTS = 9;
const minute = 60_000;

// Nine local nights from a Tuesday to the Wednesday of the next ISO week, starting tomorrow or later, so
// that the weekly rule keeps the Sunday of the earlier week besides the three dailies.
const firstNight = (() => {
  let day = addDays(localDate(new Date(), ZONE), 1);
  while (isoWeekday(day) !== 2) day = addDays(day, 1);
  return day;
})();
const firing = (night: number): Date => zonedTime(addDays(firstNight, night), 1, 30, ZONE);
const firings = Array.from({ length: NIGHTS }, (_, n) => firing(n).toISOString());
const lastFiring = firings[NIGHTS - 1]!;

interface Servers {
  db: string;
  jump: string;
  /** Same key, another value: not selected. */
  other: string;
}
let servers: Servers;
/** Images on Glance the policy did not make: an operator's, one for another policy, one claiming this policy without novascale's mark. */
let foreign: { operator: string; otherPolicy: string; notMadeBy: string };

const e2e = useE2eWorker({
  tokenName: "e2e-policies",
  groups: () => [],
  policies: () => [policy, `${policy}-one`],
  beforeStart: async (cloud) => {
    const [db, jump, other] = await Promise.all([
      cloud.bootActive(`${policy}-db`, { backup: BACKUP }),
      cloud.bootActive(`${policy}-jump`, { backup: BACKUP }),
      cloud.bootActive(`${policy}-other`, { backup: `weekly-${policy}` }),
    ]);
    servers = { db: db, jump: jump, other: other };
    // Each claims the db server and the first night, so a Worker that ignored either mark would count it
    // into db's history (and prune it with the first night's snapshot).
    const claim = { [SOURCE_KEY]: db, [FIRING_KEY]: firings[0]! };
    const [operator, otherPolicy, notMadeBy] = await Promise.all([
      cloud.uploadImage(`${policy}-operator-backup`, { note: "made by hand" }),
      cloud.uploadImage(`${policy}-other-policy`, { [MADE_BY_KEY]: "novascale", [POLICY_KEY]: `${policy}-x`, ...claim }),
      cloud.uploadImage(`${policy}-not-made-by`, { [POLICY_KEY]: policy, ...claim }),
    ]);
    foreign = { operator, otherPolicy, notMadeBy };
  },
});
const { api, apiJson } = e2e;

/** Glance shows custom properties at the top level of an image. */
const prop = (image: GlanceImage, key: string): string | undefined => (typeof image[key] === "string" ? (image[key] as string) : undefined);

/** The policy's snapshots on Glance, by novascale's two marks. */
async function policySnapshots(): Promise<GlanceImage[]> {
  return (await e2e.cloud.ownImages()).filter((i) => prop(i, MADE_BY_KEY) === "novascale" && prop(i, POLICY_KEY) === policy);
}

/** Per server id, the firings of its snapshots on Glance, newest first. */
function firingsBySource(images: readonly GlanceImage[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const i of images) (out[prop(i, SOURCE_KEY) ?? "none"] ??= []).push(prop(i, FIRING_KEY) ?? "none");
  for (const list of Object.values(out)) list.sort().reverse();
  return out;
}

/** Waits, and on timeout says what Glance, the policy's status and the Worker showed. */
async function waitWithContext<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  try {
    return await waitFor(what, probe, 60_000);
  } catch (e) {
    const onGlance = (await policySnapshots()).map((i) => `${i.name} ${i.status}`).join(", ") || "none";
    const status = await api(`/v1/snapshot-policies/${policy}`).then((r) => r.text()).catch((err: unknown) => String(err));
    throw new Error(`${(e as Error).message}\nsnapshots on Glance: ${onGlance}\npolicy: ${status.slice(0, 3000)}\nworker output (tail):\n${e2e.worker?.output().slice(-3000)}`);
  }
}

const idle = async (id: string) => ((await e2e.cloud.server(id))?.["OS-EXT-STS:task_state"] ? undefined : true);

interface PreviewImage {
  id: string;
  name: string;
  status: string;
  sourceServer: string | null;
  firing: string | null;
  action: "keep" | "delete";
  reason: string;
  heldBack?: boolean;
}
/** The retention preview taken just before the last night's prune (set by the nine-nights test). */
let preview: { policy: string; at: string; firing: string | null; images: PreviewImage[] } | undefined;
/** The policy's snapshot ids on Glance when the preview was taken. */
let beforePrune: string[] = [];

describe("the restic reference the expectations come from", () => {
  it("keeps the worked example's firings (docs/snapshots.md: 29, 28, 27 and 22 November 2026)", () => {
    const nights = [21, 22, 23, 24, 25, 26, 27, 28, 29].map((d) => `2026-11-${d}T02:30:00.000Z`);
    expect(resticKeeps(nights, RETENTION, "UTC").map((t) => t.slice(8, 10))).toEqual(["29", "28", "27", "22"]);
    expect(resticForget(nights, RETENTION, "UTC").get(nights[8]!)).toEqual(["daily 2026-11-29", "weekly 2026-W48"]);
    expect(isoWeek("2026-12-31")).toBe("2026-W53");
    expect(isoWeek("2027-01-04")).toBe("2027-W01");
  });

  it("makes this file's nights a real test: a weekly keep from the earlier ISO week, and UTC buckets would keep other firings", () => {
    const keeps = resticKeeps(firings, RETENTION, ZONE);
    expect(keeps).toHaveLength(4);
    expect(isoWeek(localDate(new Date(keeps[3]!), ZONE))).not.toBe(isoWeek(localDate(new Date(lastFiring), ZONE)));
    expect(resticKeeps(firings, RETENTION, "UTC")).not.toEqual(keeps);
  });
});

describe("a snapshot policy over hand-booted servers on the real cloud", () => {
  it(`takes one snapshot of each selected server per night; after ${NIGHTS} nights each keeps exactly restic's firings (keepDaily 3, keepWeekly 2, ${ZONE})`, async () => {
    const rules = { select: { metadata: { backup: BACKUP } }, cron: CRON, timezone: ZONE, retention: RETENTION, maxConcurrent: 2 };
    const put = await api(`/v1/snapshot-policies/${policy}`, { method: "PUT", body: JSON.stringify(rules), headers: { "If-None-Match": "*" } });
    expect(put.status, await put.clone().text()).toBe(201);
    expect(put.headers.get("etag")).toBeTruthy();
    expect(((await apiJson(`/v1/snapshot-policies/${policy}`)) as { status: unknown }).status).toBeNull();

    // The evening before the first night: the last firing is a day old, past the grace period: nothing is taken.
    await e2e.worker!.fireCron(new Date(firing(0).getTime() - 4 * 60 * minute));
    expect(await policySnapshots()).toEqual([]);

    for (let night = 0; night < NIGHTS; night++) {
      const at = firings[night]!;
      await e2e.worker!.fireCron(new Date(firing(night).getTime() + minute));
      const taken = await waitWithContext(`both snapshots for ${at} active`, async () => {
        const mine = (await policySnapshots()).filter((i) => prop(i, FIRING_KEY) === at);
        return mine.length === 2 && mine.every((i) => i.status === "active") ? mine : undefined;
      });
      expect(taken.map((i) => prop(i, SOURCE_KEY)).sort()).toEqual([servers.db, servers.jump].sort());
      await waitWithContext("both servers idle again", async () => ((await idle(servers.db)) && (await idle(servers.jump)) ? true : undefined));

      const pruneAt = new Date(firing(night).getTime() + 10 * minute);
      if (night === NIGHTS - 1) {
        beforePrune = (await policySnapshots()).map((i) => i.id).sort();
        preview = (await apiJson(`/v1/snapshot-policies/${policy}/retention?at=${encodeURIComponent(pruneAt.toISOString())}`)) as typeof preview;
      }
      // A later tick of the same night: takes nothing more and prunes by the rules.
      await e2e.worker!.fireCron(pruneAt);

      // After every night, each server holds exactly what restic keeps of its nights so far.
      const expected = resticKeeps(firings.slice(0, night + 1), RETENTION, ZONE);
      const now = await policySnapshots();
      expect(firingsBySource(now), `after night ${night} (${at})`).toEqual({ [servers.db]: expected, [servers.jump]: expected });
      expect(now.every((i) => i.status === "active")).toBe(true);
    }

    const expected = resticKeeps(firings, RETENTION, ZONE);
    expect(expected).toEqual([firings[8], firings[7], firings[6], firings[5]]);
    expect(firingsBySource(await policySnapshots())).toEqual({ [servers.db]: expected, [servers.jump]: expected });

    const activity = (await apiJson(`/v1/snapshot-policies/${policy}/activity?limit=200`)) as { entries: Array<{ kind: string }> };
    const kinds = activity.entries.map((e) => e.kind);
    expect(kinds.filter((k) => k === "snapshot")).toHaveLength(2 * NIGHTS);
    expect(kinds.filter((k) => k === "image-deleted")).toHaveLength(2 * (NIGHTS - expected.length));
  }, 600_000);

  it("the retention preview before the last prune named each image keep or delete with restic's reasons, and the prune did exactly that", async () => {
    expect(preview, "the nine-nights test took the preview").toBeDefined();
    const reasons = resticForget(firings, RETENTION, ZONE);
    expect(preview!.policy).toBe(policy);
    expect(preview!.firing).toBe(lastFiring);
    // Every snapshot of the policy, and nothing else (not the three foreign images).
    expect(preview!.images.map((i) => i.id).sort()).toEqual(beforePrune);
    for (const image of preview!.images) {
      const why = reasons.get(image.firing ?? "")!;
      expect(why, `${image.name}: a firing of this run`).toBeDefined();
      expect([servers.db, servers.jump]).toContain(image.sourceServer);
      expect(image.action, `${image.name}: ${image.reason}`).toBe(why.length > 0 ? "keep" : "delete");
      for (const label of why) expect(image.reason).toContain(label);
    }
    const kept = preview!.images.filter((i) => i.action === "keep").map((i) => i.id).sort();
    expect(kept).toHaveLength(8);
    expect((await policySnapshots()).map((i) => i.id).sort()).toEqual(kept);
  });

  it("the unselected server and the images novascale did not make for this policy are untouched", async () => {
    const other = await e2e.cloud.server(servers.other);
    expect(other?.status).toBe("ACTIVE");
    expect(other?.metadata).toEqual({ backup: `weekly-${policy}` });
    const images = await e2e.cloud.ownImages();
    expect(images.filter((i) => prop(i, SOURCE_KEY) === servers.other)).toEqual([]);
    for (const [what, id] of Object.entries(foreign)) {
      const image = await e2e.cloud.image(id);
      expect(image?.status, what).toBe("active");
    }
    expect(prop((await e2e.cloud.image(foreign.notMadeBy))!, POLICY_KEY)).toBe(policy);
    expect(prop((await e2e.cloud.image(foreign.otherPolicy))!, MADE_BY_KEY)).toBe("novascale");
  });

  it("the policy's status shows the last run: both selected servers done with the last firing, health ok", async () => {
    const got = (await apiJson(`/v1/snapshot-policies/${policy}`)) as {
      revision: number;
      status: { firing: string; health: string; servers: Array<{ serverId: string; phase: string; newest: string | null; stale: boolean }> } | null;
    };
    expect(got.status?.firing).toBe(lastFiring);
    expect(got.status?.health).toBe("ok");
    expect(got.status?.servers.map((s) => [s.serverId, s.phase, s.newest, s.stale])).toEqual(
      [servers.db, servers.jump].sort().map((id) => [id, "done", lastFiring, false]),
    );
  });

  it("deleting the policy leaves its snapshots on Glance", async () => {
    const kept = (await policySnapshots()).map((i) => i.id).sort();
    expect(kept).toHaveLength(8);
    const deleted = await api(`/v1/snapshot-policies/${policy}`, { method: "DELETE" });
    expect(deleted.ok, await deleted.clone().text()).toBe(true);
    expect((await api(`/v1/snapshot-policies/${policy}`)).status).toBe(404);
    const after = await policySnapshots();
    expect(after.map((i) => i.id).sort()).toEqual(kept);
    expect(after.every((i) => i.status === "active")).toBe(true);
  });

  it("takes at most maxConcurrent snapshots per run: with 1, the second server's follows on the next tick of the same night", async () => {
    const one = `${policy}-one`;
    const rules = { select: { metadata: { backup: BACKUP } }, cron: CRON, timezone: ZONE, retention: RETENTION, maxConcurrent: 1 };
    const put = await api(`/v1/snapshot-policies/${one}`, { method: "PUT", body: JSON.stringify(rules) });
    expect(put.status, await put.clone().text()).toBe(201);
    const ofOne = async () => (await e2e.cloud.ownImages()).filter((i) => prop(i, MADE_BY_KEY) === "novascale" && prop(i, POLICY_KEY) === one);
    const leftByDeleted = (await policySnapshots()).map((i) => i.id).sort();
    const night = firing(NIGHTS + 1);

    await e2e.worker!.fireCron(new Date(night.getTime() + minute));
    expect((await ofOne()).map((i) => prop(i, FIRING_KEY))).toEqual([night.toISOString()]);
    const view = (await apiJson(`/v1/snapshot-policies/${one}`)) as { status: { inFlight: number; servers: Array<{ phase: string }> } };
    expect(view.status.servers.map((s) => s.phase).sort()).toEqual(["in-progress", "waiting"]);
    await waitWithContext("the first snapshot active", async () => ((await ofOne()).every((i) => i.status === "active") ? true : undefined));

    await e2e.worker!.fireCron(new Date(night.getTime() + 5 * minute));
    const both = await waitWithContext("both snapshots active", async () => {
      const now = await ofOne();
      return now.length === 2 && now.every((i) => i.status === "active") ? now : undefined;
    });
    expect(both.map((i) => prop(i, SOURCE_KEY)).sort()).toEqual([servers.db, servers.jump].sort());
    // The deleted policy, selecting the same servers, took nothing this night.
    expect((await policySnapshots()).map((i) => i.id).sort()).toEqual(leftByDeleted);
  });
});
