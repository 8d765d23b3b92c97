// createPolicyService: snapshot policies for the API, over the rules registry, each policy's Durable Object and the cloud.
import type { Env } from "../../config/env.ts";
import type { SnapshotPolicyRules } from "../../config/snapshot-policy.ts";
import type { PolicyStatus } from "../../core/snapshots/policy-snapshots.ts";
import type { ActivityEntry, Deferral, PauseState, PolicyRunRecord } from "../../core/records.ts";
import { entriesOf } from "../../store/rules.ts";
import { deferralFor, readTurns } from "../../store/tick-state.ts";
import { cloudsOf, openCloud, type CloudFactory } from "../gateway/cloud-factory.ts";
import { groupElsewhere, groupElsewhereMessage, placementOf, placementProblem, type GroupElsewhere } from "../../config/clouds.ts";
import { storedFrom } from "../rules/fence.ts";
import { CloudGateway } from "../gateway/gateway.ts";
import { policyStub, type StoredPolicy } from "../policies/policy-coordinator.ts";
import { planPolicyRun } from "../policies/policy-snapshots.ts";
import { registryStub } from "../registry/registry.ts";
import { findRules, putRules, refused } from "../registry/rules-writes.ts";
import { CloudUnavailableError, ConflictError, InvalidRequestError, NotFoundError, type GroupSummary } from "../shared/service.ts";
import { loadRules, tickGuard } from "../tick/tick.ts";
import { registryGuardRefresh } from "../rules/current-guard.ts";

export type PolicySummary = GroupSummary;

/** GET /v1/snapshot-policies/{name}: the stored rules, the last run's status and what the operator set. */
export interface PolicyView extends StoredPolicy {
  /** Where it runs, as for a group: the rules' `cloud` (default `default`) and `region` (default the cloud's first; null: none named). */
  cloud: string;
  region: string | null;
  /** The selected group runs in another cloud-region (config/clouds.ts groupElsewhereMessage); null: it does not, or the policy selects by metadata. */
  groupElsewhere: string | null;
  /** The last run's view of the latest firing; null before the first run (or when its images could not be listed). */
  status: PolicyStatus | null;
  pause: PauseState | null;
  /** The last run: when, what it sent, notices and errors; null before the first run. */
  lastRun: PolicyRunRecord | null;
  /** What the last tick left for the next one (its budget ran short); null: nothing. */
  deferred: Deferral | null;
}

/** One image of the retention preview. */
export interface RetentionPreviewImage {
  id: string;
  name: string;
  status: string;
  sourceServer: string | null;
  firing: string;
  action: "keep" | "delete";
  reason: string;
  heldBack?: true;
}

export interface RetentionPreview {
  policy: string;
  at: string;
  firing: string | null;
  /** Paused (rules or operator): a run deletes nothing, whatever `action` says. */
  paused: boolean;
  /** "unavailable": some rules entry could not be read, so nothing would be deleted (the images show "waits"). */
  guard: "complete" | "unavailable";
  images: RetentionPreviewImage[];
}

export interface PolicyService {
  list(): Promise<PolicySummary[]>;
  /** Throws NotFoundError. */
  get(name: string): Promise<PolicyView>;
  put(name: string, rules: SnapshotPolicyRules, opts: { ifMatch?: string; ifNoneMatch?: string; author: string }): Promise<{ etag: string; created: boolean; policy: StoredPolicy }>;
  /** After any running run; its snapshots stay in Glance. Throws NotFoundError, PreconditionFailedError. */
  remove(name: string, opts: { ifMatch?: string; author: string }): Promise<{ removed: true; revision: number }>;
  pause(name: string, author: string, reason?: string): Promise<PauseState>;
  resume(name: string, author: string): Promise<{ resumed: boolean }>;
  /** Lists servers and the policy's images now and decides retention as of `at`; writes nothing, deletes nothing. */
  retention(name: string, at: Date): Promise<RetentionPreview>;
  /** Newest first; a deleted policy's log still reads (it ends with the deletion). */
  /** `only: "changes"`: who changed what (rules, pauses), kept apart from the capped rows. */
  activity(name: string, limit: number, only?: "changes"): Promise<ActivityEntry[]>;
}

export interface PolicyServiceOptions {
  cloudFactory?: CloudFactory;
  clock?: () => Date;
}

