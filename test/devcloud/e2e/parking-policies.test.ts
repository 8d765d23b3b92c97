// End to end on the real cloud: a group that parks by `stop` and a nightly snapshot policy over the same servers keep every server and every snapshot over three nights.
import { describe, expect, it } from "vitest";
import { testName, waitFor, type GlanceImage, type NovaServer } from "../support/devcloud.ts";
import { useE2eWorker } from "../support/e2e.ts";

const GROUP_KEY = "novascale:group";
const PARK_KEY = "novascale:park";
const MADE_BY_KEY = "novascale:made-by";
const POLICY_KEY = "novascale:policy";
const SOURCE_KEY = "novascale:source-server";
const FIRING_KEY = "novascale:firing";

const group = testName("stopgrp");
const policy = testName("stoppol");
/** The group writes it on the servers it boots; the policy selects by it (unique to this run). */
const BACKUP = `nightly-${policy}`;
const NIGHTS = 3;
/** keepLast 2 over three nights: the first night's snapshot of each server is pruned after the third. */
const KEEP_LAST = 2;

const e2e = useE2eWorker({ tokenName: "e2e-park-pol", groups: () => [group], policies: () => [policy] });
const { api, apiJson } = e2e;

const minute = 60_000;
const hour = 60 * minute;
// Day 0 starts four days ago (UTC midnight), so the three nights lie in the past: the ticks are fired at
// explicit times in order, and status read at the real clock sees every night.
const day0 = Math.floor((Date.now() - 4 * 24 * hour) / (24 * hour)) * 24 * hour;
const at = (day: number, h: number, m = 0) => new Date(day0 + day * 24 * hour + h * hour + m * minute);
/** The group: two servers by day (from 08:00 UTC), none at night (from 20:00 UTC), parked by os-stop. */
const groupRules = {
  image: "cirros-fake",
  flavor: "m1.tiny",
  min: 0,
  max: 2,
  networks: "none",
  namePrefix: group,
  metadata: { backup: BACKUP },
  scaleIn: { action: "stop" },
  schedules: [
    { cron: "0 8 * * *", timezone: "UTC", desired: 2, name: "day" },
    { cron: "0 20 * * *", timezone: "UTC", desired: 0, name: "night" },
  ],
};
/**
 * The policy fires at 20:00 UTC, the very minute the group parks: the tick that parks a server must not
 * snapshot it (a createImage on a server powering off is refused), the next ones snapshot it stopped.
 */
const policyRules = { select: { metadata: { backup: BACKUP } }, cron: "0 20 * * *", timezone: "UTC", retention: { keepLast: KEEP_LAST }, maxConcurrent: 2, graceHours: 6 };
const firing = (night: number) => at(night, 20).toISOString();

/** Glance shows custom properties at the top level of an image. */
const prop = (image: GlanceImage, key: string): string | undefined => (typeof image[key] === "string" ? (image[key] as string) : undefined);

async function policySnapshots(): Promise<GlanceImage[]> {
  return (await e2e.cloud.ownImages()).filter((i) => prop(i, MADE_BY_KEY) === "novascale" && prop(i, POLICY_KEY) === policy);
}

/** Per server id, the firings of its snapshots on Glance, newest first. */
async function firingsBySource(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const i of await policySnapshots()) (out[prop(i, SOURCE_KEY) ?? "none"] ??= []).push(prop(i, FIRING_KEY) ?? "none");
  for (const list of Object.values(out)) list.sort().reverse();
  return out;
}

const members = (): Promise<NovaServer[]> => e2e.cloud.liveServersWithMetadata(GROUP_KEY, group);

/** Waits until the group's members are exactly `ids`, all in `status` with no task; says what Nova, status and the Worker showed if not. */
async function expectMembers(ids: readonly string[], status: string): Promise<NovaServer[]> {
  try {
    return await waitFor(`${group}: ${ids.length} x ${status}`, async () => {
      const now = await members();
      const settled = now.every((s) => !s["OS-EXT-STS:task_state"]);
      return settled && now.length === ids.length && now.every((s) => ids.includes(s.id) && s.status === status) ? now : undefined;
    }, 90_000);
  } catch (e) {
    const onNova = (await members()).map((s) => `${s.id} ${s.status}/${s["OS-EXT-STS:task_state"] ?? "-"}`).join(", ") || "none";
    const status = await api(`/v1/groups/${group}`).then((r) => r.text()).catch((err: unknown) => String(err));
    throw new Error(`${(e as Error).message}\non Nova: ${onNova}\ngroup: ${status.slice(0, 3000)}\nworker output (tail):\n${e2e.worker?.output().slice(-3000)}`);
  }
}

async function waitSnapshots(what: string, probe: (images: GlanceImage[]) => boolean): Promise<void> {
  try {
    await waitFor(what, async () => (probe(await policySnapshots()) ? true : undefined), 60_000);
  } catch (e) {
    const onGlance = (await policySnapshots()).map((i) => `${i.name} ${i.status} ${prop(i, FIRING_KEY)}`).join(", ") || "none";
    const status = await api(`/v1/snapshot-policies/${policy}`).then((r) => r.text()).catch((err: unknown) => String(err));
    throw new Error(`${(e as Error).message}\nsnapshots: ${onGlance}\npolicy: ${status.slice(0, 3000)}\nworker output (tail):\n${e2e.worker?.output().slice(-3000)}`);
  }
}

interface Entry {
  kind: string;
  at: string;
  serverIds?: string[];
}

