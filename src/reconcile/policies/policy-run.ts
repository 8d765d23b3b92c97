// One run of a snapshot policy inside its Durable Object: servers, plan, ledger, budget, createImage/deleteImage, the run's record.
import { callsByServer, fitPolicySteps, keptLedger, settledAfter, withoutResent, type SentSnapshot, type SettledMark } from "../../core/snapshots/policy-run.ts";
import type { PolicyServerStatus, PolicyStatus, PolicyStep } from "../../core/snapshots/policy-snapshots.ts";
import type { Deferral, ErrorInfo, PolicyRunRecord } from "../../core/records.ts";
import type { RetentionGuard } from "../../core/snapshots/retention.ts";
import { latestCronFiring } from "../../core/schedule/schedule.ts";
import type { SnapshotPolicyRules } from "../../core/model/rules.ts";
import type { Notice, ObservedServer } from "../../core/model/types.ts";
import type { PolicyStore } from "../../store/policy-coordinator.ts";
import type { NewestSnapshot } from "../../core/snapshots/snapshot-ages.ts";
import type { StoredRules } from "../rules/fence.ts";
import type { GuardRefresh } from "../rules/current-guard.ts";
import { notSentReason, type CloudPort } from "../gateway/gateway.ts";
import { executePolicySteps, planPolicyRun } from "./policy-snapshots.ts";
import type { ActivityEntry } from "../shared/service.ts";

/** A snapshot policy's rules as the registry accepted them. */
export type StoredPolicy = StoredRules<SnapshotPolicyRules>;

/** What a tick (or POST .../run) hands the policy's Durable Object. */
export interface PolicyRunRequest {
  policy: StoredPolicy;
  /** ISO-8601: the tick's scheduledTime, or the API request's clock. */
  now: string;
  trigger: "cron" | "manual";
  author: string;
  /** The tick's project-wide listing (or why it failed); absent: the object lists itself. */
  listing?: { servers: ObservedServer[] } | { error: ErrorInfo };
  /** What no retention may delete (every group's image, every server's); absent: nothing is deleted this run. */
  guard?: RetentionGuard;
}

export interface PolicyRunOutput {
  record: PolicyRunRecord;
  activity: ActivityEntry[];
  /** Set when the latest firing is settled: later runs skip until something changes (core/policy-run.ts). */
  settled?: SettledMark;
  /** Each selected server's newest active snapshot, when the run listed the images (for GET /metrics). */
  newest?: NewestSnapshot[];
}

/**
 * Runs the policy once. `paused` (an operator pause) plans as `paused: true` rules do: nothing taken or
 * deleted, the status still shown. Never throws for cloud failures: they are the record's errors.
 */
