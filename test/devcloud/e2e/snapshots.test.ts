// End to end on the real cloud: nightly snapshots with retention, taken and pruned by cron ticks of the real Worker, checked on Glance.
import { describe, expect, it } from "vitest";
import { testName, waitFor, type GlanceImage, type NovaServer } from "../support/devcloud.ts";
import { useE2eWorker } from "../support/e2e.ts";

const GROUP_KEY = "novascale:group";
const MADE_BY_KEY = "novascale:made-by";
const IMAGE_GROUP_KEY = "novascale:group";
const FIRING_KEY = "novascale:firing";
const group = testName("snap");
const e2e = useE2eWorker({ tokenName: "e2e-admin", groups: () => [group, `${group}-self`] });
const { api } = e2e;
const KEEP = 2;
const day = 86_400_000;
// The nights are tomorrow and after, in UTC: each is a firing of "30 2 * * *" the ticks are fired around.
const tomorrow = Math.floor(Date.now() / day) * day + day;
const nightAt = (night: number, hh: number, mm: number) => new Date(tomorrow + night * day + (hh * 60 + mm) * 60_000);

/** Glance shows custom properties at the top level of an image. */
const prop = (image: GlanceImage, key: string): string | undefined => (typeof image[key] === "string" ? (image[key] as string) : undefined);

/** The group's snapshots as Glance has them, by novascale's marks. */
async function groupSnapshots(): Promise<GlanceImage[]> {
  return (await e2e.cloud.ownImages()).filter((i) => prop(i, MADE_BY_KEY) === "novascale" && prop(i, IMAGE_GROUP_KEY) === group);
}

async function members(): Promise<NovaServer[]> {
  return (await e2e.cloud.serversWithMetadata(GROUP_KEY, group)).filter((s) => s.status !== "DELETED" && s["OS-EXT-STS:task_state"] !== "deleting");
}

/** Waits with a failure message that carries what Glance and the Worker said. */
async function waitWithContext<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  try {
    return await waitFor(what, probe, 60_000);
  } catch (e) {
    const onGlance = (await groupSnapshots()).map((i) => `${i.name} ${i.status}`).join(", ") || "none";
    const activity = await api(`/v1/groups/${group}/activity?limit=20`).then((r) => r.text()).catch((err: unknown) => String(err));
    throw new Error(`${(e as Error).message}\nsnapshots on Glance: ${onGlance}\nactivity: ${activity.slice(0, 3000)}\nworker output (tail):\n${e2e.worker?.output().slice(-3000)}`);
  }
}

