// Pure decisions of a snapshot policy's run between planning and sending: the createImage ledger and the budget's share.
import { selectServers, type PolicyPlan, type PolicyStep } from "./policy-snapshots.ts";
import type { SnapshotPolicyRules } from "../model/rules.ts";
import { latestCronFiring } from "../schedule/schedule.ts";
import type { ObservedServer, Step } from "../model/types.ts";

/** A createImage the policy's object sent (or was about to send) for a server and a firing. */
export interface SentSnapshot {
  serverId: string;
  firing: string;
  /** When it was sent (ISO). */
  at: string;
  /** The image Nova answered with; absent while unanswered or when the answer was lost. */
  imageId?: string;
  /** Nova refused the call outright (4xx, or a 5xx it did not act on): no image, but an attempt all the same. */
  refused?: true;
}

/**
 * createImage calls this object sent per server for `firing` (issue 24 item 14): every call counts toward
 * maxAttempts, the ones Nova refused outright too, not only those that left a failed image.
 */
export function callsByServer(ledger: readonly SentSnapshot[], firing: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  if (firing === null) return out;
  for (const e of ledger) if (e.firing === firing) out[e.serverId] = (Object.hasOwn(out, e.serverId) ? out[e.serverId]! : 0) + 1;
  return out;
}

/**
 * How long a sent createImage whose image no listing shows holds back another one for the same server
 * and firing. Glance shows a new image at once on every cloud we know; this covers a lost answer (the
 * image may exist) and a listing served from a lagging replica. After it, the planner's attempts decide.
 */
export const LEDGER_HOLD_MS = 15 * 60_000;

type SnapshotStep = Extract<PolicyStep, { kind: "snapshot" }>;

/**
 * Drops snapshot steps for a (server, firing) this object already sent a createImage for, while that
 * image is not in the listing the plan was made from (once it is, the planner counts it: in progress,
 * active or failed). So two runs, however they interleave with Glance, never snapshot a server twice
 * for one firing.
 */
export function withoutResent(steps: readonly PolicyStep[], ledger: readonly SentSnapshot[], listedIds: ReadonlySet<string>, now: Date): { steps: PolicyStep[]; held: SnapshotStep[] } {
  // A refused call created nothing: it holds nothing back (the attempts count decides what follows).
  const holding = ledger.filter((e) => e.refused !== true && (e.imageId === undefined || !listedIds.has(e.imageId)) && now.getTime() - Date.parse(e.at) < LEDGER_HOLD_MS);
  const held: SnapshotStep[] = [];
  const kept = steps.filter((s) => {
    if (s.kind !== "snapshot" || !holding.some((e) => e.serverId === s.serverId && e.firing === s.firing)) return true;
    held.push(s);
    return false;
  });
  return { steps: kept, held };
}

/** The ledger worth keeping: entries of the latest firing only (an older firing's are settled by the planner). */
export function keptLedger(ledger: readonly SentSnapshot[], firing: string | null): SentSnapshot[] {
  return firing === null ? [] : ledger.filter((e) => e.firing === firing);
}

/**
 * The steps a grant of `allowed` requests covers, in plan order: snapshots come first there (a firing's
 * grace period is short; pruning can wait a tick). The rest waits for the next tick.
 */
export function fitPolicySteps(steps: readonly PolicyStep[], allowed: number): { kept: PolicyStep[]; deferred: PolicyStep[] } {
  const n = Math.max(0, Math.floor(allowed));
  const ordered = [...steps.filter((s) => s.kind === "snapshot"), ...steps.filter((s) => s.kind !== "snapshot")];
  return { kept: ordered.slice(0, n), deferred: ordered.slice(n) };
}

/**
 * A policy whose latest firing is settled: every selected server has its snapshot (or gave up), nothing
 * is in flight, retention has nothing left to delete. Until the next firing, a change of the rules, the
 * pause or the selected servers, a run would find nothing to do: it is skipped without a cloud call
 * (a steady policy costs no subrequest per tick).
 */
export interface SettledMark {
  firing: string;
  revision: number;
  paused: boolean;
  /** The selected servers' ids, sorted, joined. */
  selected: string;
}

const FINAL_PHASES = new Set(["done", "exhausted", "missed"]);

/** The mark a run leaves, or undefined when something is still to be done (or it could not see everything). */
export function settledAfter(plan: PolicyPlan, revision: number, paused: boolean, guardComplete: boolean): SettledMark | undefined {
  const { status } = plan;
  if (status.firing === null || !guardComplete || plan.steps.length > 0 || status.inFlight > 0) return undefined;
  if (!status.servers.every((s) => FINAL_PHASES.has(s.phase))) return undefined;
  if (plan.retention.some((d) => d.action === "delete" || d.pending === true)) return undefined;
  return { firing: status.firing, revision, paused, selected: status.servers.map((s) => s.serverId).join(",") };
}

/** Whether a run now would find the same settled state (same firing, rules revision, pause, selection). */
export function stillSettled(mark: SettledMark | undefined, current: { rules: SnapshotPolicyRules; revision: number; paused: boolean; servers: readonly ObservedServer[]; now: Date }): boolean {
  if (mark === undefined || mark.revision !== current.revision || mark.paused !== current.paused) return false;
  const firing = latestCronFiring(current.rules.cron, current.rules.timezone, current.now)?.toISOString();
  if (firing !== mark.firing) return false;
  return selectServers(current.rules.select, current.servers).map((s) => s.id).join(",") === mark.selected;
}

/** Nova's task_state while each park or resume action is under way (createImage answers 409 meanwhile). */
const TASK_OF_ACTION: Readonly<Record<string, string>> = { stop: "powering-off", shelve: "shelving", start: "powering-on", unshelve: "unshelving" };

/**
 * The servers as a snapshot run after the groups must see them (issue 24 item 13): the tick's listing
 * predates the groups' actions, so a server a group just deleted is left out (it is going) and one it just
 * parked or resumed carries the task Nova now has under way, so the planner sees it busy and takes it next
 * tick (a stopped server is snapshotted parked; a shelved one not at all while it is shelved) instead of
 * burning an attempt on a 409. A step that failed (Nova refused, nothing changed) changes nothing.
 */
export function afterGroupSteps(servers: readonly ObservedServer[], results: ReadonlyArray<{ step: Step; outcome: string }>): ObservedServer[] {
  const gone = new Set<string>();
  const busy = new Map<string, string>();
  for (const r of results) {
    if (r.outcome === "failed" || r.outcome === "skipped") continue;
    if (r.step.kind === "delete") gone.add(r.step.serverId);
    else if (r.step.kind === "park" || r.step.kind === "resume") busy.set(r.step.serverId, TASK_OF_ACTION[r.step.action] ?? r.step.action);
  }
  if (gone.size === 0 && busy.size === 0) return [...servers];
  return servers.filter((s) => !gone.has(s.id)).map((s) => (busy.has(s.id) ? { ...s, taskState: busy.get(s.id)! } : s));
}
