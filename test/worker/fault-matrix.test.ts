// The fault matrix: every fault kind x {cron tick, manual reconcile, both at once} on the fake cloud, invariants checked after every step.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, inject, it } from "vitest";
import type { Env, OpenStackSettings } from "../../src/config/env.ts";
import { BOOT_INTENT_KEY, GROUP_KEY } from "../../src/core/model/membership.ts";
import { createComputeCloud } from "../../src/openstack/index.ts";
import { DEFAULT_SUBREQUEST_BUDGET, TickBudget } from "../../src/reconcile/gateway/budget.ts";
import type { CloudFactory } from "../../src/reconcile/gateway/cloud-factory.ts";
import { createGroupService } from "../../src/reconcile/services/group-service.ts";
import { runTick } from "../../src/reconcile/tick/tick.ts";
import type { ServerSnapshot } from "../fake-cloud/cloud.ts";
import type { FaultSpecInput } from "../fake-cloud/faults.ts";
import { FakeCloudControl } from "../fake-cloud/control.ts";
import { forgetGroups, rules, START, world } from "./world.ts";

afterEach(forgetGroups);

/**
 * A hang is a request the cloud answers only after the client gave up. A cron tick ends it at the tick's
 * deadline (its budget; short here, so the matrix runs in seconds), "apply now" at the client's
 * per-attempt timeout; either way it is a transient error. Retries do not wait.
 */
const HANG_TIMEOUT_MS = 1_000;
/** How long a hung request takes to be answered (real time; the client has given up long before). */
const HANG_MS = 2_000;
const cloudFactory =
  (requestTimeoutMs?: number): CloudFactory =>
  (settings: OpenStackSettings, _env, budget) =>
    createComputeCloud(settings, { sleep: () => Promise.resolve(), ...(budget ? { budget } : {}), ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}) });

const MAX = 3;
const DESIRED = 3;
const GROUP = "matrix";

/** Each fault kind as the fake cloud injects it while the fault lasts (the first FAULT_TICKS steps). */
const FAULTS: Record<string, FaultSpecInput[]> = {
  "boot fails": [{ kind: "bootError", status: 503 }],
  "false-negative boot": [{ kind: "bootFalseNegative", times: 2 }],
  "late registration": [{ kind: "lateRegistration", delayMs: 75_000 }],
  "stuck BUILD": [{ kind: "stuckBuild", times: 2 }],
  "ERROR after ACTIVE": [{ kind: "errorAfterActive", afterMs: 30_000 }],
  "delete fails N times": [{ kind: "deleteFails", times: 4 }],
  "5xx bursts": [{ kind: "randomErrors", rate: 0.5, statuses: [500, 502, 503, 504], seed: 13, service: "compute" }],
  hangs: [
    { kind: "slow", delayMs: HANG_MS, service: "compute", method: "POST", path: "/servers$" },
    { kind: "slow", delayMs: HANG_MS, service: "compute", method: "GET", path: "/servers/detail", times: 2 },
  ],
};
const TRIGGERS = ["cron tick", "manual reconcile", "both at once"] as const;
const FAULT_TICKS = 3;
const RECOVERY_TICKS = 3;

const gone = (s: ServerSnapshot) => s.taskState === "deleting" || s.status === "DELETED";
const minute = (m: number) => new Date(Date.parse("2026-11-26T08:00:00Z") + m * 60_000);

describe.each(TRIGGERS)("fault matrix, %s", (trigger) => {
  it.each(Object.keys(FAULTS))("%s: never over max, strangers untouched, no double boot, converged 3 ticks after the faults clear", async (fault) => {
    const { cloud, workerEnv, members } = await world({ buildMs: 20_000, deleteMs: 5_000 });
    const hangs = fault === "hangs";
    const factory = cloudFactory(hangs ? HANG_TIMEOUT_MS : undefined);
    const service = createGroupService(workerEnv, { cloudFactory: factory });
    // The group is at max with one broken member, next to servers that are not its own.
    await cloud.setTime(minute(-1).toISOString());
    for (let i = 0; i < 2; i++) await cloud.seedServer({ name: `${GROUP}-seed-${i}`, status: "ACTIVE", metadata: { [GROUP_KEY]: GROUP, [BOOT_INTENT_KEY]: "seeded" } });
    await cloud.seedServer({ name: `${GROUP}-broken`, status: "ERROR", metadata: { [GROUP_KEY]: GROUP, [BOOT_INTENT_KEY]: "seeded" } });
    const strangers = [
      await cloud.seedServer({ name: `${GROUP}-lookalike`, status: "ERROR" }),
      await cloud.seedServer({ name: "neighbour", status: "ERROR", metadata: { [GROUP_KEY]: "someone-else" } }),
    ];
    await service.putGroup(GROUP, rules({ min: 0, max: MAX, default: DESIRED, limits: { maxDeletesPerTick: 1, buildTimeoutMinutes: 2 } }), { author: "matrix" });
    for (const spec of FAULTS[fault] ?? []) await cloud.addFault(spec);

    const step = async (m: number) => {
      const now = minute(m);
      await cloud.setTime(now.toISOString());
      const deadline = hangs ? Date.now() + HANG_TIMEOUT_MS : undefined;
      const cron = () => runTick(workerEnv, now, { cloudFactory: factory, budget: new TickBudget({ subrequests: DEFAULT_SUBREQUEST_BUDGET, deadline }) });
      const manual = () => service.reconcileNow(GROUP, "operator", now);
      if (trigger === "cron tick") await cron();
      else if (trigger === "manual reconcile") await manual();
      else await Promise.all([cron(), manual()]);
      // A minute passes between ticks: a hung request the cloud still finishes lands before the next one.
      if (hangs && m < FAULT_TICKS) await new Promise((resolve) => setTimeout(resolve, HANG_MS));

      const truth = await cloud.servers(); // what the cloud holds, late-registering servers included
      const ours = truth.filter((s) => s.metadata[GROUP_KEY] === GROUP && !gone(s));
      const context = `${fault}, ${trigger}, minute ${m}: ${ours.map((s) => `${s.name}=${s.status}`).join(" ")}`;
      // Never more than max members in service or on their way, broken ones included.
      expect(ours.length, context).toBeLessThanOrEqual(MAX);
      // No double boot: never more healthy or building members than desired.
      expect(ours.filter((s) => s.status === "ACTIVE" || s.status === "BUILD").length, context).toBeLessThanOrEqual(DESIRED);
      // No server without the group's tag touched.
      for (const stranger of strangers) {
        const now = truth.find((s) => s.id === stranger.id);
        expect(now && { status: now.status, taskState: now.taskState }, context).toEqual({ status: stranger.status, taskState: stranger.taskState });
      }
    };

    for (let m = 0; m < FAULT_TICKS; m++) await step(m);
    await cloud.clearFaults();
    for (let m = FAULT_TICKS; m < FAULT_TICKS + RECOVERY_TICKS; m++) await step(m);
    await cloud.advance(20_000); // the last boots finish building
    const final = await members(GROUP);
    expect(final.map((s) => s.status), `${fault}, ${trigger}`).toEqual(Array(DESIRED).fill("ACTIVE"));
  });
});

