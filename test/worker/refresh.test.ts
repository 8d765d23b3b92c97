// Rolling refresh end to end on the fake cloud: the image name re-pointed -> every member replaced, never under 3 ACTIVE; a broken image -> halt, old members intact; flavor drift and the fallback flavors.
import { createExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import type { Env } from "../../src/config/env.ts";
import { TOKENS, type TokenRole } from "../api/support.ts";
import { forgetGroups, rules, world } from "./world.ts";
import type { ServerSnapshot } from "../fake-cloud/cloud.ts";

afterEach(forgetGroups);

/** Minute `i` after 08:00 on the test day. */
const at = (i: number) => new Date(Date.parse("2026-11-26T08:00:00.000Z") + i * 60_000).toISOString();
const active = (servers: readonly ServerSnapshot[]) => servers.filter((s) => s.status === "ACTIVE");

/** A group of 3 with `refresh: {}`, converged on cirros; then a new image takes the name "cirros". */
async function refreshed(name: string) {
  const w = await world();
  await w.service.putGroup(name, rules({ default: 3, refresh: {} }), { author: "alice" });
  for (let i = 0; i < 3; i++) await w.tick(at(i));
  const old = await w.members(name);
  expect(old.map((s) => s.status)).toEqual(["ACTIVE", "ACTIVE", "ACTIVE"]);
  const images = await w.cloud.images();
  const cirros = images.find((i) => i.name === "cirros");
  if (cirros === undefined) throw new Error("no cirros");
  await w.cloud.renameImage(cirros.id, "cirros-2026-10");
  const next = await w.cloud.addImage("cirros");
  return { ...w, old, oldImage: cirros.id, newImage: next.id };
}

describe("rolling refresh on the fake cloud", () => {
  it("the image name re-pointed to a new id: all 3 members are replaced, and after every tick at least 3 are ACTIVE", async () => {
    const { tick, members, old, oldImage, newImage } = await refreshed("rf-roll");
    expect(old.every((s) => s.imageId === oldImage)).toBe(true);
    let minute = 3;
    for (; minute < 30; minute++) {
      await tick(at(minute));
      const now = await members("rf-roll");
      expect(active(now).length, `ACTIVE members after the tick at ${at(minute)}`).toBeGreaterThanOrEqual(3);
      if (now.length === 3 && now.every((s) => s.imageId === newImage && s.status === "ACTIVE")) break;
    }
    const end = await members("rf-roll");
    expect(end.map((s) => [s.imageId, s.status])).toEqual([
      [newImage, "ACTIVE"],
      [newImage, "ACTIVE"],
      [newImage, "ACTIVE"],
    ]);
    expect(end.some((s) => old.some((o) => o.id === s.id))).toBe(false);
    expect(minute).toBeLessThan(30);
  });

  it("the refresh is recorded: started, then completed, in the activity log", async () => {
    const { service, tick, members, newImage } = await refreshed("rf-log");
    for (let minute = 3; minute < 30; minute++) {
      await tick(at(minute));
      const now = await members("rf-log");
      if (now.length === 3 && now.every((s) => s.imageId === newImage && s.status === "ACTIVE")) break;
    }
    await tick(at(31)); // the tick after the last replacement sees no old member: completed
    const kinds = (await service.activity("rf-log", 200)).map((a) => a.kind);
    expect(kinds).toContain("refresh-started");
    expect(kinds).toContain("refresh-completed");
  });

  it("a broken new image (its boots go to ERROR): the refresh halts with a reason, the 3 old members are intact, the failed new ones deleted", async () => {
    const { cloud, service, tick, members, old, newImage } = await refreshed("rf-broken");
    await cloud.addFault({ kind: "imageBootsError", imageId: newImage });
    let halted: string | undefined;
    for (let minute = 3; minute < 20 && halted === undefined; minute++) {
      await tick(at(minute));
      expect(active(await members("rf-broken")).length).toBeGreaterThanOrEqual(3);
      halted = (await service.activity("rf-broken", 200)).find((a) => a.kind === "refresh-halted")?.reason;
    }
    expect(halted).toMatch(/new server\(s\) failed \(threshold 2\).*halted/);
    await tick(at(21));
    await tick(at(22));
    const end = await members("rf-broken");
    expect(end.map((s) => s.id).sort()).toEqual(old.map((s) => s.id).sort());
    expect(end.every((s) => s.status === "ACTIVE")).toBe(true);
    // Every server ever booted on the broken image is gone (deleted), none left in ERROR.
    const onNew = (await cloud.servers()).filter((s) => s.imageId === newImage && s.status !== "DELETED" && s.taskState !== "deleting");
    expect(onNew).toEqual([]);
    // Halted is final until an operator acts: later ticks boot nothing more on the broken image.
    const booted = (await cloud.servers()).filter((s) => s.imageId === newImage).length;
    await tick(at(23));
    await tick(at(24));
    expect((await cloud.servers()).filter((s) => s.imageId === newImage).length).toBe(booted);
  });

  it("a group without a refresh key leaves members on the old image as they are", async () => {
    const w = await world();
    await w.service.putGroup("rf-none", rules({ default: 3 }), { author: "alice" });
    for (let i = 0; i < 3; i++) await w.tick(at(i));
    const old = await w.members("rf-none");
    const cirros = (await w.cloud.images()).find((i) => i.name === "cirros");
    if (cirros === undefined) throw new Error("no cirros");
    await w.cloud.renameImage(cirros.id, "cirros-2026-10");
    await w.cloud.addImage("cirros");
    for (let i = 3; i < 8; i++) await w.tick(at(i));
    expect((await w.members("rf-none")).map((s) => s.id).sort()).toEqual(old.map((s) => s.id).sort());
  });
});

const T = (hhmm: string) => `2026-11-26T${hhmm}:00.000Z`;
const PREFS = ["m1.large", "m1.medium"];

/** Ticks once a minute from `from` (minutes after 08:00) until `done` holds or `until`; checks at least `minActive` ACTIVE after each. */
async function tickUntil(w: Awaited<ReturnType<typeof world>>, group: string, from: number, until: number, minActive: number, done: (s: ServerSnapshot[]) => boolean): Promise<number> {
  for (let minute = from; minute < until; minute++) {
    await w.tick(at(minute));
    const now = await w.members(group);
    expect(active(now).length, `ACTIVE members after the tick at ${at(minute)}`).toBeGreaterThanOrEqual(minActive);
    if (done(now)) return minute;
  }
  return until;
}

describe("flavor drift: the refresh moves members to the rules' flavor", () => {
  it("a flavor change in the rules starts a refresh: all 3 move to the new flavor, never under 3 ACTIVE, on the same image", async () => {
    const w = await world();
    await w.service.putGroup("rf-flavor", rules({ default: 3, refresh: {} }), { author: "alice" });
    for (let i = 0; i < 3; i++) await w.tick(at(i));
    const old = await w.members("rf-flavor");
    expect(old.map((s) => s.flavor)).toEqual(["m1.tiny", "m1.tiny", "m1.tiny"]);
    await w.service.putGroup("rf-flavor", rules({ default: 3, flavor: "m1.small", refresh: {} }), { author: "alice" });
    const all = (s: ServerSnapshot[]) => s.length === 3 && s.every((m) => m.flavor === "m1.small" && m.status === "ACTIVE");
    const end = await tickUntil(w, "rf-flavor", 3, 30, 3, all);
    expect(end).toBeLessThan(30);
    const now = await w.members("rf-flavor");
    expect(now.some((s) => old.some((o) => o.id === s.id))).toBe(false);
    expect(new Set(now.map((s) => s.imageId))).toEqual(new Set([old[0]!.imageId]));
    expect((await w.service.activity("rf-flavor", 200)).find((a) => a.kind === "refresh-started")?.reason).toContain("flavor m1.small");
  });

  it("members on a listed fallback are not drift while the preferred flavor is marked: no refresh starts", async () => {
    const w = await world({ capacity: { "m1.large": 0 } });
    await w.service.putGroup("rf-fallback", rules({ default: 3, flavor: PREFS, refresh: {} }), { author: "alice" });
    for (const hhmm of ["08:00", "08:01", "08:02", "08:03", "08:10", "08:20", "08:30"]) await w.tick(T(hhmm)); // m1.large marked until 08:31
    const now = await w.members("rf-fallback");
    expect(now.map((s) => [s.flavor, s.status])).toEqual([
      ["m1.medium", "ACTIVE"],
      ["m1.medium", "ACTIVE"],
      ["m1.medium", "ACTIVE"],
    ]);
    expect((await w.service.status("rf-fallback", new Date(T("08:30")))).refresh).toBeNull();
  });

  it("the preferred flavor available again (room, mark ended): the refresh returns the fallback members to it, never under 3 ACTIVE", async () => {
    const w = await world({ capacity: { "m1.large": 0 } });
    await w.service.putGroup("rf-return", rules({ default: 3, flavor: PREFS, refresh: {} }), { author: "alice" });
    for (const hhmm of ["08:00", "08:01", "08:02", "08:03"]) await w.tick(T(hhmm));
    const fallback = await w.members("rf-return");
    expect(fallback.map((s) => s.flavor)).toEqual(["m1.medium", "m1.medium", "m1.medium"]);
    await w.cloud.setCapacity({ flavors: null });
    const back = (s: ServerSnapshot[]) => s.length === 3 && s.every((m) => m.flavor === "m1.large" && m.status === "ACTIVE");
    const end = await tickUntil(w, "rf-return", 31, 60, 3, back); // the mark ends at 08:31
    expect(end).toBeLessThan(60);
    expect((await w.members("rf-return")).some((s) => fallback.some((o) => o.id === s.id))).toBe(false);
    expect((await w.service.status("rf-return", new Date(at(end)))).refresh).toMatchObject({ targetFlavor: "m1.large", trigger: "drift" });
  });

  it("the mark ended but the preferred flavor is still full: its new server fails (NoValidHost), the flavor is marked again, and the refresh ends with the fallback members kept", async () => {
    const w = await world({ capacity: { "m1.large": 0 } });
    await w.service.putGroup("rf-stillfull", rules({ default: 3, flavor: PREFS, refresh: {} }), { author: "alice" });
    for (const hhmm of ["08:00", "08:01", "08:02", "08:03"]) await w.tick(T(hhmm));
    const fallback = (await w.members("rf-stillfull")).map((s) => s.id).sort();
    for (let minute = 31; minute < 36; minute++) {
      await w.tick(at(minute));
      expect(active(await w.members("rf-stillfull")).length).toBeGreaterThanOrEqual(3);
    }
    expect((await w.members("rf-stillfull")).map((s) => s.id).sort()).toEqual(fallback);
    const status = await w.service.status("rf-stillfull", new Date(at(35)));
    expect(status.refresh?.halted).toBeUndefined();
    expect(status.refresh?.completedAt).toBeDefined();
    expect(status.flavors).toMatchObject({ bootsWith: "m1.medium", fallback: true });
  });
});

async function send(env: Env, method: string, path: string, role: TokenRole, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const init: RequestInit = { method, headers: { Authorization: `Bearer ${TOKENS[role]}`, ...(body === undefined ? {} : { "content-type": "application/json" }) } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await worker.fetch(new Request(`http://novascale.test${path}`, init), env, createExecutionContext());
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Gives the name "cirros" to a new image (the members' image renamed away). */
async function repoint(cloud: Awaited<ReturnType<typeof world>>["cloud"]): Promise<string> {
  const cirros = (await cloud.images()).find((i) => i.name === "cirros");
  if (cirros === undefined) throw new Error("no cirros");
  await cloud.renameImage(cirros.id, "cirros-2026-10");
  return (await cloud.addImage("cirros")).id;
}

// 2026-11-26 is a Thursday: the window "Sun 02:00-03:00" is closed in these tests.
describe("POST and DELETE /v1/groups/{name}/refresh", () => {
  it("a manual start outside the windows with ignoreWindow: the next tick pins the image and starts; status shows target and progress", async () => {
    const { cloud, service, tick, workerEnv } = await world();
    await service.putGroup("rf-api", rules({ default: 2, refresh: { windows: ["Sun 02:00-03:00"] } }), { author: "alice" });
    for (let i = 0; i < 3; i++) await tick(at(i));
    const target = await repoint(cloud);
    const started = await send(workerEnv, "POST", "/v1/groups/rf-api/refresh", "admin", { ignoreWindow: true });
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ requested: { ignoreWindow: true } });
    expect((await service.status("rf-api", new Date(at(3)))).refreshRequest).toMatchObject({ ignoreWindow: true });
    await tick(at(3));
    const status = await service.status("rf-api", new Date(at(3)));
    expect(status.refreshRequest).toBeNull();
    expect(status.refresh).toMatchObject({ trigger: "manual", ignoreWindow: true, replaced: 0, progress: { old: 2, inWindow: true } });
    expect(status.refresh?.targetImageId).toBe(target);
    // The same through the HTTP status view.
    const view = await send(workerEnv, "GET", "/v1/groups/rf-api", "read");
    expect(view.status).toBe(200);
    expect(view.json.refresh).toMatchObject({ trigger: "manual" });
  });

  it("DELETE halts the open refresh with the canceller named; a second DELETE finds none", async () => {
    const { cloud, service, tick, workerEnv, members } = await world();
    await service.putGroup("rf-cancel", rules({ default: 2, refresh: { windows: ["Sun 02:00-03:00"] } }), { author: "alice" });
    for (let i = 0; i < 3; i++) await tick(at(i));
    const old = (await members("rf-cancel")).map((m) => m.id).sort();
    await repoint(cloud);
    expect((await send(workerEnv, "POST", "/v1/groups/rf-cancel/refresh", "admin")).status).toBe(202);
    await tick(at(3)); // started (manual, in the windows only): waits for Sunday
    expect((await service.status("rf-cancel", new Date(at(3)))).refresh).toMatchObject({ trigger: "manual", ignoreWindow: false, progress: { old: 2, inWindow: false } });
    const cancelled = await send(workerEnv, "DELETE", "/v1/groups/rf-cancel/refresh", "admin");
    expect(cancelled).toMatchObject({ status: 200, json: { cancelled: true } });
    const status = await service.status("rf-cancel", new Date(at(3)));
    expect(status.refresh?.halted?.reason).toMatch(/^cancelled by /);
    expect((await send(workerEnv, "DELETE", "/v1/groups/rf-cancel/refresh", "admin")).json).toEqual({ cancelled: false });
    // Cancelled is final for that target: later ticks do not restart it, the old members stay.
    await tick(at(4));
    await tick(at(5));
    expect((await service.status("rf-cancel", new Date(at(5)))).refresh?.halted?.reason).toMatch(/^cancelled by /);
    expect((await members("rf-cancel")).map((m) => m.id).sort()).toEqual(old);
  });

  it("refuses: an operate token (403), a bad body naming the field (400), a group without refresh rules (409)", async () => {
    const { service, workerEnv } = await world();
    await service.putGroup("rf-plain", rules({ default: 1 }), { author: "alice" });
    await service.putGroup("rf-bad", rules({ default: 1, refresh: {} }), { author: "alice" });
    expect((await send(workerEnv, "POST", "/v1/groups/rf-bad/refresh", "operate")).status).toBe(403);
    const bad = await send(workerEnv, "POST", "/v1/groups/rf-bad/refresh", "admin", { ignoreWindow: "yes" });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toContain("ignoreWindow");
    expect((await send(workerEnv, "POST", "/v1/groups/rf-plain/refresh", "admin")).status).toBe(409);
    expect((await service.status("rf-bad", new Date(at(0)))).refreshRequest).toBeNull();
  });

  it("both routes are in /openapi.json", async () => {
    const { workerEnv } = await world();
    const res = await worker.fetch(new Request("http://novascale.test/openapi.json"), workerEnv, createExecutionContext());
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths["/v1/groups/{name}/refresh"] ?? {}).sort()).toEqual(["delete", "post"]);
  });
});
