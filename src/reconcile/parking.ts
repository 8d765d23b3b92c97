// Executes park and resume steps: the park mark first, then the Nova action; a refused action takes the mark back.
import { PARK_KEY } from "../core/membership.ts";
import { formatParkMark } from "../core/parking.ts";
import type { Step } from "../core/types.ts";
import type { ServerAction } from "../openstack/cloud.ts";
import type { CloudPort } from "./gateway.ts";
import type { ActivityEntry, ErrorInfo, StepResult } from "./service.ts";

type ParkStep = Extract<Step, { kind: "park" }>;
type ResumeStep = Extract<Step, { kind: "resume" }>;

/**
 * Nova answered and refused (a 4xx): nothing happened, so the mark is taken back. Without an answer, or
 * with a 5xx, the action may have happened: the mark stays and the next listing tells (it is "unknown").
 */
function refused(error: ErrorInfo): boolean {
  return error.status !== undefined && error.status < 500;
}

/**
 * The mark is written before the action: a server novascale stopped or shelved must never look like one
 * someone else stopped (an elastic group would replace it, a power group would leave it off).
 */
async function markThenAct(
  cloud: CloudPort,
  step: ParkStep | ResumeStep,
  mark: string,
  action: ServerAction,
  undo: () => Promise<unknown>,
  charge?: { vcpus: number; ramMB: number },
): Promise<StepResult> {
  const marked = await cloud.mergeServerMetadata(step.serverId, { [PARK_KEY]: mark });
  if (!marked.ok) {
    // A server that is gone needs no parking or resuming: the next listing shows it gone.
    if (marked.error.category === "notFound") return { step, outcome: "skipped", error: marked.error };
    return { step, outcome: "failed", error: marked.error };
  }
  const acted = await cloud.serverAction(step.serverId, action, charge);
  if (acted.ok) return { step, outcome: "done" };
  if (refused(acted.error)) {
    await undo();
    return { step, outcome: "failed", error: acted.error };
  }
  return { step, outcome: "unknown", error: acted.error };
}

export function executePark(cloud: CloudPort, step: ParkStep, now: Date): Promise<StepResult> {
  // A refused park leaves the server running: without the mark it is an ordinary member again (not "woken").
  const undo = () => cloud.deleteServerMetadataItem(step.serverId, PARK_KEY);
  return markThenAct(cloud, step, formatParkMark("parked", now), step.action === "shelve" ? "shelve" : "stop", undo);
}

export function executeResume(cloud: CloudPort, step: ResumeStep, now: Date, size?: { vcpus: number; ramMB: number }): Promise<StepResult> {
  // A refused resume leaves the server parked: it keeps a parked mark, so it is resumed again later.
  const undo = () => cloud.mergeServerMetadata(step.serverId, { [PARK_KEY]: formatParkMark("parked", now) });
  const charge = step.takesQuota ? (step.flavor ?? size) : undefined;
  return markThenAct(cloud, step, formatParkMark("resumed", now), step.action, undo, charge);
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