describe("a stop group and a nightly snapshot policy over the same servers, three nights on the real cloud", () => {
  let ids: string[] = [];

  it("the group boots its two servers by day, carrying the metadata the policy selects", async () => {
    const put = await api(`/v1/groups/${group}`, { method: "PUT", body: JSON.stringify(groupRules) });
    expect(put.status, await put.clone().text()).toBe(201);
    const pol = await api(`/v1/snapshot-policies/${policy}`, { method: "PUT", body: JSON.stringify(policyRules) });
    expect(pol.status, await pol.clone().text()).toBe(201);
    await e2e.worker!.fireCron(at(0, 12));
    await waitFor("two members", async () => ((await members()).length === 2 ? true : undefined), 60_000);
    ids = (await members()).map((s) => s.id).sort();
    const day = await expectMembers(ids, "ACTIVE");
    expect(day.every((s) => s.metadata.backup === BACKUP)).toBe(true);
    // An afternoon tick: nothing to do, and the policy's last firing (the evening before) is out of its grace.
    await e2e.worker!.fireCron(at(0, 12, 5));
    expect(await policySnapshots()).toEqual([]);
  });

  for (let night = 0; night < NIGHTS; night++) {
    it(`night ${night + 1}: parked by stop at 20:00, one snapshot of each stopped server, pruned to keepLast ${KEEP_LAST}, both back in the morning, none deleted`, async () => {
      expect(ids, "the day's servers (first test)").toHaveLength(2);
      // 20:01: the group parks both (and the policy, due, leaves the servers it saw being parked for later ticks).
      await e2e.worker!.fireCron(at(night, 20, 1));
      const parked = await expectMembers(ids, "SHUTOFF");
      for (const s of parked) expect(s.metadata[PARK_KEY]).toBe(`parked ${at(night, 20, 1).toISOString()}`);

      // 20:05, and 20:06 right after it while the uploads may still run: both stopped servers snapshotted once.
      await e2e.worker!.fireCron(at(night, 20, 5));
      await e2e.worker!.fireCron(at(night, 20, 6));
      await waitSnapshots(`both snapshots of ${firing(night)} active`, (images) => {
        const mine = images.filter((i) => prop(i, FIRING_KEY) === firing(night));
        return mine.length === 2 && mine.every((i) => i.status === "active");
      });
      await expectMembers(ids, "SHUTOFF");

      // 20:15: a later tick of the night prunes by the rules; every server still there, still parked.
      await e2e.worker!.fireCron(at(night, 20, 15));
      const kept = Array.from({ length: night + 1 }, (_, n) => firing(n)).reverse().slice(0, KEEP_LAST);
      expect(await firingsBySource(), `after night ${night + 1}`).toEqual({ [ids[0]!]: kept, [ids[1]!]: kept });
      expect((await policySnapshots()).every((i) => i.status === "active")).toBe(true);
      await expectMembers(ids, "SHUTOFF");

      // Next morning: the same two servers start again (no boot), and the next tick removes the park marks.
      await e2e.worker!.fireCron(at(night + 1, 8, 1));
      await expectMembers(ids, "ACTIVE");
      await e2e.worker!.fireCron(at(night + 1, 8, 2));
      await waitFor("park marks removed", async () => ((await members()).every((s) => s.metadata[PARK_KEY] === undefined) ? true : undefined), 30_000);
    }, 180_000);
  }

  it("over the three nights the group booted twice (the first day) and deleted nothing; Nova's own action log agrees", async () => {
    expect(ids).toHaveLength(2);
    const activity = (await apiJson(`/v1/groups/${group}/activity?limit=500`)) as { entries: Entry[] };
    const kinds = activity.entries.map((e) => e.kind);
    expect(kinds.filter((k) => k === "boot")).toHaveLength(1); // one multi-create of two
    expect(kinds.filter((k) => k === "delete" || k === "delete-failed" || k === "boot-failed")).toEqual([]);
    expect(activity.entries.filter((e) => e.kind === "park").flatMap((e) => e.serverIds ?? []).sort()).toEqual([...ids, ...ids, ...ids].sort());
    expect(activity.entries.filter((e) => e.kind === "unpark").flatMap((e) => e.serverIds ?? []).sort()).toEqual([...ids, ...ids, ...ids].sort());
    // Nova's instance actions, independent of novascale's own log: per server one create, three stops,
    // three starts, three createImages, and never a delete (so none while an upload ran).
    for (const id of ids) {
      const res = await e2e.cloud.call("GET", `/servers/${id}/os-instance-actions`);
      expect(res.status).toBe(200);
      const actions = (res.body as { instanceActions: Array<{ action: string }> }).instanceActions.map((a) => a.action);
      const count = (name: string) => actions.filter((a) => a === name).length;
      expect({ create: count("create"), stop: count("stop"), start: count("start"), createImage: count("createImage"), delete: count("delete") }, id).toEqual({
        create: 1,
        stop: NIGHTS,
        start: NIGHTS,
        createImage: NIGHTS,
        delete: 0,
      });
    }
  });

  it("the policy took one snapshot per server per night, pruned only what keepLast lets go, and failed none", async () => {
    const activity = (await apiJson(`/v1/snapshot-policies/${policy}/activity?limit=200`)) as { entries: Entry[] };
    const kinds = activity.entries.map((e) => e.kind);
    expect(kinds.filter((k) => k === "snapshot")).toHaveLength(2 * NIGHTS);
    expect(kinds.filter((k) => k === "image-deleted")).toHaveLength(2 * (NIGHTS - KEEP_LAST));
    expect(kinds.filter((k) => k.includes("failed"))).toEqual([]);
  });
});
