// createGroupService: the GroupService over KV (rules), the group's Durable Object (runtime state) and the cloud.
import type { Env } from "../config/env.ts";
import { parks, type GroupRules, type Override } from "../config/group.ts";
import { desiredCount } from "../core/desired.ts";
import type { HistoryPoint } from "../core/history.ts";
import { isMember } from "../core/membership.ts";
import { parkingStatus } from "../core/parking.ts";
import {
  deleteGroupRules,
  etagMatches,
  listGroupKeys,
  readGroup,
  rulesEtag,
  writeGroup,
  type RulesEnvelope,
} from "../store/rules.ts";
import { readDeferred, type DeferredList } from "../store/tick-state.ts";
import { openCloud, type CloudFactory } from "./cloud-factory.ts";
import { coordinatorStub, type ReconcileRequest } from "./coordinator.ts";
import { CloudGateway } from "./gateway.ts";
import { settleSnapshotListing, settleTakeSnapshot, type SnapshotListing, type TakeSnapshotResult } from "./snapshots.ts";
import {
  CloudUnavailableError,
  ConflictError,
  CorruptRecordError,
  InvalidRequestError,
  NotFoundError,
  PreconditionFailedError,
  type ActivityEntry,
  type Deferral,
  type GroupService,
  type GroupStatus,
  type GroupSummary,
  type OverrideInput,
  type PauseState,
  type PlanPreview,
  type ServerRef,
  type StoredGroup,
  type TickRecord,
} from "./service.ts";

export interface GroupServiceOptions {
  /** Builds the cloud client from the parsed OS_* settings (tests may inject one). */
  cloudFactory?: CloudFactory;
  clock?: () => Date;
}

function toStored(name: string, envelope: RulesEnvelope): StoredGroup {
  return { name, rules: envelope.rules, etag: envelope.etag, updatedAt: envelope.updatedAt, updatedBy: envelope.updatedBy };
}

/** The group's deferral: from the newer of its last record and the tick's list (a group never reached has no record of that tick). */
function deferralOf(name: string, lastTick: TickRecord | null, list: DeferredList | undefined): Deferral | null {
  const listed = list?.groups.find((g) => g.name === name);
  if (list !== undefined && (lastTick === null || Date.parse(list.at) > Date.parse(lastTick.lastSeenAt ?? lastTick.at))) {
    return listed === undefined ? null : { reason: listed.reason, steps: listed.steps, message: listed.message };
  }
  return lastTick?.deferred ?? null;
}

