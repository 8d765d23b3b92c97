// A Worker under test on a fake cloud of its own: cron ticks at chosen times, the group service, the cloud's truth.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { inject } from "vitest";
import type { Env } from "../../src/config/env.ts";
import { GroupRulesSchema, type GroupRulesInput } from "../../src/config/group.ts";
import { GROUP_KEY } from "../../src/core/model/membership.ts";
import worker from "../../src/index.ts";
import { createGroupService } from "../../src/reconcile/services/group-service.ts";
import { deleteAllGroups } from "../support/rules.ts";
import type { ServerSnapshot } from "../fake-cloud/cloud.ts";
import { FakeCloudControl } from "../fake-cloud/control.ts";
import type { FakeCloudOptions } from "../fake-cloud/model.ts";

export const START = "2026-11-26T07:00:00.000Z";

/** POST /servers requests the fake cloud has answered since its stats were last reset. */
export async function bootRequests(cloud: FakeCloudControl): Promise<number> {
  const { byRoute } = await cloud.stats();
  return Object.entries(byRoute)
    .filter(([route]) => /^POST \/compute\/.*servers$/.test(route))
    .reduce((sum, [, n]) => sum + n, 0);
}

export function rules(extra: Partial<GroupRulesInput> = {}) {
  return GroupRulesSchema.parse({ image: "cirros", flavor: "m1.tiny", max: 20, networks: "none", ...extra });
}

/** Storage is shared by a file's tests: remove every group so the next test's ticks see only its own (afterEach). */
export async function forgetGroups(): Promise<void> {
  await deleteAllGroups();
}

export interface WorldOptions {
  /** How far the cloud's clock is behind the Worker's (ms; negative: ahead). */
  cloudLagMs?: number;
}

/** A fake cloud of this test's own, and the Worker's env pointed at it. */
export async function world(options: FakeCloudOptions = {}, worldOptions: WorldOptions = {}) {
  const lag = worldOptions.cloudLagMs ?? 0;
  const cloudTime = (at: string) => new Date(Date.parse(at) - lag).toISOString();
  const cloud = await FakeCloudControl.isolated(inject("fakeCloudUrl"), { clock: "manual", startAt: cloudTime(START), buildMs: 20_000, deleteMs: 5_000, ...options });
  const workerEnv: Env = { ...env, OS_AUTH_URL: cloud.authUrl };
  const service = createGroupService(workerEnv);
  /** One cron tick at `at` (the fake cloud's clock is moved there first, less its lag, so BUILD finishes as in life). */
  const tick = async (at: string, overrideEnv: Env = workerEnv) => {
    await cloud.setTime(cloudTime(at));
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: new Date(at), cron: "* * * * *" }), overrideEnv, ctx);
    await waitOnExecutionContext(ctx);
  };
  /** The group's servers as Nova has them, leaving out those already being deleted. */
  const members = async (group: string): Promise<ServerSnapshot[]> =>
    (await cloud.servers()).filter((s) => s.metadata[GROUP_KEY] === group && s.taskState !== "deleting" && s.status !== "DELETED");
  return { cloud, workerEnv, service, tick, members, cloudTime };
}
