// createGroupService: the GroupService over the rules registry, the group's Durable Object (runtime state) and the cloud.
import { chooseFlavor, flavorLabel, flavorPreferences, markHolds, type FlavorMark } from "../../core/scaling/flavors.ts";
import type { Env } from "../../config/env.ts";
import { parks, type GroupRules, type Override } from "../../config/group.ts";
import { isMember } from "../../core/model/membership.ts";
import { desiredCount } from "../../core/schedule/desired.ts";
import { liveSignals } from "../../core/schedule/signals.ts";
import type { HistoryPoint } from "../../core/scaling/history.ts";
import { parkingStatus } from "../../core/scaling/parking.ts";
import { deferralFor, readTurns } from "../../store/tick-state.ts";
import { cloudsOf, openCloud, type CloudFactory } from "../gateway/cloud-factory.ts";
import { groupElsewhere, groupElsewhereMessage, placementOf, placementProblem } from "../../config/clouds.ts";
import { entriesOf } from "../../store/rules.ts";
import { coordinatorStub, type ReconcileRequest } from "../groups/coordinator.ts";
import { liftsBootBlock } from "../groups/coordinator-fence.ts";
import { storedFrom } from "../rules/fence.ts";
import type { GuardAnswer } from "../rules/registry-engine.ts";
import { CloudGateway } from "../gateway/gateway.ts";
import { registryStub } from "../registry/registry.ts";
import { findRules, putRules, refused } from "../registry/rules-writes.ts";
import { settleSnapshotListing, settleTakeSnapshot, type SnapshotListing, type TakeSnapshotResult } from "../groups/snapshots.ts";
import { backoffHolds, backoffMessage } from "../../core/scaling/boot-backoff.ts";
import { strictVerdict, type ReferenceWarning } from "../../core/model/references.ts";
import { checkReferences } from "./reference-check.ts";
import {
  CloudUnavailableError,
  ConflictError,
  CorruptRecordError,
  InvalidRequestError,
  NotFoundError,
  type ActivityEntry,
  type GroupService,
  type GroupStatus,
  type FlavorStatus,
  type GroupSummary,
  type MembersListing,
  type ResolvedRef,
  type OverrideInput,
  type PauseState,
  type PlanPreview,
  type RetryBootsResult,
  type StoredGroup,
  type TickRecord,
} from "../shared/service.ts";

export interface GroupServiceOptions {
  /** Builds the cloud client from the parsed OS_* settings (tests may inject one). */
  cloudFactory?: CloudFactory;
  clock?: () => Date;
  /** How long a rules write waits for its reference check (default REFERENCE_CHECK_MS). */
  referenceCheckMs?: number;
}

