// How much of a group's plan fits a tick's subrequest budget: pure decisions (whose turn it is: turns.ts).
import type { Step } from "../model/types.ts";

/** What a group asks of the budget before it acts: one request per delete and per boot request. */
export interface BudgetAsk {
  deletes: number;
  /** Boot requests (one multi-create per boot step). */
  boots: number;
  /** Shared reads booting needs that nobody made this tick yet (image, flavor, /limits). */
  reads: number;
}

/** What the budget gives: how many deletes and boot requests may go, and the requests held for them. */
export interface BudgetGrant {
  deletes: number;
  boots: number;
  /** Requests held for this grant (reads included when boots were granted). */
  cost: number;
}

/**
 * Splits `available` requests over one group's ask. Deletes first (one request each, and they free
 * capacity a replacement boot needs); then boots, only when their shared reads and at least one boot
 * request fit too: reads without a boot would spend the budget and start nothing.
 */
export function grantRequests(available: number, ask: BudgetAsk): BudgetGrant {
  let left = Math.max(0, Math.floor(available));
  const deletes = Math.min(Math.max(0, ask.deletes), left);
  left -= deletes;
  let boots = 0;
  let reads = 0;
  if (ask.boots > 0 && left > ask.reads) {
    reads = Math.max(0, ask.reads);
    boots = Math.min(ask.boots, left - reads);
  }
  return { deletes, boots, cost: deletes + boots + reads };
}

/** The ask of a plan: its delete steps and boot steps (caps already applied), plus the reads booting needs. */
export function askFor(steps: readonly Step[], reads: number): BudgetAsk {
  const deletes = steps.reduce((n, s) => n + (isDeleteClass(s) ? requestsOf(s) : 0), 0);
  const boots = steps.reduce((n, s) => n + (isBootClass(s) ? requestsOf(s) : 0), 0);
  return { deletes, boots, reads: boots > 0 ? reads : 0 };
}

/**
 * Requests a step sends: a park two (the park mark, then shelve or os-stop), every other one. Parks and
 * unmarks take from the deletes' share (servers taken down, housekeeping), resumes from the boots'.
 */
function requestsOf(step: Step): number {
  return step.kind === "park" ? 2 : 1;
}
function isDeleteClass(step: Step): boolean {
  return step.kind === "delete" || step.kind === "park" || step.kind === "unmark";
}
function isBootClass(step: Step): boolean {
  return step.kind === "boot" || step.kind === "resume";
}

/**
 * Keeps, in plan order, the deletes and boot steps a grant covers; every other step passes untouched.
 * What is left out is deferred to the next tick (the plan is recomputed then from a fresh listing).
 */
export function fitSteps(steps: readonly Step[], grant: Pick<BudgetGrant, "deletes" | "boots">): { kept: Step[]; deferred: Step[] } {
  let deletes = grant.deletes;
  let boots = grant.boots;
  const kept: Step[] = [];
  const deferred: Step[] = [];
  for (const step of steps) {
    const cost = requestsOf(step);
    if (isDeleteClass(step)) {
      if (deletes >= cost) {
        deletes -= cost;
        kept.push(step);
      } else deferred.push(step);
    } else if (isBootClass(step)) {
      if (boots >= cost) {
        boots -= cost;
        kept.push(step);
      } else deferred.push(step);
    } else kept.push(step);
  }
  return { kept, deferred };
}
