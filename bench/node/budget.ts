// The budget benchmarks: a scale event bigger than the subrequest budget, a hanging cloud, and 1,000 groups, on fresh fake clouds.
import type { FaultSpecInput } from "../../test/fake-cloud/faults.ts";
import { GROUP_KEY } from "../../src/core/model/membership.ts";
import { cloudBindings, cloudOptions, FLAVOR, groupName, IMAGE, measuredTick, MINUTE, putGroups, seedServers, type TickFigures } from "./fake-grid.ts";
import { launchFakeCloud } from "./fake-cloud-handle.ts";
import { startBenchWorker } from "./worker-runner.ts";

export interface BudgetScenario {
  /** e.g. "100 groups, +2 each, budget 50". */
  name: string;
  groups: number;
  membersPerGroup: number;
  step: number;
  budget: number;
  tickSeconds: number | undefined;
  /** The steady ticks before the event (cold, warm), then the event's ticks until it converged. */
  steady: TickFigures[];
  event: TickFigures[];
  converged: boolean;
  /** The most subrequests one tick of the event spent. */
  maxSubrequests: number;
}

export interface ScenarioOptions {
  groups: number;
  membersPerGroup: number;
  /** Servers every group gains (+) or loses (-) at the event. */
  step: number;
  budget: number;
  tickSeconds?: number;
  /** Faults on the fake cloud from the event on (e.g. a hang). */
  faults?: FaultSpecInput[];
  maxTicks: number;
  /** Measure the steady cold and warm ticks too. */
  steady?: boolean;
}

function membersOf(snapshots: Array<{ metadata: Record<string, string>; status: string }>): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of snapshots) {
    if (s.status === "DELETED" || s.status === "SOFT_DELETED") continue;
    const group = s.metadata[GROUP_KEY];
    if (group !== undefined) out.set(group, (out.get(group) ?? 0) + 1);
  }
  return out;
}

/** Groups of `membersPerGroup` servers each; at the event every group's schedule moves by `step`; ticks a minute apart until every group has its new count. */
export async function measureBudgetScenario(scriptPath: string, o: ScenarioOptions, log: (line: string) => void = () => {}): Promise<BudgetScenario> {
  const t0 = Math.floor(Date.now() / MINUTE) * MINUTE;
  const tEvent = t0 + 2 * MINUTE;
  const names = Array.from({ length: o.groups }, (_, i) => groupName(i));
  const target = o.membersPerGroup + o.step;
  const handle = await launchFakeCloud(cloudOptions(t0));
  const steady: TickFigures[] = [];
  const event: TickFigures[] = [];
  let converged = false;
  try {
    const specs = names.flatMap((g) => Array.from({ length: o.membersPerGroup }, (_, k) => ({ name: `${g}-${k}`, metadata: { [GROUP_KEY]: g } })));
    seedServers(handle.cloud, specs, t0 - 24 * 60 * MINUTE);
    const vars: Record<string, string> = { ...cloudBindings(handle), NOVASCALE_SUBREQUEST_BUDGET: String(o.budget) };
    if (o.tickSeconds !== undefined) vars["NOVASCALE_TICK_SECONDS"] = String(o.tickSeconds);
    const worker = await startBenchWorker({ scriptPath, cloud: vars });
    try {
      await putGroups(worker, names, {
        image: IMAGE,
        flavor: FLAVOR,
        min: 0,
        max: 10_000,
        default: o.membersPerGroup,
        schedules: [{ at: new Date(tEvent).toISOString(), desired: target, name: "bench event" }],
      });
      if (o.steady ?? true) {
        steady.push(await measuredTick(worker, handle.cloud, t0, "steady, cold isolate"));
        steady.push(await measuredTick(worker, handle.cloud, t0 + MINUTE, "steady, warm isolate"));
      }
      for (const fault of o.faults ?? []) handle.cloud.addFault(fault);
      for (let i = 0; i < o.maxTicks && !converged; i++) {
        const figures = await measuredTick(worker, handle.cloud, tEvent + i * MINUTE, `event tick ${i + 1}`);
        event.push(figures);
        const counts = membersOf(handle.cloud.serverSnapshots());
        const done = names.filter((g) => (counts.get(g) ?? 0) === target).length;
        log(`  ${o.groups} groups ${o.step > 0 ? "+" : ""}${o.step}, budget ${o.budget}, tick ${i + 1}: ${figures.cloud.total} subrequests, ${done}/${o.groups} groups done, ${figures.wallMs.toFixed(0)} ms wall`);
        converged = done === o.groups;
        if (o.faults !== undefined && o.faults.length > 0) break; // a hang is measured for one tick
      }
    } finally {
      await worker.dispose();
    }
  } finally {
    await handle.close();
  }
  const sign = o.step > 0 ? "+" : "";
  return {
    name: `${o.groups} groups, ${sign}${o.step} each, budget ${o.budget}`,
    groups: o.groups,
    membersPerGroup: o.membersPerGroup,
    step: o.step,
    budget: o.budget,
    tickSeconds: o.tickSeconds,
    steady,
    event,
    converged,
    maxSubrequests: Math.max(0, ...event.map((t) => t.cloud.total)),
  };
}

