// GET /v1/groups/{name}/plan shows the rolling refresh as data: where it stands, its target, which members this tick replaces and why the others wait.
import { createExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import type { Env } from "../../src/config/env.ts";
import { TOKENS } from "./support.ts";
import { forgetGroups, rules, world } from "../worker/world.ts";

afterEach(forgetGroups);

/** Minute `i` after 08:00 on 2026-11-26, a Thursday. */
const at = (i: number) => new Date(Date.parse("2026-11-26T08:00:00.000Z") + i * 60_000).toISOString();

interface PlanRefresh {
  phase: string;
  startsNow: boolean;
  targetImageId: string;
  boots: number;
  members: Array<{ serverId: string; serverName: string; action: string; code?: string; reason: string }>;
  waits: Array<{ code: string; message: string }>;
  halted?: { reason: string };
}
interface Plan {
  steps: Array<{ kind: string; serverId?: string; count?: number }>;
  refresh: PlanRefresh | null;
}

async function plan(env: Env, group: string, when: string): Promise<Plan> {
  const req = new Request(`http://novascale.test/v1/groups/${group}/plan?at=${encodeURIComponent(when)}`, { headers: { Authorization: `Bearer ${TOKENS.read}` } });
  const res = await worker.fetch(req, env, createExecutionContext());
  expect(res.status).toBe(200);
  return (await res.json()) as Plan;
}

/** A group of 3 converged on cirros, then "cirros" re-pointed to a new image; returns the world and the new id. */
async function drifted(name: string, refresh: Record<string, unknown>) {
  const w = await world();
  await w.service.putGroup(name, rules({ default: 3, refresh }), { author: "alice" });
  for (let i = 0; i < 3; i++) await w.tick(at(i));
  const cirros = (await w.cloud.images()).find((i) => i.name === "cirros");
  if (cirros === undefined) throw new Error("no cirros");
  await w.cloud.renameImage(cirros.id, "cirros-2026-10");
  const next = await w.cloud.addImage("cirros");
  return { ...w, old: await w.members(name), target: next.id };
}

describe("the dry run shows the rolling refresh", () => {
  it("a group without refresh rules: refresh is null", async () => {
    const { service, tick, workerEnv } = await world();
    await service.putGroup("pf-none", rules({ default: 1 }), { author: "alice" });
    await tick(at(0));
    expect((await plan(workerEnv, "pf-none", at(1))).refresh).toBeNull();
  });

  it("drift seen, no tick yet: it would start now on the new image id, booting maxSurge, the old members waiting on maxSurge", async () => {
    const { workerEnv, target } = await drifted("pf-start", {});
    const p = await plan(workerEnv, "pf-start", at(3));
    expect(p.refresh).toMatchObject({ phase: "open", startsNow: true, targetImageId: target, boots: 1 });
    expect(p.refresh?.members.map((m) => [m.action, m.code])).toEqual([
      ["wait", "max-surge"],
      ["wait", "max-surge"],
      ["wait", "max-surge"],
    ]);
    expect(p.refresh?.waits).toEqual([{ code: "max-surge", message: expect.stringContaining("maxSurge 1") }]);
  });

  it("a new server ready: the plan names the old member it replaces this tick, and why the other two wait", async () => {
    const { cloud, tick, workerEnv, old } = await drifted("pf-replace", {});
    await tick(at(3)); // starts, boots one on the new image
    await cloud.setTime(at(4)); // it is ACTIVE by now
    const p = await plan(workerEnv, "pf-replace", at(4));
    expect(p.refresh).toMatchObject({ phase: "open", startsNow: false, boots: 1 });
    const oldest = [...old].sort((a, b) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id))[0]!;
    const replaced = p.refresh?.members.filter((m) => m.action === "replace") ?? [];
    expect(replaced.map((m) => m.serverId)).toEqual([oldest.id]);
    expect(replaced[0]?.reason).toMatch(/^refresh: replaced by a ready server on image /);
    expect(p.refresh?.members.filter((m) => m.action === "wait").length).toBe(2);
    // The same decision as the steps: the replaced member is among the deletes.
    expect(p.steps.filter((s) => s.kind === "delete").map((s) => s.serverId)).toEqual([oldest.id]);
  });

  it("outside the disruption windows: waiting, every old member with the reason outside-window, nothing booted", async () => {
    const { tick, workerEnv } = await drifted("pf-window", { windows: ["Sun 02:00-03:00"] });
    await tick(at(3));
    const p = await plan(workerEnv, "pf-window", at(4));
    expect(p.refresh).toMatchObject({ phase: "waiting", boots: 0 });
    expect(p.refresh?.waits).toEqual([{ code: "outside-window", message: expect.stringContaining("Sun 02:00-03:00 UTC") }]);
    expect(new Set(p.refresh?.members.map((m) => `${m.action} ${m.code}`))).toEqual(new Set(["wait outside-window"]));
    expect(p.steps).toEqual([]);
  });

  it("minInService binding: a ready new server, but deleting an old one would go under minInService; the plan says so", async () => {
    const { cloud, tick, workerEnv } = await drifted("pf-min", { minInService: 4 });
    await tick(at(3));
    await cloud.setTime(at(4));
    const p = await plan(workerEnv, "pf-min", at(4));
    expect(p.refresh?.members.filter((m) => m.action === "replace")).toEqual([]);
    expect(p.refresh?.waits.map((w) => w.code)).toEqual(["min-in-service"]);
    expect(p.refresh?.waits[0]?.message).toContain("minInService 4: 4 ACTIVE healthy in service");
    expect(p.refresh?.phase).toBe("waiting");
  });

  it("halted: the plan says halted with the reason, and keeps the old members", async () => {
    const { cloud, service, tick, workerEnv, old, target } = await drifted("pf-halt", {});
    await cloud.addFault({ kind: "imageBootsError", imageId: target });
    for (let i = 3; i < 12 && (await service.status("pf-halt", new Date(at(i)))).refresh?.halted === undefined; i++) await tick(at(i));
    const p = await plan(workerEnv, "pf-halt", at(13));
    expect(p.refresh).toMatchObject({ phase: "halted", boots: 0, halted: { reason: expect.stringMatching(/threshold 2/) } });
    expect(p.refresh?.waits.map((w) => w.code)).toEqual(["halted"]);
    expect(p.refresh?.members.filter((m) => m.action === "keep").map((m) => m.serverId).sort()).toEqual(old.map((s) => s.id).sort());
  });

  it("the dry run changes nothing: no refresh is started, nothing booted", async () => {
    const { service, workerEnv, members } = await drifted("pf-dry", {});
    await plan(workerEnv, "pf-dry", at(3));
    expect((await service.status("pf-dry", new Date(at(3)))).refresh).toBeNull();
    expect((await members("pf-dry")).length).toBe(3);
  });
});
