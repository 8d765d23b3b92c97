// The world of the combination property (issue 24): two groups, two policies, strangers and operator servers on an in-process fake cloud, every request logged.
import type { Env, OpenStackSettings } from "../../src/config/env.ts";
import { GroupRulesSchema, type GroupRules } from "../../src/config/group.ts";
import { SnapshotPolicyRulesSchema } from "../../src/config/snapshot-policy.ts";
import { BOOT_INTENT_KEY, GROUP_KEY, IMAGE_FIRING_KEY, IMAGE_MADE_BY_KEY, IMAGE_SOURCE_SERVER_KEY } from "../../src/core/model/membership.ts";
import { IMAGE_POLICY_KEY } from "../../src/core/snapshots/policy-snapshots.ts";
import { createComputeCloud, createTokenCache } from "../../src/openstack/index.ts";
import type { CloudFactory } from "../../src/reconcile/gateway/cloud-factory.ts";
import { createGroupService } from "../../src/reconcile/services/group-service.ts";
import { createPolicyService } from "../../src/reconcile/services/policy-service.ts";
import { FakeCloud } from "../fake-cloud/index.ts";
import type { FakeServer } from "../fake-cloud/model.ts";
import { addForeignImage } from "../reconcile/groups/snapshot-world.ts";
import { fakeCloudEnv } from "../support/os-env.ts";

/** One request the Worker sent, with what the cloud held for its target just before it arrived. */
export interface SentRequest {
  seq: number;
  method: string;
  path: string;
  /** A server action's name (os-stop, createImage, ...). */
  action?: string;
  /** The tick's `now` (ms) the request was sent under (the step's clock). */
  tickNow: number;
  /** The fake cloud's clock when it arrived. */
  cloudAt: number;
  /** The answer's status; 0 when the request threw. */
  status: number;
  /** createImage: the policy it was taken for (its mark), if any. */
  imagePolicy?: string;
  /** POST /servers: the group and boot intent marker it carried. */
  bootGroup?: string;
  bootIntent?: string;
  /** Requests on /servers/{id}...: the server as it was just before (undefined: no such server). */
  server?: { group?: string; intent?: string; status: string; taskState: string | null };
  serverId?: string;
  /** DELETE /v2/images/{id}: the image's properties and status just before. */
  image?: { id: string; status: string; properties: Record<string, string> };
  /** DELETE /servers/{id}: images of that server still uploading (queued/saving), by age in ms. */
  uploading?: number[];
}

const POLICY_GRACE_HOURS = 1;
/** How long the fake cloud's createImage uploads (task image_* and the image queued/saving together); a stuck one stays saving past it, its task cleared. */
export const SNAPSHOT_MS = 90_000;

/** A group's rules as the property writes them; `dayDesired` from 08:00 UTC, `nightDesired` from 01:30 UTC. */
export interface RulesChoice {
  mode: "power" | "elastic";
  action: "stop" | "shelve" | "delete";
  min: number;
  max: number;
  dayDesired: number;
  nightDesired: number;
  manualChanges: "respect" | "enforce";
}

export function groupRules(choice: RulesChoice): GroupRules {
  const clamp = (n: number) => Math.min(choice.max, Math.max(choice.min, n));
  const common = {
    min: choice.min,
    max: choice.max,
    default: clamp(choice.dayDesired),
    manualChanges: choice.manualChanges,
    schedules: [
      { cron: "0 8 * * *", timezone: "UTC", desired: choice.dayDesired },
      { cron: "30 1 * * *", timezone: "UTC", desired: choice.nightDesired },
    ],
    limits: { buildTimeoutMinutes: 10 },
  };
  if (choice.mode === "power") return GroupRulesSchema.parse({ ...common, mode: "power", scaleIn: { action: choice.action === "delete" ? "stop" : choice.action } });
  return GroupRulesSchema.parse({ ...common, mode: "elastic", image: "cirros", flavor: "m1.tiny", networks: "none", scaleIn: { action: choice.action } });
}