/**
 * The fault matrix's cloud row: a broken cloud (wrong secret / unreachable / slow) next to a good one. One tick
 * lists every cloud-region in parallel; the broken one's group records its error and acts on nothing, and the
 * good cloud's group still reconciles (boots) in that same tick.
 */
const BROKEN_CLOUDS = ["wrong secret", "unreachable", "slow"] as const;

describe.each(BROKEN_CLOUDS)("fault matrix, a broken cloud next to a good one: %s", (broken) => {
  it("the good cloud's group still reconciles in the same tick; the broken cloud's group acts on nothing and records why", async () => {
    const { cloud, workerEnv } = await world({ buildMs: 20_000, deleteMs: 5_000 });
    const bad = await FakeCloudControl.isolated(inject("fakeCloudUrl"), { clock: "manual", startAt: START, buildMs: 20_000, deleteMs: 5_000 });
    const badUrl = broken === "unreachable" ? "http://127.0.0.1:9/identity/v3" : bad.authUrl;
    const password = broken === "wrong secret" ? "not-the-password" : "demo-password";
    const env2: Env = {
      ...workerEnv,
      NOVASCALE_CLOUDS: JSON.stringify({ clouds: { bad: { auth: { auth_url: badUrl, username: "demo", password, project_name: "demo", user_domain_name: "Default", project_domain_name: "Default" } } } }),
    };
    // Slow: Keystone answers only after the client gave up (its per-request timeout), so the tick's wait is bounded.
    if (broken === "slow") await bad.addFault({ kind: "slow", delayMs: HANG_MS, service: "identity" });
    const factory = cloudFactory(HANG_TIMEOUT_MS);
    const service = createGroupService(env2, { cloudFactory: factory });
    await service.putGroup("good-web", rules({ min: 0, max: 3, default: 2 }), { author: "matrix" });
    await service.putGroup("bad-web", rules({ min: 0, max: 3, default: 2, cloud: "bad" }), { author: "matrix" });
    // The broken cloud holds servers with the good group's tag: never counted or touched by it.
    const lookalike = await bad.seedServer({ name: "good-web-lookalike", status: "ACTIVE", metadata: { [GROUP_KEY]: "good-web", [BOOT_INTENT_KEY]: "seeded" } });

    const now = minute(0);
    await cloud.setTime(now.toISOString());
    await bad.setTime(now.toISOString());
    const summary = await runTick(env2, now, { cloudFactory: factory, budget: new TickBudget({ subrequests: DEFAULT_SUBREQUEST_BUDGET, deadline: Date.now() + 3 * HANG_TIMEOUT_MS }) });

    // The good cloud's group booted its two servers in this very tick.
    const good = (await cloud.servers()).filter((s) => s.metadata[GROUP_KEY] === "good-web" && !gone(s));
    expect(good, JSON.stringify(summary)).toHaveLength(2);
    expect(summary.clouds).toEqual(
      expect.arrayContaining([
        { cloud: "default", region: null, listing: "complete" },
        { cloud: "bad", region: null, listing: "failed" },
      ]),
    );
    // The broken cloud's group did nothing; its status says why.
    if (broken !== "unreachable") expect((await bad.servers()).map((s) => s.id)).toEqual([lookalike.id]);
    const status = await service.status("bad-web", now);
    expect(status.lastTick?.errors.length ?? 0).toBeGreaterThan(0);
    expect(status.lastTick?.steps.filter((s) => s.kind === "boot" || s.kind === "delete") ?? []).toEqual([]);
  });
});
