// The rules registry: revisions, the index it publishes, the fence it tells groups, and what survives KV failing.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { GroupRulesSchema, type GroupRulesInput } from "../../../src/config/group.ts";
import { coordinatorStub } from "../../../src/reconcile/groups/coordinator.ts";
import { createGroupService } from "../../../src/reconcile/services/group-service.ts";
import { RulesRegistryEngine, type FollowAnswer, type FollowUpdate } from "../../../src/reconcile/rules/registry-engine.ts";
import { loadGroups, runTick } from "../../../src/reconcile/tick/tick.ts";
import { INDEX_KEY, LEGACY_INDEX_KEY, readIndex, type RulesKv } from "../../../src/store/rules.ts";
import { deleteAllGroups } from "../../support/rules.ts";
import { MemoryCloud } from "../memory-cloud.ts";

function rules(extra: Partial<GroupRulesInput> = {}) {
  return GroupRulesSchema.parse({ image: "cirros", flavor: "m1.tiny", max: 20, ...extra });
}

function setup(at = "2026-11-26T07:00:00Z") {
  const cloud = new MemoryCloud();
  const service = createGroupService(env, { cloudFactory: () => cloud, clock: () => new Date(at) });
  return { cloud, service };
}

/** An in-memory KV double: `failPuts` makes every put throw (KV down, or over its daily write limit). */
class MemoryKv implements RulesKv {
  values = new Map<string, string>();
  puts = 0;
  failPuts = false;
  async get(key: string): Promise<string | null> {
    return this.values.get(key) ?? null;
  }
  async put(key: string, value: string): Promise<void> {
    this.puts += 1;
    if (this.failPuts) throw new Error("KV PUT failed: 429 Too Many Requests");
    this.values.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.values.delete(key);
  }
}

/** A registry engine over a fresh Durable Object's storage (its own name), with doubles for KV and followers. */
async function withEngine<T>(name: string, kv: MemoryKv, run: (engine: RulesRegistryEngine, storage: DurableObjectStorage, told: FollowUpdate[]) => Promise<T>): Promise<T> {
  const stub = env.REGISTRY.get(env.REGISTRY.idFromName(name));
  return runInDurableObject(stub, async (_instance, state) => {
    const told: FollowUpdate[] = [];
    const follow = async (update: FollowUpdate): Promise<FollowAnswer> => {
      told.push(update);
      return { accepted: true, revision: update.revision };
    };
    try {
      return await run(new RulesRegistryEngine({ storage: state.storage, kv, follow }), state.storage, told);
    } finally {
      await state.storage.deleteAlarm(); // the object's own alarm would retry against the real KV
    }
  });
}

async function indexedGroups(): Promise<Record<string, { revision: number }>> {
  const read = await readIndex(env.RULES);
  if (!read.ok) throw new Error(read.problem);
  return (read.index.kinds.group ?? {}) as Record<string, { revision: number }>;
}

afterEach(deleteAllGroups);

describe("revisions", () => {
  it("a new group is revision 1, each change adds one, and the index the tick reads has it at once", async () => {
    const { service } = setup();
    const created = await service.putGroup("rev-web", rules(), { author: "alice" });
    expect(created.group.revision).toBe(1);
    const changed = await service.putGroup("rev-web", rules({ default: 2 }), { author: "bob" });
    expect(changed.group.revision).toBe(2);
    expect((await indexedGroups())["rev-web"]).toMatchObject({ revision: 2, updatedBy: "bob" });
  });

  it("the same rules again are no new revision and no write", async () => {
    const { service } = setup();
    await service.putGroup("same-rev", rules(), { author: "alice" });
    const before = await readIndex(env.RULES);
    const again = await service.putGroup("same-rev", rules(), { author: "bob" });
    expect(again.group).toMatchObject({ revision: 1, updatedBy: "alice" });
    expect(await readIndex(env.RULES)).toEqual(before);
  });

  it("a deleted and re-created group goes on from its last revision (revisions are never reused)", async () => {
    const { service } = setup();
    await service.putGroup("again-web", rules(), { author: "alice" });
    const removed = await service.deleteGroup("again-web", { force: false, author: "alice" });
    expect(removed.revision).toBe(2);
    expect(await indexedGroups()).not.toHaveProperty("again-web");
    const recreated = await service.putGroup("again-web", rules({ default: 1 }), { author: "alice", ifNoneMatch: "*" });
    expect(recreated).toMatchObject({ created: true, group: { revision: 3 } });
  });

  it("a group's object that already holds a newer revision (an interrupted delete) makes the registry go past it", async () => {
    const { service } = setup();
    // The object accepted a delete at revision 5 whose commit in the registry never happened.
    await coordinatorStub(env, "ahead-web").adopt({ kind: "group", name: "ahead-web", revision: 5, envelope: null, author: "alice", at: "2026-11-26T06:00:00Z" });
    const created = await service.putGroup("ahead-web", rules(), { author: "alice" });
    expect(created.group.revision).toBe(6);
    expect((await service.getGroup("ahead-web"))?.revision).toBe(6);
    expect((await indexedGroups())["ahead-web"]?.revision).toBe(6);
  });
});

