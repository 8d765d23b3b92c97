// The tick's budget end to end (tick -> group Durable Objects -> gateway -> real client -> fake cloud): caps, fair deferral, deadline.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { GroupRulesSchema } from "../../../src/config/group.ts";
import type { OpenStackSettings } from "../../../src/config/env.ts";
import { BOOT_INTENT_KEY, GROUP_KEY } from "../../../src/core/model/membership.ts";
import { createComputeCloud, createTokenCache } from "../../../src/openstack/index.ts";
import { TickBudget } from "../../../src/reconcile/gateway/budget.ts";
import type { CloudFactory } from "../../../src/reconcile/gateway/cloud-factory.ts";
import { createGroupService } from "../../../src/reconcile/services/group-service.ts";
import { runTick, type TickSummary } from "../../../src/reconcile/tick/tick.ts";
import { DEFERRED_KEY } from "../../../src/store/tick-state.ts";
import { fakeCloudEnv } from "../../support/os-env.ts";
import { deleteAllGroups } from "../../support/rules.ts";
import { FakeCloud } from "../../fake-cloud/index.ts";

const osEnv = fakeCloudEnv();

interface Sent {
  method: string;
  path: string;
  at: number;
  group?: string;
}

/** A fake cloud behind a recording fetch; `hang` makes matching requests wait until their signal aborts. */
function harness(options: { hang?: (method: string, path: string) => boolean; unavailable?: (path: string) => boolean; retries?: number } = {}) {
  const fake = new FakeCloud({ seed: 11, startAt: "2026-11-26T12:00:00Z", buildMs: 1_000, quotas: { instances: 1000, cores: 1000, ram: 1_000_000 } });
  const sent: Sent[] = [];
  const fetch = async (input: string, init: RequestInit): Promise<Response> => {
    const url = new URL(input);
    const entry: Sent = { method: init.method ?? "GET", path: url.pathname, at: Date.now() };
    if (entry.method === "POST" && url.pathname.endsWith("/servers") && typeof init.body === "string") {
      entry.group = (JSON.parse(init.body) as { server: { metadata: Record<string, string> } }).server.metadata[GROUP_KEY];
    }
    sent.push(entry);
    if (options.hang?.(entry.method, url.pathname)) {
      return new Promise((_resolve, reject) => {
        const signal = init.signal as AbortSignal;
        signal.addEventListener("abort", () => reject(signal.reason));
      });
    }
    if (options.unavailable?.(url.pathname)) {
      return new Response(JSON.stringify({ computeFault: { code: 503, message: "busy" } }), { status: 503, headers: { "content-type": "application/json" } });
    }
    return fake.fetch(input, init);
  };
  const tokenCache = createTokenCache();
  const factory: CloudFactory = (settings: OpenStackSettings, _env, budget) =>
    createComputeCloud(settings, {
      fetch,
      tokenCache,
      sleep: async () => undefined,
      ...(options.retries !== undefined ? { retry: { maxAttempts: options.retries } } : {}),
      ...(budget ? { budget } : {}),
    });
  return { fake, sent, factory };
}