export async function runPolicy(store: PolicyStore, request: PolicyRunRequest, cloud: CloudPort, paused: boolean, refreshGuard?: GuardRefresh): Promise<PolicyRunOutput> {
  const { policy, author } = request;
  const now = new Date(request.now);
  const base = { at: request.now, trigger: request.trigger, author, rulesEtag: policy.etag, rulesRevision: policy.revision };
  const failed = (error: ErrorInfo, deferred?: Deferral): PolicyRunOutput => ({
    record: { ...base, status: null, steps: [], notices: [], errors: deferred === undefined ? [error] : [], ...(deferred === undefined ? {} : { deferred }) },
    activity: [],
  });
  const notSentDeferral = (error: ErrorInfo): Deferral | undefined =>
    error.notSent === true ? { reason: notSentReason(error), steps: 0, message: `not run: ${error.message}` } : undefined;

  let servers: ObservedServer[];
  const handed = request.listing;
  if (handed !== undefined && "error" in handed) return failed(handed.error);
  if (handed !== undefined) servers = handed.servers;
  else {
    const listed = await cloud.listServers();
    if (!listed.ok) return failed(listed.error, notSentDeferral(listed.error));
    servers = listed.value;
  }

  const rules = paused && !policy.rules.paused ? { ...policy.rules, paused: true } : policy.rules;
  let ledger = await store.getLedger();
  const calls = callsByServer(ledger, latestCronFiring(rules.cron, rules.timezone, now)?.toISOString() ?? null);
  const planned = await planPolicyRun({ cloud, name: policy.name, rules, servers, now, guard: request.guard, calls, ...(refreshGuard === undefined ? {} : { refreshGuard }) });
  if (!planned.ok) return failed(planned.error, notSentDeferral(planned.error));
  const { plan, ownIds, newest } = planned;
  const notices: Notice[] = [...plan.notices];

  const { steps: unsent, held } = withoutResent(plan.steps, ledger, ownIds, now);
  if (held.length > 0) {
    const names = held.map((s) => `'${s.serverName}'`).join(", ");
    notices.push({ level: "info", code: "snapshot-sent", message: `a snapshot for ${plan.status.firing} was already sent for ${names}; waiting for Glance to list it` });
  }

  // The budget: one request per step; what it cannot cover waits for the next tick (served first then).
  let kept: PolicyStep[] = unsent;
  let deferred: Deferral | undefined;
  if (unsent.length > 0) {
    const granted = await cloud.reserve({ deletes: unsent.length, boots: 0 });
    if (granted.ok) {
      const fit = fitPolicySteps(unsent, granted.value.deletes);
      kept = fit.kept;
      if (fit.deferred.length > 0) {
        const reason = granted.value.short ?? "subrequests";
        deferred = { reason, steps: fit.deferred.length, message: `${fit.deferred.length} step(s) wait for the next tick: the tick's ${reason === "deadline" ? "time" : "subrequest"} budget ran short` };
        notices.push({ level: "info", code: "deferred", message: deferred.message });
      }
      // The grant only says how many steps fit. A policy runs alone in its tick, so nobody competes for what it was
      // granted; held while the steps go out, it would count twice and the last granted step would be refused unsent.
      await cloud.release(granted.value.id);
    }
  }

  const at = request.now;
  const executed = await executePolicySteps({
    cloud,
    name: policy.name,
    steps: kept,
    ownIds,
    at,
    author,
    beforeCreate: async (step) => {
      // Written before the call: a lost answer still holds back a second createImage for this pair.
      ledger = [...keptLedger(ledger, plan.status.firing), { serverId: step.serverId, firing: step.firing, at }];
      await store.setLedger(ledger);
    },
  });
  if (executed.created.length > 0 || ledger.some((e) => e.firing !== plan.status.firing)) {
    ledger = settleLedger(keptLedger(ledger, plan.status.firing), executed.created);
    await store.setLedger(ledger);
  }

  const record: PolicyRunRecord = { ...base, status: afterSending(plan.status, executed.created), steps: kept, notices, errors: executed.errors, ...(deferred === undefined ? {} : { deferred }) };
  const settled = held.length === 0 ? settledAfter(plan, policy.revision, paused, request.guard !== undefined) : undefined;
  return { record, activity: executed.activity, newest, ...(settled === undefined ? {} : { settled }) };
}

/** The status as the run leaves it: a server whose createImage was accepted is in progress; one the run could not send to still waits. */
function afterSending(status: PolicyStatus, created: Awaited<ReturnType<typeof executePolicySteps>>["created"]): PolicyStatus {
  const accepted = new Set(created.flatMap((c) => (c.imageId === undefined ? [] : [c.step.serverId])));
  const tried = new Set(created.map((c) => c.step.serverId));
  const servers = status.servers.map((s): PolicyServerStatus => {
    if (s.phase !== "due") return s;
    if (accepted.has(s.serverId)) return { ...s, phase: "in-progress" };
    return tried.has(s.serverId) ? s : { ...s, phase: "waiting" };
  });
  return { ...status, servers, inFlight: status.inFlight + accepted.size };
}

/** Nova answered that it did not act: a 4xx other than a rate limit, or 409/429/503/413 after the client's retries. */
function refusedOutright(error: { category: string; status?: number | undefined }): boolean {
  return error.category !== "transient" || (error.status !== undefined && [409, 413, 429, 503].includes(error.status));
}

/** The ledger after the calls: answered ones carry their image; a definite refusal (nothing created) is marked refused, still an attempt. */
function settleLedger(ledger: SentSnapshot[], created: Awaited<ReturnType<typeof executePolicySteps>>["created"]): SentSnapshot[] {
  let out = ledger;
  for (const c of created) {
    const same = (e: SentSnapshot) => e.serverId === c.step.serverId && e.firing === c.step.firing && e.imageId === undefined;
    if (c.imageId !== undefined) out = out.map((e) => (same(e) ? { ...e, imageId: c.imageId } : e));
    else if (c.error !== undefined && c.error.notSent === true) out = out.filter((e) => !same(e)); // never left this Worker (budget): no call
    else if (c.error !== undefined && refusedOutright(c.error)) out = out.map((e) => (same(e) ? { ...e, refused: true as const } : e));
    // Anything else (a 500, a lost answer) may have made an image: the entry holds back a second call for a while, and counts as one.
  }
  return out;
}
