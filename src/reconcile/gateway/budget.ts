// A tick's budget: the subrequests and the time one invocation may spend on the cloud, charged by the transport and held by grants.
import { BudgetSettingsSchema, type BudgetSettings, type Env } from "../../config/env.ts";
import type { RequestBudget } from "../../openstack/http.ts";

/** Workers' free plan allows 50 subrequests per invocation: the default keeps a free deployment safe. */
export const DEFAULT_SUBREQUEST_BUDGET = 50;
/** Cron ticks come a minute apart: a tick's last request starts before this much time has passed. */
export const DEFAULT_TICK_SECONDS = 45;

export interface TickBudgetOptions {
  /** Requests (every attempt: token, discovery, retries included) this tick may send. */
  subrequests: number;
  /** Absolute ms since the epoch after which nothing new starts; undefined: no deadline. */
  deadline?: number | undefined;
  clock?: () => number;
  /** When the tick began on `clock` (ms); default: the clock's reading at construction. */
  startedAt?: number;
}

/** What a tick reports about its budget (status, logs, the benchmark). */
export interface BudgetReport {
  limit: number;
  spent: number;
  /** ISO-8601, when there is a deadline. */
  deadline?: string;
}

/**
 * One per tick, shared by every transport of the tick (so token, discovery, listings, reads, boots,
 * deletes and retries all count) and by the gateway, which holds requests for a group before it acts.
 * The limit is never exceeded: a request past it is refused unsent. Holding is what keeps a group from
 * starting work that the budget cannot finish: requests in flight under a grant count twice until the
 * grant is released (spent and held), which errs on the safe side.
 */
export class TickBudget implements RequestBudget {
  readonly limit: number;
  readonly deadline: number | undefined;
  readonly #clock: () => number;
  readonly #startedAt: number;
  #spent = 0;
  #held = 0;
  /** Requests kept back from everyone until set to 0 (the policies' turn, while the groups run): retries cannot spend them either. */
  #kept = 0;

  constructor(options: TickBudgetOptions) {
    this.limit = Math.max(0, Math.floor(options.subrequests));
    this.deadline = options.deadline;
    this.#clock = options.clock ?? (() => Date.now());
    this.#startedAt = options.startedAt ?? this.#clock();
  }

  /**
   * Time elapsed in the tick (ms) on the budget's own clock. Holds add it to the tick's `now`
   * (core/scaling/lost-boots.ts tickClockTime): a difference of one clock, never its absolute reading.
   */
  elapsedMs(): number {
    return Math.max(0, this.#clock() - this.#startedAt);
  }

  tryCharge(): boolean {
    if (this.#spent >= this.limit - this.#kept) return false;
    this.#spent += 1;
    return true;
  }

  get spent(): number {
    return this.#spent;
  }

  /** True once the deadline has passed: nothing new starts. */
  expired(): boolean {
    return this.deadline !== undefined && this.#clock() >= this.deadline;
  }

  /** Requests that may still be promised to a group (none after the deadline). */
  available(): number {
    if (this.expired()) return 0;
    return Math.max(0, this.limit - this.#spent - this.#held - this.#kept);
  }

  /**
   * Keeps `requests` back from every charge and grant until called again with 0. Unlike a hold, which
   * only stops new grants, a kept request cannot be spent by a retry of a request already granted.
   */
  keep(requests: number): void {
    this.#kept = Math.max(0, Math.floor(requests));
  }

  hold(requests: number): void {
    this.#held += Math.max(0, requests);
  }

  release(requests: number): void {
    this.#held = Math.max(0, this.#held - Math.max(0, requests));
  }

  report(): BudgetReport {
    const out: BudgetReport = { limit: this.limit, spent: this.#spent };
    if (this.deadline !== undefined) out.deadline = new Date(this.deadline).toISOString();
    return out;
  }
}

/**
 * The budget of one invocation starting at `startMs`, from NOVASCALE_SUBREQUEST_BUDGET and
 * NOVASCALE_TICK_SECONDS. A bad setting is named in `problem` and the safe default is used instead:
 * a typo must not lift the cap (a free-plan Worker past 50 subrequests fails mid-tick).
 */
export function budgetFromEnv(env: Env, startMs: number, clock?: () => number): { budget: TickBudget; problem?: string } {
  const raw = {
    NOVASCALE_SUBREQUEST_BUDGET: blankToUndefined(env.NOVASCALE_SUBREQUEST_BUDGET),
    NOVASCALE_TICK_SECONDS: blankToUndefined(env.NOVASCALE_TICK_SECONDS),
  };
  const parsed = BudgetSettingsSchema.safeParse(raw);
  const settings: BudgetSettings = parsed.success ? parsed.data : {};
  const subrequests = settings.NOVASCALE_SUBREQUEST_BUDGET ?? DEFAULT_SUBREQUEST_BUDGET;
  const seconds = settings.NOVASCALE_TICK_SECONDS ?? DEFAULT_TICK_SECONDS;
  const budget = new TickBudget({ subrequests, deadline: startMs + seconds * 1000, startedAt: startMs, ...(clock ? { clock } : {}) });
  if (parsed.success) return { budget };
  const problem = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
  return { budget, problem: `${problem} (using the defaults: ${DEFAULT_SUBREQUEST_BUDGET} subrequests, ${DEFAULT_TICK_SECONDS} s)` };
}

function blankToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}