export function createGroupService(env: Env, options: GroupServiceOptions = {}): GroupService {
  const clock = options.clock ?? (() => new Date());
  /** The gateway of the group's own cloud-region: every cloud call a request makes for a group goes to where the group lives. */
  const gateway = (rules?: Pick<GroupRules, "cloud" | "region">) => new CloudGateway(openCloud(env, options.cloudFactory, undefined, placementOf(cloudsOf(env), rules ?? {})));

  /** A rules write naming a cloud or region the deployment does not have: 422 naming the field, nothing written. */
  function checkPlacement(rules: Pick<GroupRules, "cloud" | "region">): void {
    const problem = placementProblem(cloudsOf(env), rules);
    if (problem !== undefined) throw new InvalidRequestError(problem.message, { field: problem.field });
  }

  /**
   * Snapshot policies that select this group by name but run in another cloud-region than these rules put
   * it: they would back up none of its servers. A warning in the write's answer, never a refusal (a pair
   * moves group first, then policy; the policy's own write is refused while it points elsewhere).
   */
  async function policiesElsewhere(name: string, rules: GroupRules): Promise<ReferenceWarning[]> {
    const clouds = cloudsOf(env);
    return entriesOf(await registryStub(env).indexForTick(), "snapshotPolicy").flatMap((policy): ReferenceWarning[] => {
      if (!policy.ok) return [];
      const select = policy.envelope.rules.select;
      if (!("group" in select) || select.group !== name) return [];
      const elsewhere = groupElsewhere(clouds, policy.envelope.rules, { name, rules });
      if (elsewhere === undefined) return [];
      return [{ field: "cloud", code: "policy-elsewhere", message: `snapshot policy '${policy.name}' selects this group: ${groupElsewhereMessage(elsewhere)}` }];
    });
  }

  /** Reads go to the registry (strongly consistent), never to KV. */
  async function find(name: string): Promise<StoredGroup | null> {
    const envelope = await findRules(env, "group", name);
    return envelope === null ? null : storedFrom(name, envelope);
  }

  async function existing(name: string): Promise<StoredGroup> {
    const group = await find(name);
    if (group === null) throw new NotFoundError(`no group named '${name}'`);
    return group;
  }

  function request(group: StoredGroup, now: Date, trigger: ReconcileRequest["trigger"], author: string): ReconcileRequest {
    return { group, now: now.toISOString(), trigger, author };
  }

  return {
    async listGroups(): Promise<GroupSummary[]> {
      return registryStub(env).list("group");
    },

    getGroup: find,

    async putGroup(name: string, rules: GroupRules, opts: { ifMatch?: string; ifNoneMatch?: string; author: string; adopt?: boolean; strict?: boolean }) {
      checkPlacement(rules);
      // Checked first: a strict write that the check refuses writes nothing, not even the mode-change guard's adoption.
      const warnings = [
        ...(await checkReferences(env, rules, { cloudFactory: options.cloudFactory, timeoutMs: options.referenceCheckMs })),
        ...(await policiesElsewhere(name, rules)),
      ];
      if (opts.strict === true) {
        const verdict = strictVerdict(warnings);
        if (verdict.outcome === "invalid") {
          const first = verdict.warnings[0]!;
          const more = verdict.warnings.length > 1 ? ` (and ${verdict.warnings.length - 1} more)` : "";
          throw new InvalidRequestError(`the rules name what the cloud does not have: ${first.field}: ${first.message}${more}`, { warnings: verdict.warnings });
        }
        if (verdict.outcome === "unchecked") throw new CloudUnavailableError(`strict write not checked, nothing written: ${verdict.cause}`, { warnings });
      }
      const current = await find(name);
      if (current !== null) {
        // Servers novascale did not boot: a change that would strand them is refused unless it adopts them.
        // A move to another cloud-region is refused while the group has members where it is (listed there: the old placement's gateway).
        const clouds = cloudsOf(env);
        const input = {
          name,
          before: current.rules,
          after: rules,
          adopt: opts.adopt ?? false,
          author: opts.author,
          at: clock().toISOString(),
          placement: { before: placementOf(clouds, current.rules), after: placementOf(clouds, rules) },
        };
        const answer = (await coordinatorStub(env, name).checkModeChange(input, gateway(current.rules))) as GuardAnswer;
        if (!answer.ok) throw "refusal" in answer ? refused(answer.refusal) : new ConflictError("the group's object is behind the registry; try again");
      }
      const { created, envelope } = await putRules(env, "group", name, rules, { ...opts, at: clock().toISOString() });
      return { etag: envelope.etag, created, group: storedFrom(name, envelope), warnings };
    },

    async deleteGroup(name: string, opts: { force: boolean; author: string }) {
      // Corrupt stored rules must still be removable (the operator's way out); their placement is unreadable,
      // so the delete's member check lists the default cloud-region.
      const current = await find(name).catch((error: unknown) => {
        if (error instanceof CorruptRecordError) return null;
        throw error;
      });
      const answer = await registryStub(env).remove("group", name, { force: opts.force, author: opts.author, at: clock().toISOString() }, gateway(current?.rules));
      if (!answer.ok) throw refused(answer.refusal);
      const left = (answer.details["serversLeftBehind"] ?? []) as Array<{ id: string; name: string; status: string }>;
      return { removed: true as const, revision: answer.revision, serversLeftBehind: left };
    },

    async setOverride(name: string, input: OverrideInput, now: Date = clock()): Promise<Override> {
      await existing(name);
      const until = Date.parse(input.until);
      if (Number.isNaN(until)) throw new InvalidRequestError(`'until' is not a date-time: ${input.until}`, { field: "until" });
      if (until <= now.getTime()) throw new InvalidRequestError(`'until' (${input.until}) is not in the future`, { field: "until" });
      const override: Override = {
        desired: input.desired,
        until: new Date(until).toISOString(),
        reason: input.reason,
        author: input.author,
        createdAt: now.toISOString(),
      };
      return coordinatorStub(env, name).setOverride(override, name);
    },

    async clearOverride(name: string, author: string) {
      await existing(name);
      const previous = await coordinatorStub(env, name).clearOverride(author, clock().toISOString(), name);
      return { cleared: previous !== null, previous };
    },

    async pause(name: string, author: string, reason?: string): Promise<PauseState> {
      await existing(name);
      const pause: PauseState = { by: author, at: clock().toISOString(), ...(reason !== undefined ? { reason } : {}) };
      return coordinatorStub(env, name).pause(pause, name);
    },

    async resume(name: string, author: string) {
      await existing(name);
      return { resumed: await coordinatorStub(env, name).resume(author, clock().toISOString(), name) };
    },

    async retryBoots(name: string, author: string): Promise<RetryBootsResult> {
      await existing(name);
      const answer = await coordinatorStub(env, name).retryBoots(author, clock().toISOString());
      if (!answer.cleared) throw new ConflictError(`booting is not stopped for group '${name}' (no boot block, no backoff): nothing to retry`);
      return { bootBlock: answer.bootBlock, bootBackoff: answer.bootBackoff };
    },

    /** Starts a rolling refresh at the next tick (409: the rules have no `refresh`). */
    async startRefresh(name: string, author: string, ignoreWindow: boolean) {
      const group = await existing(name);
      if (group.rules.refresh === undefined) throw new ConflictError(`group '${name}' has no refresh rules (add \`refresh: {}\`): nothing to start`);
      const request = await coordinatorStub(env, name).requestRefresh({ author, at: clock().toISOString(), ignoreWindow });
      return { requested: request };
    },

    /** Cancels a waiting or open refresh (`cancelled: false`: there was none). */
    async cancelRefresh(name: string, author: string) {
      await existing(name);
      return coordinatorStub(env, name).cancelRefresh(author, clock().toISOString());
    },

    async status(name: string, now: Date): Promise<GroupStatus> {
      const group = await existing(name);
      const [state, turns] = await Promise.all([coordinatorStub(env, name).state(), readTurns(env.RULES)]);
      const override = state.override !== null && Date.parse(state.override.until) > now.getTime() ? state.override : null;
      const signals = liveSignals(state.signals ?? [], now);
      const desired = desiredCount(group.rules, override ?? undefined, now, { ...(state.pause ? { pausedBy: state.pause.by } : {}), signals });
      // A block stays until a newer revision of the rules (the next tick lifts it).
      const block = state.bootBlock;
      const bootBlock = block !== null && !liftsBootBlock(block, group) ? block : null;
      // A backoff ends with newer rules too (the next tick says so); past its time, boots no longer wait.
      const backoff = state.bootBackoff !== null && group.revision <= state.bootBackoff.revision && backoffHolds(state.bootBackoff, now) ? state.bootBackoff : null;
      const bootsBlocked =
        bootBlock !== null ? `boots blocked until the rules change or boots are retried: ${bootBlock.reason}` : backoff !== null ? backoffMessage(backoff) : null;
      const lastTick = state.lastTick as TickRecord | null;
      let health: GroupStatus["health"] = lastTick?.health ?? "unknown";
      if (desired.source === "paused") health = "paused";
      else if (bootBlock !== null || backoff !== null) health = "error";
      const placement = placementOf(cloudsOf(env), group.rules);
      return {
        group,
        cloud: placement.cloud,
        region: placement.region ?? null,
        desired,
        override,
        signals,
        pause: state.pause,
        bootBlock,
        bootBackoff: backoff,
        bootsBlocked,
        health,
        actualByStatus: lastTick?.actualByStatus ?? null,
        lastTick,
        parking: parkingStatus(parks(group.rules), state.parking ?? [], now),
        deferred: deferralFor(turns, "groups", name, lastTick, now),
        flavors: flavorStatus(group.rules.flavor, state.flavorMarks ?? [], now),
        refresh: state.refresh ?? null,
        refreshRequest: state.refreshRequest ?? null,
      };
    },

    async planPreview(name: string, at: Date): Promise<PlanPreview> {
      const group = await existing(name);
      const preview = await coordinatorStub(env, name).preview(request(group, at, "manual", "preview"), gateway(group.rules));
      return preview as PlanPreview;
    },

    async reconcileNow(name: string, author: string, now: Date): Promise<TickRecord> {
      const group = await existing(name);
      const cloud = gateway(group.rules);
      const tickRequestId = cloud.tickRequestId;
      const record = await coordinatorStub(env, name).reconcile({ ...request(group, now, "manual", author), ...(tickRequestId === undefined ? {} : { tickRequestId }) }, cloud);
      return record as TickRecord;
    },

    async activity(name: string, limit: number, only?: "changes"): Promise<ActivityEntry[]> {
      // The log outlives a delete (it ends with the tombstone line), so a deleted group's history still reads.
      const group = await find(name);
      const entries = (await coordinatorStub(env, name).activity(limit, only)) as ActivityEntry[];
      if (group === null && entries.length === 0) throw new NotFoundError(`no group named '${name}'`);
      return entries;
    },

    async members(name: string): Promise<MembersListing> {
      const group = await existing(name);
      const cloud = gateway(group.rules);
      const listedAt = clock().toISOString();
      const { image } = group.rules;
      const preferences = flavorPreferences(group.rules.flavor);
      // The gateway resolves names from one flavor listing: a list of flavors costs no more calls than one.
      const [listing, resolvedImage, resolvedFlavors, state] = await Promise.all([
        cloud.listServers({ addresses: true }),
        image === undefined ? Promise.resolve(null) : cloud.resolveImage(image),
        Promise.all(preferences.map((ref) => cloud.resolveFlavor(ref))),
        coordinatorStub(env, name).state(),
      ]);
      type Answer = NonNullable<typeof resolvedImage> | (typeof resolvedFlavors)[number];
      const ref = (r: Answer): ResolvedRef => (r.ok ? { id: r.value.id, name: r.value.name } : { error: r.error });
      const flavors = resolvedFlavors.map(ref);
      return {
        listedAt,
        servers: listing.ok ? listing.value.filter((s) => isMember(s, name)) : null,
        error: listing.ok ? null : listing.error,
        image: resolvedImage === null ? null : ref(resolvedImage),
        flavor: flavors[0] ?? null,
        flavors,
        flavorMarks: (state.flavorMarks ?? []).filter((m) => markHolds(m, clock())),
      };
    },

    async history(name: string, since: Date): Promise<HistoryPoint[]> {
      await existing(name);
      return (await coordinatorStub(env, name).history(since.getTime())) as HistoryPoint[];
    },

    async listSnapshots(name: string, now: Date): Promise<SnapshotListing> {
      const group = await existing(name);
      const answer = await coordinatorStub(env, name).snapshots(group, now.toISOString(), gateway(group.rules));
      return settleSnapshotListing(answer as Parameters<typeof settleSnapshotListing>[0]);
    },

    async takeSnapshot(name: string, input: { author: string; serverId?: string; force?: boolean; idempotencyKey?: string }, now: Date): Promise<TakeSnapshotResult> {
      const group = await existing(name);
      const taken = await coordinatorStub(env, name).takeSnapshot(group, { ...input, now: now.toISOString() }, gateway(group.rules));
      return settleTakeSnapshot(taken as TakeSnapshotResult);
    },
  };
}

/** Which flavor new boots take now and why, from the stored marks (null: the rules name no flavor). */
function flavorStatus(flavor: GroupRules["flavor"], marks: readonly FlavorMark[], now: Date): FlavorStatus | null {
  const preferences = flavorPreferences(flavor);
  const choice = chooseFlavor(preferences, marks, now);
  if (choice === undefined) return null;
  return { preferences: preferences.map(flavorLabel), bootsWith: choice.label, fallback: choice.fallback, reason: choice.reason, marks: marks.filter((m) => markHolds(m, now)) };
}
