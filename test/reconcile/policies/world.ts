// A snapshot-policy world for worker tests: an in-process fake cloud behind the real client, the tick, the policy service.
import type { OpenStackSettings } from "../../../src/config/env.ts";
import { GroupRulesSchema } from "../../../src/config/group.ts";
import { SnapshotPolicyRulesSchema, type SnapshotPolicyRulesInput } from "../../../src/config/snapshot-policy.ts";
import { IMAGE_FIRING_KEY, IMAGE_MADE_BY_KEY, IMAGE_SOURCE_SERVER_KEY } from "../../../src/core/model/membership.ts";
import { IMAGE_POLICY_KEY } from "../../../src/core/snapshots/policy-snapshots.ts";
import { createComputeCloud, createTokenCache } from "../../../src/openstack/index.ts";
import type { TickBudget } from "../../../src/reconcile/gateway/budget.ts";
import type { CloudFactory } from "../../../src/reconcile/gateway/cloud-factory.ts";
import { createGroupService } from "../../../src/reconcile/services/group-service.ts";
import { createPolicyService } from "../../../src/reconcile/services/policy-service.ts";
import { runTick } from "../../../src/reconcile/tick/tick.ts";
import { FakeCloud, type FakeCloudOptions } from "../../fake-cloud/index.ts";
import { addForeignImage } from "../groups/snapshot-world.ts";
import { fakeCloudEnv } from "../../support/os-env.ts";

export const osEnv = fakeCloudEnv();

export function policyRules(extra: Partial<SnapshotPolicyRulesInput> = {}) {
  return SnapshotPolicyRulesSchema.parse({ select: { metadata: { backup: "nightly" } }, cron: "30 1 * * *", retention: { keepDaily: 3, keepWeekly: 2 }, ...extra });
}

/** A power group of two parking by `stop` at 01:30 UTC (2 again from 08:00): the nights a policy snapshots its stopped members. */
export function nightlyStopGroupRules() {
  return GroupRulesSchema.parse({
    mode: "power",
    max: 2,
    default: 2,
    scaleIn: { action: "stop" },
    schedules: [
      { cron: "0 8 * * *", timezone: "UTC", desired: 2 },
      { cron: "30 1 * * *", timezone: "UTC", desired: 0 },
    ],
  });
}

export function world(options: FakeCloudOptions = {}) {
  const fake = new FakeCloud({ seed: 7, startAt: "2026-11-20T12:00:00Z", snapshotMs: 10_000, quotas: { instances: 1000, cores: 1000, ram: 1_000_000 }, ...options });
  const tokenCache = createTokenCache();
  const sent: Array<{ method: string; path: string; action?: string; at?: number }> = [];
  /** Images Glance's listings leave out (a lagging replica): the ledger's case. */
  const hidden = new Set<string>();
  const fetch = async (input: string, init: RequestInit): Promise<Response> => {
    const path = new URL(input).pathname;
    const method = init.method ?? "GET";
    // A server action's name (createImage, os-stop, ...) from its body, to count calls per kind.
    let action: string | undefined;
    if (method === "POST" && path.endsWith("/action") && typeof init.body === "string") action = Object.keys(JSON.parse(init.body) as object)[0];
    sent.push({ method, path, at: fake.now(), ...(action === undefined ? {} : { action }) });
    const res = await fake.fetch(input, init);
    if (hidden.size === 0 || method !== "GET" || !path.endsWith("/v2/images")) return res;
    const body = (await res.json()) as { images: Array<{ id: string }> };
    return new Response(JSON.stringify({ ...body, images: body.images.filter((i) => !hidden.has(i.id)) }), { status: res.status, headers: res.headers });
  };
  const factory: CloudFactory = (settings: OpenStackSettings, _env, budget) =>
    createComputeCloud(settings, { fetch, tokenCache, clock: () => fake.now(), sleep: async () => undefined, ...(budget ? { budget } : {}) });
  const clock = () => new Date(fake.now());
  const policies = createPolicyService(osEnv, { cloudFactory: factory, clock });
  const groups = createGroupService(osEnv, { cloudFactory: factory, clock });
  const tick = (at: string, budget?: TickBudget) => {
    fake.setTime(at);
    return runTick(osEnv, new Date(at), { cloudFactory: factory, ...(budget === undefined ? {} : { budget }) });
  };
  /** An image novascale did not make for this policy (an operator's own, another policy's, a look-alike). */
  const foreignImage = (name: string, properties: Record<string, string>) => addForeignImage(fake, name, properties);
  /** The policy's snapshots: `serverId@firing` per image, sorted. */
  const snapshotsOf = (policy: string) =>
    fake
      .imageSnapshots()
      .filter((i) => i.properties[IMAGE_MADE_BY_KEY] === "novascale" && i.properties[IMAGE_POLICY_KEY] === policy)
      .map((i) => `${i.properties[IMAGE_SOURCE_SERVER_KEY]}@${i.properties[IMAGE_FIRING_KEY]}`)
      .sort();
  return { fake, factory, policies, groups, tick, foreignImage, snapshotsOf, sent, hidden };
}

export const night = (day: number) => `2026-11-${String(day).padStart(2, "0")}T01:30:00.000Z`;
