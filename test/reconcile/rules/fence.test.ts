// The fence: a group's object never acts on rules older than the newest it was told; deletes are serialised with reconciles.
import fc from "fast-check";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { Env } from "../../../src/config/env.ts";
import { GroupRulesSchema, type GroupRulesInput } from "../../../src/config/group.ts";
import { GROUP_KEY } from "../../../src/core/model/membership.ts";
import { coordinatorStub } from "../../../src/reconcile/groups/coordinator.ts";
import { CloudGateway } from "../../../src/reconcile/gateway/gateway.ts";
import { createGroupService } from "../../../src/reconcile/services/group-service.ts";
import { ConflictError } from "../../../src/reconcile/shared/service.ts";
import { runTick } from "../../../src/reconcile/tick/tick.ts";
import { INDEX_KEY } from "../../../src/store/rules.ts";
import { deleteAllGroups } from "../../support/rules.ts";
import { CloudFault, MemoryCloud } from "../memory-cloud.ts";

function rules(extra: Partial<GroupRulesInput> = {}) {
  return GroupRulesSchema.parse({ image: "cirros", flavor: "m1.tiny", max: 20, ...extra });
}

function setup() {
  const cloud = new MemoryCloud();
  const service = createGroupService(env, { cloudFactory: () => cloud, clock: () => new Date("2026-11-26T07:00:00Z") });
  const tick = (at: string, tickEnv: Env = env) => {
    cloud.clock = new Date(at); // servers booted now are young (not stuck in BUILD)
    return runTick(tickEnv, new Date(at), { cloudFactory: () => cloud });
  };
  return { cloud, service, tick };
}

/**
 * The Worker's env whose KV get() answers with an index captured earlier (a location KV has not reached
 * yet) while list() is fresh; `ops` counts what the tick called.
 */
function staleKvEnv(staleIndex: string | null): { env: Env; ops: string[] } {
  const ops: string[] = [];
  const kv = new Proxy(env.RULES, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      if (prop === "get") {
        return async (key: string, ...rest: unknown[]) => {
          ops.push(`get ${key}`);
          return key === INDEX_KEY ? staleIndex : (value as (...a: unknown[]) => unknown).call(target, key, ...rest);
        };
      }
      ops.push(String(prop));
      return value.bind(target);
    },
  });
  return { env: { ...env, RULES: kv }, ops };
}

