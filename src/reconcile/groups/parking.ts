// Executes park, resume and unmark steps: a park writes the park mark first, then asks Nova; a refused park takes the mark back.
import { PARK_KEY } from "../../core/model/membership.ts";
import { formatParkMark } from "../../core/scaling/parking.ts";
import type { Step } from "../../core/model/types.ts";
import type { CloudPort } from "../gateway/gateway.ts";
import type { ActivityEntry, ErrorInfo, StepResult } from "../shared/service.ts";

type ParkStep = Extract<Step, { kind: "park" }>;
type ResumeStep = Extract<Step, { kind: "resume" }>;
type UnmarkStep = Extract<Step, { kind: "unmark" }>;

/**
 * Nova answered and refused (a 4xx): nothing happened, so the mark is taken back. Without an answer, or
 * with a 5xx, the action may have happened: the mark stays, marked unconfirmed, and the next listing tells
 * (it is "unknown"; still ACTIVE then means the park did not take, and it is retried).
 */
function refused(error: ErrorInfo): boolean {
  return error.status !== undefined && error.status < 500;
}

/**
 * Parks: the mark is written before the action, so a server novascale stopped or shelved never looks like
 * one someone else stopped (an elastic group would replace it, a power group would leave it off). A
 * refused park (4xx) takes the mark back: the server runs on, an ordinary member (not "woken").
 */
export async function executePark(cloud: CloudPort, step: ParkStep, now: Date): Promise<StepResult> {
  const marked = await cloud.mergeServerMetadata(step.serverId, { [PARK_KEY]: formatParkMark(now) });
  if (!marked.ok) return { step, outcome: marked.error.category === "notFound" || marked.error.notSent === true ? "skipped" : "failed", error: marked.error };
  const acted = await cloud.serverAction(step.serverId, step.action === "shelve" ? "shelve" : "stop");
  if (acted.ok) return { step, outcome: "done" };
  if (refused(acted.error) || acted.error.notSent === true) {
    await cloud.deleteServerMetadataItem(step.serverId, PARK_KEY);
    return { step, outcome: acted.error.notSent === true ? "skipped" : "failed", error: acted.error };
  }
  // A 5xx or no answer: the mark stays (the stop may have happened) but says the park is unconfirmed, so a
  // server that is still ACTIVE next tick is parked again instead of being taken for one started by hand.
  // If this write fails the plain mark stays (the server is then read as started by hand under respect).
  await cloud.mergeServerMetadata(step.serverId, { [PARK_KEY]: formatParkMark(now, true) });
  return { step, outcome: "unknown", error: acted.error };
}

/**
 * Resumes: only the action. Nova refuses metadata changes on a shelved server (409 in vm_state
 * shelved_offloaded), so the resume is recorded by the group (coordinator) and the mark is removed once
 * the server is ACTIVE again (an unmark step). An unshelve from SHELVED_OFFLOADED is charged to the
 * gateway's quota reading with `size`.
 */
export async function executeResume(cloud: CloudPort, step: ResumeStep, size?: { vcpus: number; ramMB: number }): Promise<StepResult> {
  const charge = step.takesQuota ? (step.flavor ?? size) : undefined;
  const acted = await cloud.serverAction(step.serverId, step.action, charge);
  if (acted.ok) return { step, outcome: "done" };
  // Not sent (the tick's budget ran out) or gone: nothing happened, so no resume is recorded.
  if (acted.error.category === "notFound" || acted.error.notSent === true) return { step, outcome: "skipped", error: acted.error };
  return { step, outcome: refused(acted.error) ? "failed" : "unknown", error: acted.error };
}

/** Removes the park mark of a server that is back (a failure is retried by the next tick's plan). */
export async function executeUnmark(cloud: CloudPort, step: UnmarkStep): Promise<StepResult> {
  const removed = await cloud.deleteServerMetadataItem(step.serverId, PARK_KEY);
  if (removed.ok) return { step, outcome: "done" };
  return { step, outcome: removed.error.notSent === true ? "skipped" : "failed", error: removed.error };
}

/** Activity lines for executed park and resume steps. */
export function parkingActivity(result: StepResult, at: string, author: string): ActivityEntry[] {
  const step = result.step;
  if (step.kind !== "park" && step.kind !== "resume") return [];
  const base = { at, author, serverIds: [step.serverId] };
  const verb = step.kind === "park" ? "park" : "unpark";
  if (result.outcome === "done") return [{ ...base, kind: verb, reason: step.reason }];
  if (result.outcome === "skipped" || result.error === undefined) return [];
  const lost = result.outcome === "unknown" ? `; the answer was lost (${result.error.message}): the next listing shows what happened` : "";
  return [{ ...base, kind: `${verb}-failed`, reason: `${step.reason}${lost}`, error: result.error }];
}