const SERVER_PATH = /\/servers\/([0-9a-f-]{36})(?:\/|$)/;
const IMAGE_PATH = /\/v2\/images\/([0-9a-f-]{36})$/;

/** The run's world: names carry `tag` so Durable Objects and KV state of earlier runs never meet this one. */
export function combinationWorld(tag: string, cloudLagMs: number, startAt: string, options: { bootedPerGroup?: number; policyCron?: string } = {}) {
  const fake = new FakeCloud({ seed: 11, startAt: new Date(Date.parse(startAt) - cloudLagMs).toISOString(), snapshotMs: SNAPSHOT_MS, buildMs: 20_000, deleteMs: 5_000, actionMs: 10_000, quotas: { instances: 1000, cores: 1000, ram: 1_000_000 } });
  const env = fakeCloudEnv() as Env;
  const tokenCache = createTokenCache();
  const sent: SentRequest[] = [];
  /** The Worker's clock (ms): the step's tick time; the cloud's clock is it less the lag (and never goes back). */
  let workerNow = Date.parse(startAt);
  let tickNow = workerNow;
  const serverView = (s: FakeServer | undefined) =>
    s === undefined ? undefined : { ...(s.metadata[GROUP_KEY] === undefined ? {} : { group: s.metadata[GROUP_KEY] }), ...(s.metadata[BOOT_INTENT_KEY] === undefined ? {} : { intent: s.metadata[BOOT_INTENT_KEY] }), status: s.status, taskState: s.taskState };
  const fetch = async (input: string, init: RequestInit): Promise<Response> => {
    const path = new URL(input).pathname;
    const method = init.method ?? "GET";
    const entry: SentRequest = { seq: sent.length, method, path, tickNow, cloudAt: fake.now(), status: 0 };
    if (method === "POST" && path.endsWith("/action") && typeof init.body === "string") {
      const body = JSON.parse(init.body) as Record<string, { metadata?: Record<string, string> } | null>;
      entry.action = Object.keys(body)[0];
      const policy = body["createImage"]?.metadata?.[IMAGE_POLICY_KEY];
      if (policy !== undefined) entry.imagePolicy = policy;
    }
    if (method === "POST" && /\/servers$/.test(path) && typeof init.body === "string") {
      const metadata = ((JSON.parse(init.body) as { server?: { metadata?: Record<string, string> } }).server?.metadata ?? {}) as Record<string, string>;
      if (metadata[GROUP_KEY] !== undefined) entry.bootGroup = metadata[GROUP_KEY];
      if (metadata[BOOT_INTENT_KEY] !== undefined) entry.bootIntent = metadata[BOOT_INTENT_KEY];
    }
    const serverId = SERVER_PATH.exec(path)?.[1];
    if (serverId !== undefined && path.includes("/compute/")) {
      entry.serverId = serverId;
      const view = serverView(fake.servers.get(serverId));
      if (view !== undefined) entry.server = view;
      if (method === "DELETE") {
        entry.uploading = [...fake.images.values()].filter((i) => i.properties["instance_uuid"] === serverId && (i.status === "queued" || i.status === "saving")).map((i) => fake.now() - i.created);
      }
    }
    const imageId = IMAGE_PATH.exec(path)?.[1];
    if (imageId !== undefined && method === "DELETE") {
      const image = fake.images.get(imageId);
      if (image !== undefined) entry.image = { id: image.id, status: image.status, properties: { ...image.properties } };
    }
    sent.push(entry);
    try {
      const res = await fake.fetch(input, init);
      entry.status = res.status;
      return res;
    } catch (error) {
      entry.status = 0;
      throw error;
    }
  };
  const factory: CloudFactory = (settings: OpenStackSettings, _env, budget) =>
    createComputeCloud(settings, { fetch, tokenCache, clock: () => fake.now(), sleep: async () => undefined, requestTimeoutMs: 5_000, ...(budget ? { budget } : {}) });
  const clock = () => new Date(workerNow);
  const groups = createGroupService(env, { cloudFactory: factory, clock });
  const policies = createPolicyService(env, { cloudFactory: factory, clock });
  /** Moves the Worker's clock to `at` (ms) and the cloud's with it (less the lag; the cloud's never goes back). */
  const moveTo = (at: number) => {
    workerNow = Math.max(workerNow, at);
    const cloudAt = workerNow - cloudLagMs;
    if (cloudAt > fake.now()) fake.setTime(cloudAt);
  };
  /** The `now` requests of the coming step are sent under. */
  const sendingAt = (at: number) => {
    tickNow = at;
  };

  const name = (base: string) => `${base}-${tag}`;
  const web = name("web");
  const api = name("api");
  const nightly = name("nightly");
  const apiNightly = name("apinightly");
  const seed = (server: string, group: string | undefined, status: "ACTIVE" | "SHUTOFF" | "ERROR", booted: boolean) =>
    fake.seedServer({ name: server, status, createdAt: fake.now() - 3_600_000, metadata: { ...(group === undefined ? {} : { [GROUP_KEY]: group }), ...(booted ? { [BOOT_INTENT_KEY]: "seeded@2026-11-01T00:00:00.000Z" } : {}) } }).id;
  // The groups' own servers (booted by novascale), the operator's (tagged by hand, never booted), and strangers.
  // `bootedPerGroup` (default 2) below the rules' desired: the first ticks boot.
  const perGroup = options.bootedPerGroup ?? 2;
  const booted = [web, api].flatMap((group) => Array.from({ length: perGroup }, (_, n) => seed(`${group}-n${n + 1}`, group, "ACTIVE", true)));
  const operator = [seed(`${web}-op1`, web, "ACTIVE", false), seed(`${web}-op2`, web, "SHUTOFF", false), seed(`${api}-op1`, api, "ACTIVE", false)];
  const strangers = [seed("stranger-up", undefined, "ACTIVE", false), seed("stranger-off", undefined, "SHUTOFF", false), seed("stranger-broken", undefined, "ERROR", false), seed("ghost-member", `ghost-${tag}`, "ACTIVE", true)];
  const cirros = [...fake.images.values()].find((i) => i.name === "cirros")!.id;
  const foreignImages = [
    cirros,
    addForeignImage(fake, "operator-backup", { note: "by hand", instance_uuid: operator[0]! }),
    addForeignImage(fake, "other-policy", { [IMAGE_MADE_BY_KEY]: "novascale", [IMAGE_POLICY_KEY]: `other-${tag}`, [IMAGE_SOURCE_SERVER_KEY]: booted[0] ?? operator[0]!, [IMAGE_FIRING_KEY]: "2026-11-01T01:30:00.000Z" }),
  ];
  const policyRules = (group: string) =>
    SnapshotPolicyRulesSchema.parse({ select: { group }, cron: options.policyCron ?? "30 1 * * *", retention: { keepLast: 1 }, graceHours: POLICY_GRACE_HOURS, maxAttempts: 2, maxConcurrent: 2 });

  /** Members of `group` as the cloud holds them (late-registering ones included), leaving out those going away. */
  const membersOf = (group: string) => [...fake.servers.values()].filter((s) => s.metadata[GROUP_KEY] === group && s.status !== "DELETED" && s.taskState !== "deleting");

  return { fake, env, sent, groups, policies, factory, moveTo, sendingAt, now: () => workerNow, web, api, nightly, apiNightly, booted, operator, strangers, foreignImages, policyRules, membersOf };
}

export type CombinationWorld = ReturnType<typeof combinationWorld>;

/** Parked (at rest, no task) or on its way there: not in service. */
export function atRest(s: FakeServer): boolean {
  const resting = s.status === "SHUTOFF" || s.status === "SHELVED" || s.status === "SHELVED_OFFLOADED";
  if (resting) return s.taskState !== "powering-on" && s.taskState !== "unshelving";
  return s.taskState === "powering-off" || s.taskState === "shelving" || s.taskState === "shelving_offloading";
}