describe("the index the tick reads", () => {
  it("a tick reads one KV value and lists nothing", async () => {
    const { service } = setup();
    await service.putGroup("one-read-a", rules(), { author: "alice" });
    await service.putGroup("one-read-b", rules(), { author: "alice" });
    const ops: string[] = [];
    const counting = new Proxy(env.RULES, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value === "function") ops.push(String(prop));
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const groups = await loadGroups({ ...env, RULES: counting });
    expect(groups.map((g) => g.name)).toEqual(["one-read-a", "one-read-b"]);
    expect(ops).toEqual(["get"]);
  });

  it("a tick that finds no index in KV gets the registry's, which writes it again", async () => {
    const { service } = setup();
    await service.putGroup("lost-index", rules(), { author: "alice" });
    await env.RULES.delete(INDEX_KEY);
    expect((await loadGroups(env)).map((g) => g.name)).toEqual(["lost-index"]);
    expect(await indexedGroups()).toHaveProperty("lost-index");
  });

  it("a tick whose KV read fails still gets every group, from the registry", async () => {
    const { service } = setup();
    await service.putGroup("kv-down-tick", rules(), { author: "alice" });
    const failing = new Proxy(env.RULES, {
      get(target, prop, receiver) {
        if (prop === "get") return async () => Promise.reject(new Error("KV GET failed: 503"));
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    expect((await loadGroups({ ...env, RULES: failing })).map((g) => g.name)).toEqual(["kv-down-tick"]);
  });

  it("10 groups created at once are all reconciled by the next tick", async () => {
    const { service, cloud } = setup();
    const names = Array.from({ length: 10 }, (_, i) => `burst-${i}`);
    await Promise.all(names.map((name) => service.putGroup(name, rules({ default: 1 }), { author: "ci" })));
    const summary = await runTick(env, new Date("2026-11-26T09:01:00Z"), { cloudFactory: () => cloud });
    expect(summary.records.map((r) => r.group).sort()).toEqual([...names].sort());
    for (const name of names) expect(cloud.groupServers(name)).toHaveLength(1);
  });

  it("an earlier release's index is imported once, as revision 1 of each group", async () => {
    const kv = new MemoryKv();
    const old = rules({ default: 2 });
    kv.values.set(LEGACY_INDEX_KEY, JSON.stringify({ version: 1, groups: { legacy: { keyEtag: '"e"', envelope: { version: 1, rules: old, etag: '"e"', updatedAt: "2026-01-01T00:00:00.000Z", updatedBy: "ops" } } } }));
    await withEngine("registry-legacy", kv, async (engine) => {
      expect(await engine.list("group")).toEqual([{ name: "legacy", revision: 1, etag: '"e"', updatedAt: "2026-01-01T00:00:00.000Z", updatedBy: "ops" }]);
      await engine.indexForTick();
      const published = JSON.parse(kv.values.get(INDEX_KEY) ?? "null");
      expect(published.kinds.group.legacy).toMatchObject({ revision: 1, rules: { default: 2 } });
    });
  });
});

describe("when KV fails", () => {
  it("a refused write touches neither the table nor KV", async () => {
    const kv = new MemoryKv();
    await withEngine("registry-refused", kv, async (engine, _storage, told) => {
      const first = await engine.put("group", "web", rules(), { author: "alice", at: "2026-11-26T07:00:00.000Z" });
      expect(first.ok).toBe(true);
      kv.failPuts = true;
      const putsBefore = kv.puts;
      const stale = await engine.put("group", "web", rules({ default: 3 }), { author: "bob", at: "2026-11-26T07:01:00.000Z", ifMatch: '"not-the-etag"' });
      const twice = await engine.put("group", "web", rules({ default: 3 }), { author: "bob", at: "2026-11-26T07:01:00.000Z", ifNoneMatch: "*" });
      expect([stale.ok, twice.ok]).toEqual([false, false]);
      expect(kv.puts).toBe(putsBefore);
      expect(told).toHaveLength(1);
      expect(await engine.get("group", "web")).toMatchObject({ ok: true, envelope: { revision: 1, updatedBy: "alice" } });
    });
  });

  it("an accepted write survives a failing KV: it is committed, the group is told, and the index is written once KV is back", async () => {
    const kv = new MemoryKv();
    kv.failPuts = true;
    await withEngine("registry-kv-down", kv, async (engine, storage, told) => {
      const answer = await engine.put("group", "web", rules({ default: 2 }), { author: "alice", at: "2026-11-26T07:00:00.000Z" });
      expect(answer).toMatchObject({ ok: true, created: true, propagated: false, entry: { envelope: { revision: 1 } } });
      expect(told.map((u) => u.revision)).toEqual([1]);
      expect(await storage.getAlarm()).not.toBeNull(); // a retry is scheduled
      expect(kv.values.has(INDEX_KEY)).toBe(false);
      kv.failPuts = false;
      expect(await engine.propagate()).toBe(true);
      const published = JSON.parse(kv.values.get(INDEX_KEY) ?? "null");
      expect(published.kinds.group.web).toMatchObject({ revision: 1, rules: { default: 2 } });
    });
  });

  it("a group whose object could not be told is told by the retry", async () => {
    const kv = new MemoryKv();
    const stub = env.REGISTRY.get(env.REGISTRY.idFromName("registry-follower-down"));
    await runInDurableObject(stub, async (_instance, state) => {
      let reachable = false;
      const told: number[] = [];
      const follow = async (update: FollowUpdate): Promise<FollowAnswer> => {
        if (!reachable) throw new Error("Durable Object is overloaded");
        told.push(update.revision);
        return { accepted: true, revision: update.revision };
      };
      const engine = new RulesRegistryEngine({ storage: state.storage, kv, follow });
      const answer = await engine.put("group", "web", rules(), { author: "alice", at: "2026-11-26T07:00:00.000Z" });
      expect(answer).toMatchObject({ ok: true, propagated: false });
      reachable = true;
      expect(await engine.propagate()).toBe(true);
      expect(told).toEqual([1]);
      expect(kv.values.has(INDEX_KEY)).toBe(true);
      await state.storage.deleteAlarm();
    });
  });
});
