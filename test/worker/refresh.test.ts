// Rolling refresh end to end on the fake cloud: the image name re-pointed -> every member replaced, never under 3 ACTIVE; a broken image -> halt, old members intact.
import { afterEach, describe, expect, it } from "vitest";
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