async function putGroups(names: string[], desired: number): Promise<void> {
  const rules = GroupRulesSchema.parse({ image: "cirros", flavor: "m1.tiny", max: 20, default: desired, networks: "none" });
  const service = createGroupService(env, { clock: () => new Date("2026-11-26T00:00:00.000Z") });
  await Promise.all(names.map((name) => service.putGroup(name, rules, { author: "test" })));
}

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(2, "0")}`);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(async () => {
  await deleteAllGroups();
  await env.RULES.delete(DEFERRED_KEY);
});

describe("a tick's subrequest budget", () => {
  it("a scale event bigger than the budget never spends more than the budget in a tick, and converges over consecutive ticks", async () => {
    const { fake, sent, factory } = harness();
    const groups = names("cap", 16);
    await putGroups(groups, 2);
    const perTick: number[] = [];
    for (let tick = 0; tick < 8; tick++) {
      const before = sent.length;
      const at = new Date(Date.parse("2026-11-26T12:00:00Z") + tick * 60_000);
      const summary = await runTick(osEnv, at, { cloudFactory: factory, budget: new TickBudget({ subrequests: 10 }) });
      perTick.push(sent.length - before);
      expect(summary.budget?.spent).toBe(sent.length - before);
      fake.advance(60_000);
      if (summary.deferred.length === 0) break;
      await pause(1_100); // a group re-lists when the tick's listing is not newer than its last action (plus 1 s)
    }
    expect(Math.max(...perTick)).toBeLessThanOrEqual(10);
    const booted = new Map<string, number>();
    for (const s of fake.servers.values()) booted.set(s.metadata[GROUP_KEY] ?? "", (booted.get(s.metadata[GROUP_KEY] ?? "") ?? 0) + 1);
    expect(groups.map((g) => booted.get(g) ?? 0)).toEqual(groups.map(() => 2));
    expect(perTick.length).toBeGreaterThan(1);
  });

  it("status shows a deferred group's waiting work, and clears it once served", async () => {
    const { factory } = harness();
    const groups = names("shown", 8);
    await putGroups(groups, 1);
    const service = createGroupService(osEnv, { cloudFactory: factory });
    const summary = await runTick(osEnv, new Date("2026-11-26T12:00:00Z"), { cloudFactory: factory, budget: new TickBudget({ subrequests: 8 }) });
    const waiting = summary.deferred[0]!.name;
    const status = await service.status(waiting, new Date("2026-11-26T12:00:30Z"));
    expect(status.deferred).toMatchObject({ reason: "subrequests", steps: 1 });
    expect(status.lastTick?.notices.map((n) => n.code)).toContain("deferred");
    let last = Date.parse("2026-11-26T12:00:00Z");
    for (let tick = 1, left = summary.deferred.length; tick < 6 && left > 0; tick++) {
      await pause(1_100);
      last = Date.parse("2026-11-26T12:00:00Z") + tick * 60_000;
      left = (await runTick(osEnv, new Date(last), { cloudFactory: factory, budget: new TickBudget({ subrequests: 8 }) })).deferred.length;
    }
    expect((await service.status(waiting, new Date(last + 30_000))).deferred).toBeNull();
  });

  it("a deferred boot is not recorded as sent: no lost-boot hold, no boot activity for it", async () => {
    const { factory } = harness();
    const groups = names("clean", 8);
    await putGroups(groups, 1);
    const service = createGroupService(osEnv, { cloudFactory: factory });
    const summary = await runTick(osEnv, new Date("2026-11-26T12:00:00Z"), { cloudFactory: factory, budget: new TickBudget({ subrequests: 8 }) });
    for (const d of summary.deferred) {
      const kinds = (await service.activity(d.name, 10)).map((a) => a.kind);
      expect(kinds).not.toContain("boot-unknown");
      expect(kinds).not.toContain("boot");
    }
  });

  it("a failed /limits read is remembered for the rest of the tick, not retried per group", async () => {
    const { sent, factory } = harness({ retries: 1, unavailable: (path) => path.endsWith("/limits") });
    const groups = names("limits", 3);
    await putGroups(groups, 1);
    await runTick(osEnv, new Date("2026-11-26T12:00:00Z"), { cloudFactory: factory, budget: new TickBudget({ subrequests: 50 }) });
    expect(sent.filter((s) => s.path.endsWith("/limits"))).toHaveLength(1);
  });
});

/** The tick's KV writes of its turn state (tick:deferred): every other key passes through uncounted. */
function countingEnv() {
  const writes: string[] = [];
  const kv = osEnv.RULES;
  const RULES = {
    get: kv.get.bind(kv),
    getWithMetadata: kv.getWithMetadata.bind(kv),
    list: kv.list.bind(kv),
    put: (key: string, ...rest: unknown[]) => {
      if (key === DEFERRED_KEY) writes.push(`put ${key}`);
      return (kv.put as (...a: unknown[]) => Promise<void>)(key, ...rest);
    },
    delete: (key: string) => {
      if (key === DEFERRED_KEY) writes.push(`delete ${key}`);
      return kv.delete(key);
    },
  } as unknown as typeof osEnv.RULES;
  return { env: { ...osEnv, RULES }, writes };
}

const brokenRules = (maxDeletesPerTick: number) =>
  GroupRulesSchema.parse({ image: "cirros", flavor: "m1.tiny", min: 0, max: 50, default: 0, networks: "none", limits: { maxDeletesPerTick } });

describe("fair turns across ticks (issue 24 items 7 and 15)", () => {
  it("a group that always wants more than the budget does not starve the groups behind it", async () => {
    const { fake, factory } = harness({ retries: 1 });
    // 'a-greedy' comes first by name; its 20 broken servers are never deleted (Nova answers 500), so it always wants 20 deletes.
    for (let i = 0; i < 20; i++) fake.seedServer({ name: `greedy-${i}`, status: "ERROR", metadata: { [GROUP_KEY]: "a-greedy", [BOOT_INTENT_KEY]: "seeded" } });
    fake.addFault({ kind: "deleteFails", times: 100_000 });
    const service = createGroupService(env, { clock: () => new Date("2026-11-26T00:00:00.000Z") });
    await service.putGroup("a-greedy", brokenRules(20), { author: "test" });
    const others = names("behind", 4);
    await putGroups(others, 1);
    for (let tick = 0; tick < 8; tick++) {
      await runTick(osEnv, new Date(Date.parse("2026-11-26T12:00:00Z") + tick * 60_000), { cloudFactory: factory, budget: new TickBudget({ subrequests: 9 }) });
      fake.advance(60_000);
      await pause(1_100);
    }
    const booted = (g: string) => [...fake.servers.values()].filter((s) => s.metadata[GROUP_KEY] === g).length;
    expect(others.map(booted)).toEqual(others.map(() => 1));
  });

  it("no KV write on ticks where nothing changed, though the budget reaches only part of the groups each tick", async () => {
    const { fake, factory } = harness({ retries: 1 });
    const groups = names("steady", 6);
    // Each group always wants one delete that Nova refuses (500): the same work every tick, more than the budget.
    for (const g of groups) fake.seedServer({ name: `${g}-broken`, status: "ERROR", metadata: { [GROUP_KEY]: g, [BOOT_INTENT_KEY]: "seeded" } });
    fake.addFault({ kind: "deleteFails", times: 100_000 });
    const service = createGroupService(env, { clock: () => new Date("2026-11-26T00:00:00.000Z") });
    for (const g of groups) await service.putGroup(g, brokenRules(1), { author: "test" });
    const { env: counted, writes } = countingEnv();
    const ticks = 8;
    for (let tick = 0; tick < ticks; tick++) {
      const summary = await runTick(counted, new Date(Date.parse("2026-11-26T12:00:00Z") + tick * 60_000), { cloudFactory: factory, budget: new TickBudget({ subrequests: 6 }) });
      expect(summary.deferred.length, `tick ${tick}`).toBeGreaterThan(0); // the budget never reaches every group
      fake.advance(60_000);
      await pause(1_100);
    }
    expect(writes.length, writes.join(", ")).toBeLessThanOrEqual(2);
  });
});

describe("a tick's deadline", () => {
  it("against a hanging cloud nothing starts after the deadline, hung boots are recorded as lost, the rest is deferred", async () => {
    const { sent, factory } = harness({ hang: (method, path) => method === "POST" && path.endsWith("/servers") });
    const groups = names("hang", 9);
    await putGroups(groups, 1);
    const service = createGroupService(osEnv, { cloudFactory: factory });
    const deadline = Date.now() + 1_500;
    const summary: TickSummary = await runTick(osEnv, new Date("2026-11-26T12:00:00Z"), {
      cloudFactory: factory,
      budget: new TickBudget({ subrequests: 50, deadline }),
    });
    expect(sent.every((s) => s.at < deadline)).toBe(true);
    const boots = sent.filter((s) => s.group !== undefined).map((s) => s.group as string);
    expect(boots.length).toBeGreaterThan(0);
    for (const group of boots) {
      expect((await service.activity(group, 10)).map((a) => a.kind)).toContain("boot-unknown");
    }
    const notReached = groups.filter((g) => !boots.includes(g));
    expect(notReached.length).toBeGreaterThan(0);
    expect(summary.deferred.filter((d) => d.reason === "deadline").map((d) => d.name)).toEqual(expect.arrayContaining(notReached));
    const status = await service.status(notReached[0]!, new Date("2026-11-26T12:00:30Z"));
    expect(status.deferred?.reason).toBe("deadline");
  });
});