/** The one line `npm run bench -- --only budget` leads with. */
export function budgetLine(s: BudgetScenario): string {
  const per = s.event.map((t) => t.cloud.total).join(", ");
  const ticks = s.converged ? `converged in ${s.event.length} ticks` : `NOT converged after ${s.event.length} ticks`;
  return `budget: ${s.name}: max ${s.maxSubrequests} subrequests in a tick (${s.maxSubrequests <= s.budget ? "within" : "OVER"} the budget), ${ticks} (per tick: ${per})`;
}

export interface BudgetResults {
  main: BudgetScenario;
  scaleIn?: BudgetScenario;
  hang?: BudgetScenario;
  many?: BudgetScenario[];
}

/** The scenarios of `--only budget` (and of a full run). `many` adds the 1,000-group runs. */
export async function measureBudget(scriptPath: string, options: { many: boolean; quick: boolean }, progress: (line: string) => void, log: (line: string) => void): Promise<BudgetResults> {
  progress("budget: 100 groups, +2 each, budget 50...");
  const main = await measureBudgetScenario(scriptPath, { groups: 100, membersPerGroup: 10, step: 2, budget: 50, maxTicks: 8 }, log);
  const out: BudgetResults = { main };
  if (options.quick) return out;
  progress("budget: 100 groups, -2 each, budget 50...");
  out.scaleIn = await measureBudgetScenario(scriptPath, { groups: 100, membersPerGroup: 12, step: -2, budget: 50, maxTicks: 10, steady: false }, log);
  progress("budget: 100 groups, +2 each, against a cloud whose boots hang (60 s), NOVASCALE_TICK_SECONDS=15...");
  out.hang = await measureBudgetScenario(
    scriptPath,
    { groups: 100, membersPerGroup: 10, step: 2, budget: 50, tickSeconds: 15, maxTicks: 1, steady: false, faults: [{ kind: "slow", delayMs: 60_000, times: 1_000_000, method: "POST", path: "/servers$" }] },
    log,
  );
  if (options.many) {
    out.many = [];
    progress("budget: 1,000 groups x 10 servers, +1 each, budget 1000 (paid plan)...");
    out.many.push(await measureBudgetScenario(scriptPath, { groups: 1_000, membersPerGroup: 10, step: 1, budget: 1_000, maxTicks: 4 }, log));
    progress("budget: 1,000 groups x 10 servers, +1 each, budget 50 (free plan), first ticks...");
    out.many.push(await measureBudgetScenario(scriptPath, { groups: 1_000, membersPerGroup: 10, step: 1, budget: 50, maxTicks: 3, steady: false }, log));
  }
  return out;
}