export function createGroupService(env: Env, options: GroupServiceOptions = {}): GroupService {
  const clock = options.clock ?? (() => new Date());
  const gateway = () => new CloudGateway(openCloud(env, options.cloudFactory));

  async function find(name: string): Promise<StoredGroup | null> {
    const read = await readGroup(env.RULES, name);
    if (read === null) return null;
    if (!read.ok) throw new CorruptRecordError(read.problem, { group: name });
    return toStored(name, read.envelope);
  }

  async function existing(name: string): Promise<StoredGroup> {
    const group = await find(name);
    if (group === null) throw new NotFoundError(`no group named '${name}'`);
    return group;
  }

  async function membersOf(name: string): Promise<ServerRef[]> {
    const listing = await gateway().listServers();
    if (!listing.ok) throw new CloudUnavailableError(`cannot list the group's servers: ${listing.error.message}`, { category: listing.error.category });
    return listing.value.filter((s) => isMember(s, name)).map((s) => ({ id: s.id, name: s.name, status: s.status }));
  }

  function request(group: StoredGroup, now: Date, trigger: ReconcileRequest["trigger"], author: string): ReconcileRequest {
    return { group, now: now.toISOString(), trigger, author };
  }

  return {
    async listGroups(): Promise<GroupSummary[]> {
      const keys = await listGroupKeys(env.RULES);
      return keys.map(({ name, metadata }) => ({
        name,
        etag: metadata?.etag ?? "",
        ...(metadata?.updatedAt ? { updatedAt: metadata.updatedAt } : {}),
        ...(metadata?.updatedBy ? { updatedBy: metadata.updatedBy } : {}),
      }));
    },

    getGroup: find,

    async putGroup(name: string, rules: GroupRules, opts: { ifMatch?: string; ifNoneMatch?: string; author: string }) {
      const current = await find(name);
      if (opts.ifMatch !== undefined && !etagMatches(opts.ifMatch, current?.etag)) {
        throw new PreconditionFailedError(current ? `group '${name}' has changed (its ETag is ${current.etag})` : `no group named '${name}' to match`, {
          ...(current ? { etag: current.etag } : {}),
        });
      }
      if (opts.ifNoneMatch !== undefined && etagMatches(opts.ifNoneMatch, current?.etag)) {
        throw new PreconditionFailedError(`group '${name}' already exists`, { etag: current?.etag });
      }
      const etag = await rulesEtag(rules);
      // The same rules again: nothing to write (KV's free tier allows 1,000 writes a day).
      if (current !== null && current.etag === etag) return { etag, created: false, group: current };
      const envelope: RulesEnvelope = { version: 1, rules, etag, updatedAt: clock().toISOString(), updatedBy: opts.author };
      await writeGroup(env.RULES, name, envelope);
      const entry: ActivityEntry = {
        at: envelope.updatedAt,
        kind: "rules-changed",
        author: opts.author,
        reason: current === null ? `group created (${etag})` : `rules changed from ${current.etag} to ${etag}`,
      };
      await coordinatorStub(env, name).record([entry]);
      return { etag, created: current === null, group: toStored(name, envelope) };
    },

    async deleteGroup(name: string, opts: { force: boolean; author: string }) {
      const group = await existing(name);
      let servers: ServerRef[] = [];
      try {
        servers = await membersOf(name);
      } catch (error) {
        if (!opts.force) throw error;
        // Forced: the rules go even when the cloud cannot say what is left.
      }
      if (servers.length > 0 && !opts.force) {
        throw new ConflictError(`group '${name}' still has ${servers.length} server(s): scale it to 0 first, or delete with force=true (servers are left running)`, {
          servers,
        });
      }
      await deleteGroupRules(env.RULES, name);
      await coordinatorStub(env, name).forget(group.updatedAt);
      return { removed: true as const, serversLeftBehind: servers };
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
      return coordinatorStub(env, name).setOverride(override);
    },

    async clearOverride(name: string, author: string) {
      await existing(name);
      const previous = await coordinatorStub(env, name).clearOverride(author, clock().toISOString());
      return { cleared: previous !== null, previous };
    },

    async pause(name: string, author: string, reason?: string): Promise<PauseState> {
      await existing(name);
      const pause: PauseState = { by: author, at: clock().toISOString(), ...(reason !== undefined ? { reason } : {}) };
      return coordinatorStub(env, name).pause(pause);
    },

    async resume(name: string, author: string) {
      await existing(name);
      return { resumed: await coordinatorStub(env, name).resume(author, clock().toISOString()) };
    },

    async status(name: string, now: Date): Promise<GroupStatus> {
      const group = await existing(name);
      const [state, deferredList] = await Promise.all([coordinatorStub(env, name).state(), readDeferred(env.RULES)]);
      const override = state.override !== null && Date.parse(state.override.until) > now.getTime() ? state.override : null;
      const desired = desiredCount(group.rules, override ?? undefined, now, state.pause ? { pausedBy: state.pause.by } : {});
      const bootBlock = state.bootBlock !== null && state.bootBlock.etag === group.etag ? state.bootBlock : null;
      const lastTick = state.lastTick as TickRecord | null;
      let health: GroupStatus["health"] = lastTick?.health ?? "unknown";
      if (desired.source === "paused") health = "paused";
      else if (bootBlock !== null) health = "error";
      return {
        group,
        desired,
        override,
        pause: state.pause,
        bootBlock,
        health,
        actualByStatus: lastTick?.actualByStatus ?? null,
        lastTick,
        parking: parkingStatus(parks(group.rules), state.parking ?? [], now),
        deferred: deferralOf(name, lastTick, deferredList),
      };
    },

    async planPreview(name: string, at: Date): Promise<PlanPreview> {
      const group = await existing(name);
      const preview = await coordinatorStub(env, name).preview(request(group, at, "manual", "preview"), gateway());
      return preview as PlanPreview;
    },

    async reconcileNow(name: string, author: string, now: Date): Promise<TickRecord> {
      const group = await existing(name);
      const record = await coordinatorStub(env, name).reconcile(request(group, now, "manual", author), gateway());
      return record as TickRecord;
    },

    async activity(name: string, limit: number): Promise<ActivityEntry[]> {
      await existing(name);
      return (await coordinatorStub(env, name).activity(limit)) as ActivityEntry[];
    },

    async history(name: string, since: Date): Promise<HistoryPoint[]> {
      await existing(name);
      return (await coordinatorStub(env, name).history(since.getTime())) as HistoryPoint[];
    },

    async listSnapshots(name: string, now: Date): Promise<SnapshotListing> {
      const group = await existing(name);
      const answer = await coordinatorStub(env, name).snapshots(group, now.toISOString(), gateway());
      return settleSnapshotListing(answer as Parameters<typeof settleSnapshotListing>[0]);
    },

    async takeSnapshot(name: string, input: { author: string; serverId?: string; force?: boolean; idempotencyKey?: string }, now: Date): Promise<TakeSnapshotResult> {
      const group = await existing(name);
      const taken = await coordinatorStub(env, name).takeSnapshot(group, { ...input, now: now.toISOString() }, gateway());
      return settleTakeSnapshot(taken as TakeSnapshotResult);
    },
  };
}