describe("nightly snapshots on the real cloud through wrangler dev", () => {
  it(`keep+1 nightly ticks leave exactly keep=${KEEP} snapshots of the group, all made by novascale, and an image it did not make untouched`, async () => {
    const rules = {
      image: "cirros-fake",
      flavor: "m1.tiny",
      min: 1,
      max: 1,
      default: 1,
      networks: "none",
      namePrefix: group,
      snapshots: { cron: "30 2 * * *", timezone: "UTC", keep: KEEP },
    };
    const put = await api(`/v1/groups/${group}`, { method: "PUT", body: JSON.stringify(rules) });
    expect(put.status, await put.clone().text()).toBe(201);

    // The evening before the first night: the group boots its one server (no firing within the grace period yet).
    await e2e.worker!.fireCron(nightAt(-1, 20, 0));
    const [server] = await waitWithContext("the group's server ACTIVE", async () => {
      const now = await members();
      return now.length === 1 && now[0]!.status === "ACTIVE" ? now : undefined;
    });
    expect(await groupSnapshots()).toEqual([]);

    // An operator's own snapshot of the same server: same project, no novascale marks. It must survive retention.
    const foreignName = `${group}-operator-backup`;
    const made = await e2e.cloud.call("POST", `/servers/${server!.id}/action`, { createImage: { name: foreignName, metadata: { note: "made by hand" } } }, {
      "OpenStack-API-Version": "compute 2.45",
    });
    expect(made.status).toBe(202);
    const foreignId = (made.body as { image_id: string }).image_id;
    await e2e.cloud.waitImageStatus(foreignId, "active");
    await waitWithContext("the server idle again", async () => ((await e2e.cloud.server(server!.id))?.["OS-EXT-STS:task_state"] ? undefined : true));

    for (let night = 0; night <= KEEP; night++) {
      const firing = nightAt(night, 2, 30).toISOString();
      await e2e.worker!.fireCron(nightAt(night, 2, 31));
      const taken = await waitWithContext(`the snapshot for ${firing} active`, async () =>
        (await groupSnapshots()).find((i) => prop(i, FIRING_KEY) === firing && i.status === "active"),
      );
      expect(prop(taken, "novascale:source-server")).toBe(server!.id);
      await waitWithContext("the server idle again", async () => ((await e2e.cloud.server(server!.id))?.["OS-EXT-STS:task_state"] ? undefined : true));
      // A later tick of the same night: confirms, takes nothing more, and prunes beyond keep.
      await e2e.worker!.fireCron(nightAt(night, 2, 40));
      expect((await groupSnapshots()).filter((i) => prop(i, FIRING_KEY) === firing)).toHaveLength(1);
    }

    const kept = await groupSnapshots();
    expect(kept.map((i) => prop(i, FIRING_KEY)).sort()).toEqual([nightAt(1, 2, 30).toISOString(), nightAt(2, 2, 30).toISOString()]);
    expect(kept.every((i) => i.status === "active")).toBe(true);
    const foreign = await e2e.cloud.image(foreignId);
    expect(foreign?.status).toBe("active");

    const listing = await api(`/v1/groups/${group}/snapshots`);
    expect(listing.status).toBe(200);
    const body = (await listing.json()) as { snapshots: Array<{ id: string }>; status: { phase: string } };
    expect(body.snapshots.map((s) => s.id).sort()).toEqual(kept.map((i) => i.id).sort());

    const activity = (await (await api(`/v1/groups/${group}/activity?limit=100`)).json()) as { entries: Array<{ kind: string; imageId?: string }> };
    const kinds = activity.entries.map((e) => e.kind);
    expect(kinds.filter((k) => k === "snapshot")).toHaveLength(KEEP + 1);
    expect(kinds.filter((k) => k === "snapshot-confirmed")).toHaveLength(KEEP + 1);
    expect(kinds.filter((k) => k === "image-deleted")).toHaveLength(1);
  });
  it(`a group that boots from its own older snapshot (by id) keeps that image through keep+1=${KEEP + 1} nights`, async () => {
    const self = `${group}-self`;
    const snapshots = { cron: "30 2 * * *", timezone: "UTC", keep: KEEP };
    const base = { image: "cirros-fake", flavor: "m1.tiny", min: 1, max: 1, default: 1, networks: "none", namePrefix: self, snapshots };
    const ownSnapshots = async () => (await e2e.cloud.ownImages()).filter((i) => prop(i, MADE_BY_KEY) === "novascale" && prop(i, IMAGE_GROUP_KEY) === self);
    const selfMembers = async () => (await e2e.cloud.serversWithMetadata(GROUP_KEY, self)).filter((s) => s.status !== "DELETED" && s["OS-EXT-STS:task_state"] !== "deleting");
    const idle = async (id: string) => ((await e2e.cloud.server(id))?.["OS-EXT-STS:task_state"] ? undefined : true);
    expect((await api(`/v1/groups/${self}`, { method: "PUT", body: JSON.stringify(base) })).status).toBe(201);
    // The nights follow the first test's: 10 and more days on, so the two tests' firings never meet.
    const night = (n: number, hh: number, mm: number) => nightAt(10 + n, hh, mm);
    await e2e.worker!.fireCron(night(-1, 20, 0));
    const [server] = await waitWithContext("the self-booting group's server ACTIVE", async () => {
      const now = await selfMembers();
      return now.length === 1 && now[0]!.status === "ACTIVE" ? now : undefined;
    });
    await e2e.worker!.fireCron(night(0, 2, 31));
    const first = await waitWithContext("the first night's snapshot active", async () =>
      (await ownSnapshots()).find((i) => prop(i, FIRING_KEY) === night(0, 2, 30).toISOString() && i.status === "active"),
    );
    await waitWithContext("the server idle again", () => idle(server!.id));
    const put = await api(`/v1/groups/${self}`, { method: "PUT", body: JSON.stringify({ ...base, image: { id: first.id } }) });
    expect(put.status, await put.clone().text()).toBe(200);

    for (let n = 1; n <= KEEP + 1; n++) {
      const firing = night(n, 2, 30).toISOString();
      await e2e.worker!.fireCron(night(n, 2, 31));
      await waitWithContext(`the snapshot for ${firing} active`, async () => (await ownSnapshots()).find((i) => prop(i, FIRING_KEY) === firing && i.status === "active"));
      await waitWithContext("the server idle again", () => idle(server!.id));
      await e2e.worker!.fireCron(night(n, 2, 40));
    }
    const kept = (await ownSnapshots()).map((i) => prop(i, FIRING_KEY)).sort();
    expect(kept).toEqual([night(0, 2, 30), night(KEEP, 2, 30), night(KEEP + 1, 2, 30)].map((d) => d.toISOString()));
    expect((await e2e.cloud.image(first.id))?.status).toBe("active");
    const activity = (await (await api(`/v1/groups/${self}/activity?limit=100`)).json()) as { entries: Array<{ kind: string; imageId?: string; reason: string }> };
    expect(activity.entries.find((e) => e.kind === "image-kept" && e.imageId === first.id)?.reason).toContain("boots from it (by id)");
    await api(`/v1/groups/${self}`, { method: "PUT", body: JSON.stringify({ ...base, min: 0, max: 0, default: 0 }) });
  });
});