export function createPolicyService(env: Env, options: PolicyServiceOptions = {}): PolicyService {
  const clock = options.clock ?? (() => new Date());

  async function find(name: string): Promise<StoredPolicy | null> {
    const envelope = await findRules(env, "snapshotPolicy", name);
    return envelope === null ? null : storedFrom(name, envelope);
  }

  async function existing(name: string): Promise<StoredPolicy> {
    const policy = await find(name);
    if (policy === null) throw new NotFoundError(`no snapshot policy named '${name}'`);
    return policy;
  }

  /** The group a policy selects by name, when it runs in another cloud-region than the policy (an unreadable group: not known). */
  async function selectedGroupElsewhere(rules: SnapshotPolicyRules): Promise<GroupElsewhere | undefined> {
    if (!("group" in rules.select)) return undefined;
    const name = rules.select.group;
    const group = await findRules(env, "group", name).catch(() => null);
    return group === null ? undefined : groupElsewhere(cloudsOf(env), rules, { name, rules: group.rules });
  }

  return {
    list: () => registryStub(env).list("snapshotPolicy"),

    async get(name) {
      const policy = await existing(name);
      const [state, turns, elsewhere] = await Promise.all([policyStub(env, name).state(), readTurns(env.RULES), selectedGroupElsewhere(policy.rules)]);
      const lastRun = state.lastRun as PolicyRunRecord | null;
      const deferred = deferralFor(turns, "policies", name, lastRun, clock());
      const placement = placementOf(cloudsOf(env), policy.rules);
      const groupElsewhere = elsewhere === undefined ? null : groupElsewhereMessage(elsewhere);
      return { ...policy, cloud: placement.cloud, region: placement.region ?? null, groupElsewhere, status: lastRun?.status ?? null, pause: state.pause, lastRun, deferred };
    },

    async put(name, rules, opts) {
      const clouds = cloudsOf(env);
      const problem = placementProblem(clouds, rules);
      if (problem !== undefined) throw new InvalidRequestError(problem.message, { field: problem.field });
      // A policy selecting a group by name lists only its own cloud-region: elsewhere it would back up nothing, silently.
      const elsewhere = await selectedGroupElsewhere(rules);
      if (elsewhere !== undefined) throw new ConflictError(groupElsewhereMessage(elsewhere), { field: elsewhere.field });
      const { created, envelope } = await putRules(env, "snapshotPolicy", name, rules, { ...opts, at: clock().toISOString() });
      return { etag: envelope.etag, created, policy: storedFrom(name, envelope) };
    },

    async remove(name, opts) {
      const cloud = new CloudGateway(openCloud(env, options.cloudFactory)); // unused by a policy's delete: no cloud call
      const answer = await registryStub(env).remove("snapshotPolicy", name, { force: false, author: opts.author, at: clock().toISOString(), ...(opts.ifMatch !== undefined ? { ifMatch: opts.ifMatch } : {}) }, cloud);
      if (!answer.ok) throw refused(answer.refusal);
      return { removed: true as const, revision: answer.revision };
    },

    async pause(name, author, reason) {
      await existing(name);
      const pause: PauseState = { by: author, at: clock().toISOString(), ...(reason !== undefined ? { reason } : {}) };
      return policyStub(env, name).pause(pause);
    },

    async resume(name, author) {
      await existing(name);
      return { resumed: await policyStub(env, name).resume(author, clock().toISOString()) };
    },

    async retention(name, at) {
      const policy = await existing(name);
      // The policy's own cloud-region: its servers and images are there.
      const cloud = new CloudGateway(openCloud(env, options.cloudFactory, undefined, placementOf(cloudsOf(env), policy.rules)));
      const [index, listing, state] = await Promise.all([loadRules(env), cloud.listServers(), policyStub(env, name).state()]);
      if (!listing.ok) throw new CloudUnavailableError(`cannot list the project's servers: ${listing.error.message}`, { category: listing.error.category });
      // The tick's guard, from the same rules and a fresh listing.
      const guard = tickGuard(entriesOf(index, "group"), entriesOf(index, "snapshotPolicy"), listing.value);
      const paused = policy.rules.paused || state.pause !== null;
      // The registry's current rules too, as the run asks before it deletes: the preview is what the run does.
      const planned = await planPolicyRun({ cloud, name, rules: policy.rules, servers: listing.value, now: at, guard, refreshGuard: registryGuardRefresh(env) });
      if (!planned.ok) throw new CloudUnavailableError(`cannot list the policy's snapshots: ${planned.error.message}`, { category: planned.error.category });
      const images = planned.plan.retention.map((d): RetentionPreviewImage => ({
        id: d.image.id,
        name: d.image.name,
        status: d.image.status,
        sourceServer: d.source,
        firing: d.at,
        action: d.action,
        reason: d.reason,
        ...(d.heldBack ? { heldBack: true as const } : {}),
      }));
      return { policy: name, at: at.toISOString(), firing: planned.plan.status.firing, paused, guard: guard === undefined ? "unavailable" : "complete", images };
    },

    async activity(name, limit, only) {
      const policy = await find(name);
      const entries = (await policyStub(env, name).activity(limit, only)) as ActivityEntry[];
      if (policy === null && entries.length === 0) throw new NotFoundError(`no snapshot policy named '${name}'`);
      return entries;
    },
  };
}