/** Waits until `check` holds (the other side of a race has reached its point). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  if (!check()) throw new Error("timed out waiting");
}

afterEach(deleteAllGroups);

describe("stale rules never win", () => {
  it("rules handed to the group's object older than the newest it was told: it acts on the newest, and says so", async () => {
    const { cloud, service } = setup();
    const old = (await service.putGroup("stale-web", rules({ default: 1 }), { author: "alice" })).group;
    await service.putGroup("stale-web", rules({ default: 3 }), { author: "bob" });
    const record = await coordinatorStub(env, "stale-web").reconcile({ group: old, now: "2026-11-26T09:00:00Z", trigger: "cron", author: "cron" }, new CloudGateway(cloud));
    expect(record.rulesRevision).toBe(2);
    expect(record.notices.map((n) => n.code)).toContain("rules-newer");
    expect(cloud.groupServers("stale-web")).toHaveLength(3);
  });

  it("a tick whose KV get() is stale while list() is fresh never undoes a newer change, and lists nothing", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("kv-web", rules({ default: 4 }), { author: "alice" });
    const before = await env.RULES.get(INDEX_KEY);
    await tick("2026-11-26T09:00:00Z");
    expect(cloud.groupServers("kv-web")).toHaveLength(4);
    await service.putGroup("kv-web", rules({ default: 1 }), { author: "bob" });
    await tick("2026-11-26T09:01:00Z");
    expect(cloud.groupServers("kv-web")).toHaveLength(1);
    const stale = staleKvEnv(before);
    await tick("2026-11-26T09:02:00Z", stale.env);
    expect(cloud.groupServers("kv-web")).toHaveLength(1);
    expect(cloud.count("boot")).toBe(1);
    expect(stale.ops.filter((op) => op === `get ${INDEX_KEY}`)).toHaveLength(1);
    expect(stale.ops.filter((op) => !op.startsWith("get "))).toEqual([]); // no list(), no write
  });

  it("a boot block is lifted only by a newer revision, not by a stale copy of older rules", async () => {
    const { cloud, service } = setup();
    const first = (await service.putGroup("block-web", rules({ default: 2 }), { author: "alice" })).group;
    await service.putGroup("block-web", rules({ default: 2, flavor: "m1.bad" }), { author: "alice" });
    cloud.faults.boot = new CloudFault("config", 400, "Invalid flavorRef provided.");
    await service.reconcileNow("block-web", "alice", new Date("2026-11-26T09:00:00Z"));
    expect(cloud.count("boot")).toBe(1);
    cloud.faults.boot = undefined;
    const stub = coordinatorStub(env, "block-web");
    const record = await stub.reconcile({ group: first, now: "2026-11-26T09:01:00Z", trigger: "cron", author: "cron" }, new CloudGateway(cloud));
    expect(record.notices.map((n) => n.code)).toEqual(expect.arrayContaining(["rules-newer", "boot-blocked"]));
    expect(cloud.count("boot")).toBe(1);
    expect((await service.status("block-web", new Date("2026-11-26T09:01:00Z"))).bootBlock?.revision).toBe(2);
  });

  it("whatever the order stale and fresh ticks come in, each tick leaves the newest revision's count (property)", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.record({ change: fc.integer({ min: 0, max: 3 }) }), fc.record({ tick: fc.nat({ max: 4 }) })), { minLength: 1, maxLength: 7 }),
        async (history) => {
          run += 1;
          const name = `prop-${run}`;
          const { cloud, service, tick } = setup();
          const indexes: Array<string | null> = [];
          let newest: number | undefined;
          let minute = 0;
          for (const step of history) {
            if ("change" in step) {
              await service.putGroup(name, rules({ default: step.change }), { author: "prop" });
              newest = step.change;
              indexes.push(await env.RULES.get(INDEX_KEY));
              continue;
            }
            // A tick reading the index as it was `step.tick` changes ago (or the current one).
            const seen = indexes[Math.max(0, indexes.length - 1 - step.tick)] ?? null;
            minute += 1;
            await tick(new Date(Date.parse("2026-11-26T09:00:00Z") + minute * 60_000).toISOString(), staleKvEnv(seen).env);
            const sawGroup = seen !== null && seen.includes(`"${name}"`);
            if (sawGroup && newest !== undefined) expect(cloud.groupServers(name)).toHaveLength(newest);
          }
          if (newest !== undefined) await service.deleteGroup(name, { force: true, author: "prop" });
        },
      ),
      { numRuns: 15 },
    );
  });
});

describe("delete is serialised with the group's reconciles", () => {
  it("a delete that races a booting tick waits for it, sees the servers it booted, and is refused", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("race-web", rules({ default: 2 }), { author: "alice" });
    let release = () => {};
    cloud.bootGate = new Promise<void>((r) => (release = r));
    const ticking = tick("2026-11-26T09:00:00Z");
    await until(() => cloud.count("boot") === 1);
    const deleting = service.deleteGroup("race-web", { force: false, author: "alice" }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    release();
    await ticking;
    expect(await deleting).toBeInstanceOf(ConflictError);
    expect(cloud.groupServers("race-web")).toHaveLength(2);
    expect((await service.getGroup("race-web"))?.revision).toBe(1);
  });

  it("after a forced delete that raced a booting tick, nothing boots for the group again, even on a tick holding its old rules", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("gone-race", rules({ default: 2 }), { author: "alice" });
    const oldIndex = await env.RULES.get(INDEX_KEY);
    let release = () => {};
    cloud.bootGate = new Promise<void>((r) => (release = r));
    const ticking = tick("2026-11-26T09:00:00Z");
    await until(() => cloud.count("boot") === 1);
    const deleting = service.deleteGroup("gone-race", { force: true, author: "alice" });
    await new Promise((r) => setTimeout(r, 20));
    release();
    await ticking;
    const removed = await deleting;
    expect(removed.serversLeftBehind).toHaveLength(2); // the ones the racing tick booted, seen by the member check
    cloud.bootGate = undefined;
    cloud.servers = []; // an operator removes them: a tick acting on the old rules would boot again
    const summary = await tick("2026-11-26T09:01:00Z", staleKvEnv(oldIndex).env);
    expect(summary.records[0]?.record?.notices.map((n) => n.code)).toEqual(["group-deleted"]);
    expect(cloud.count("boot")).toBe(1);
  });

  it("a refused delete changes nothing: rules, revision, override, pause and the activity log stay as they were", async () => {
    const { cloud, service } = setup();
    await service.putGroup("keep-web", rules({ default: 1 }), { author: "alice" });
    await service.setOverride("keep-web", { desired: 2, until: "2026-11-26T12:00:00Z", reason: "launch", author: "bob" }, new Date("2026-11-26T08:00:00Z"));
    await service.pause("keep-web", "bob", "maintenance");
    cloud.addServer({ metadata: { [GROUP_KEY]: "keep-web" } });
    const index = await env.RULES.get(INDEX_KEY);
    const log = await service.activity("keep-web", 50);
    await expect(service.deleteGroup("keep-web", { force: false, author: "mallory" })).rejects.toBeInstanceOf(ConflictError);
    const status = await service.status("keep-web", new Date("2026-11-26T09:00:00Z"));
    expect(status.group.revision).toBe(1);
    expect(status.override?.reason).toBe("launch");
    expect(status.pause?.reason).toBe("maintenance");
    expect(await env.RULES.get(INDEX_KEY)).toBe(index);
    expect(await service.activity("keep-web", 50)).toEqual(log);
  });

  it("the activity log survives a delete, ending with who deleted it and when; a re-created group shows its earlier history", async () => {
    const { service } = setup();
    await service.putGroup("history-web", rules(), { author: "alice" });
    await service.pause("history-web", "bob", "night");
    await service.deleteGroup("history-web", { force: false, author: "carol" });
    const afterDelete = await service.activity("history-web", 10);
    expect(afterDelete[0]).toMatchObject({ kind: "group-deleted", author: "carol", at: "2026-11-26T07:00:00.000Z" });
    expect(afterDelete[0]?.reason).toContain("revision 2");
    await service.putGroup("history-web", rules({ default: 1 }), { author: "dave" });
    const kinds = (await service.activity("history-web", 10)).map((a) => `${a.kind} by ${a.author}`);
    expect(kinds).toEqual(["rules-changed by dave", "group-deleted by carol", "pause by bob", "rules-changed by alice"]);
    // The re-created group starts clean: the old pause went with the old group.
    expect((await service.status("history-web", new Date("2026-11-26T09:00:00Z"))).pause).toBeNull();
  });

  it("an override that reached the group's object just after its delete does not come back with a re-created group", async () => {
    const { service } = setup();
    await service.putGroup("late-web", rules(), { author: "alice" });
    await service.deleteGroup("late-web", { force: false, author: "alice" });
    // The API checked that the group existed, then the delete won the race to the object.
    await coordinatorStub(env, "late-web").setOverride({ desired: 5, until: "2026-11-27T00:00:00.000Z", reason: "late", author: "bob", createdAt: "2026-11-26T07:00:00.000Z" });
    await service.putGroup("late-web", rules(), { author: "alice" });
    expect((await service.status("late-web", new Date("2026-11-26T09:00:00Z"))).override).toBeNull();
  });
});
