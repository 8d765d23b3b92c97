// CPU of a small deployment's ticks in workerd (cold/warm x steady/scale), with V8 CPU profiles of the worker's isolate: where the time goes.
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { GROUP_KEY } from "../../src/core/model/membership.ts";
import { cloudBindings, cloudOptions, countsFrom, FLAVOR, groupName, IMAGE, MINUTE, putGroups, seedServers } from "./fake-grid.ts";
import type { FakeServer } from "../../test/fake-cloud/model.ts";
import { launchFakeCloud, type FakeCloudHandle } from "./fake-cloud-handle.ts";
import { addInto, BundleSources, InspectorSession, summarise, type CpuProfile, type ProfileSummary } from "./inspector.ts";
import { REPO_ROOT, startBenchWorker, type BenchWorker } from "./worker-runner.ts";

/** The worker's own isolate in Miniflare (the others are Miniflare's entry, KV and cache simulators). */
const WORKER_TARGET = "core:user:";
/** V8 sampling interval, microseconds: fine enough for ticks of a few ms. */
const SAMPLING_US = 50;
/** Real time to let pass after a tick that acted (see PAUSE_AFTER_ACTION_MS in fake-grid.ts). */
const PAUSE_AFTER_ACTION_MS = 1_500;

export type TickKind = "cold steady" | "cold scale-out" | "warm steady" | "warm scale-out" | "warm scale-in";
export const TICK_KINDS: readonly TickKind[] = ["cold steady", "cold scale-out", "warm steady", "warm scale-out", "warm scale-in"];

export interface CpuScenario {
  /** e.g. "3 groups x 50 servers". */
  name: string;
  groups: number;
  membersPerGroup: number;
  foreign: number;
}

export const CPU_SCENARIOS: readonly CpuScenario[] = [
  { name: "1 group x 10 servers", groups: 1, membersPerGroup: 9, foreign: 1 },
  { name: "3 groups x 50 servers", groups: 3, membersPerGroup: 15, foreign: 5 },
];

export interface TickSample {
  kind: TickKind;
  /** Whether the V8 profiler ran during this tick (its figures then carry the profiler's own cost). */
  profiled: boolean;
  /** workerd process CPU, all threads (worker, simulators, harness): the upper bound the grid reports. */
  workerdCpuMs: number;
  /** Sampled busy time of the worker's isolate (V8 profile, everything but idle): the worker's own CPU. */
  isolateMs: number;
  /** workerd CPU of a scheduled() event the bench wrapper answers without calling the worker, right after this tick. */
  harnessMs: number;
  /** Warm steady ticks: the same tick again with the groups' Durable Objects answering at once (the cron invocation's share), harness subtracted. */
  cronOnlyMs?: number;
  /**
   * Warm ticks: the same tick again with each group's Durable Object replaying, over RPC, the gateway
   * calls its real reconcile made (bench/worker/entry.ts): the cron invocation's own share, the cloud
   * requests it carries for the groups included; harness subtracted.
   */
  replayMs?: number;
  /** Warm ticks: the same replay inside the cron invocation (no Durable Object, no RPC): a lower bound where replayMs is an upper one; harness subtracted. */
  directMs?: number;
  /** The replays' subrequests (the same as the real tick's when a replay is faithful). */
  replaySubrequests?: number;
  directSubrequests?: number;
  subrequests: number;
  /** Profiled warm ticks: the profile of the replay (the cron invocation's own work, see replayMs). */
  cronProfile?: ProfileSummary;
  byFunction: Map<string, number>;
  byPhase: Map<string, number>;
  inclusiveSrc: Map<string, number>;
}

export interface ScenarioResult {
  scenario: CpuScenario;
  samples: TickSample[];
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

/**
 * One fresh workerd (cold isolate) per run. A run's first tick is cold: a steady tick, or (every
 * other run) a scale-out, the worst cold case. Then warm ticks a minute apart: scale events
 * alternate +2/-2 every other minute, steady ticks between them.
 */
async function measureRun(scriptPath: string, configPath: string | undefined, s: CpuScenario, coldKind: "cold steady" | "cold scale-out", events: number, profiled: boolean, log: (line: string) => void): Promise<TickSample[]> {
  const t0 = Math.floor(Date.now() / MINUTE) * MINUTE;
  const d = s.membersPerGroup;
  const names = Array.from({ length: s.groups }, (_, i) => groupName(i));
  // Minute m's desired count: cold scale-out raises at t0; then +2 at minutes 2, 6, 10...; back at 4, 8, 12...
  // Rules as an operator writes them: cron entries in a time zone (each parse checks them with croner and
  // Intl), yearly here so that they never fire inside the bench's minutes, plus the events' one-shot entries.
  const schedules: Array<{ at: string; desired: number; name: string } | { cron: string; timezone: string; desired: number; name: string }> = [
    { cron: "0 8 1 1 *", timezone: "Europe/Berlin", desired: d, name: "new year, morning" },
    { cron: "0 18 24 12 *", timezone: "Europe/Berlin", desired: d, name: "christmas eve" },
  ];
  const kinds: TickKind[] = [coldKind];
  if (coldKind === "cold scale-out") {
    schedules.push({ at: new Date(t0).toISOString(), desired: d + 2, name: "cold out" }, { at: new Date(t0 + MINUTE).toISOString(), desired: d, name: "back" });
    kinds.push("warm scale-in");
  } else {
    kinds.push("warm steady");
  }
  for (let e = 0; e < events; e++) {
    const out = t0 + (2 + 4 * e) * MINUTE;
    schedules.push({ at: new Date(out).toISOString(), desired: d + 2, name: `out ${e}` }, { at: new Date(out + 2 * MINUTE).toISOString(), desired: d, name: `in ${e}` });
    kinds.push("warm scale-out", "warm steady", "warm scale-in", "warm steady");
  }

  const handle = await launchFakeCloud(cloudOptions(t0));
  const samples: TickSample[] = [];
  try {
    const specs = names.flatMap((g) => Array.from({ length: d }, (_, k) => ({ name: `${g}-${k}`, metadata: { [GROUP_KEY]: g } })));
    for (let k = 0; k < s.foreign; k++) specs.push({ name: `someone-else-${k}`, metadata: { [GROUP_KEY]: "" } });
    seedServers(handle.cloud, specs.map((x) => (x.metadata[GROUP_KEY] === "" ? { name: x.name, metadata: { owner: "another team" } } : x)), t0 - 24 * 60 * MINUTE);
    const port = await freePort();
    const worker = await startBenchWorker({ scriptPath, ...(configPath === undefined ? {} : { configPath }), cloud: { ...cloudBindings(handle), NOVASCALE_SUBREQUEST_BUDGET: "50" }, ...(profiled ? { inspectorPort: port } : {}) });
    const sources = new BundleSources(`${scriptPath}.map`);
    const session = profiled ? await InspectorSession.open(port, WORKER_TARGET) : undefined;
    try {
      await putGroups(worker, names, { image: IMAGE, flavor: FLAVOR, min: 0, max: 10_000, default: d, schedules });
      for (let m = 0; m < kinds.length; m++) {
        const at = t0 + m * MINUTE;
        handle.cloud.setTime(at);
        handle.cloud.resetStats();
        const before = new Map(handle.cloud.servers);
        await session?.startProfile(SAMPLING_US);
        const tick = await worker.tick(new Date(at));
        const profile = await session?.stopProfile();
        const counts = countsFrom(handle.cloud);
        const harness = await worker.tick(new Date(at), "bench-noop");
        const kind = kinds[m]!;
        const cronOnly = kind === "warm steady" && !profiled ? await worker.tick(new Date(at), "bench-cron-only") : undefined;
        // Unprofiled runs time the replay; profiled ones profile it (where the cron invocation's own time goes).
        const replay = kind.startsWith("warm") ? await replayTick(handle, worker, at, before, session) : undefined;
        const cronProfile = replay?.profile === undefined ? undefined : summarise(replay.profile, sources);
        const summary = profile === undefined ? { busyMs: NaN, byFunction: new Map<string, number>(), byPhase: new Map<string, number>(), inclusiveSrc: new Map<string, number>() } : summarise(profile, sources);
        samples.push({ kind, profiled, workerdCpuMs: tick.workerdCpuMs, isolateMs: summary.busyMs, harnessMs: harness.workerdCpuMs, ...(cronOnly === undefined ? {} : { cronOnlyMs: Math.max(0, cronOnly.workerdCpuMs - harness.workerdCpuMs) }), ...(replay === undefined || profiled ? {} : { replayMs: Math.max(0, replay.workerdCpuMs - harness.workerdCpuMs), replaySubrequests: replay.subrequests, ...(replay.directSubrequests === undefined ? {} : { directSubrequests: replay.directSubrequests }), ...(replay.directCpuMs === undefined ? {} : { directMs: Math.max(0, replay.directCpuMs - harness.workerdCpuMs) }) }), ...(cronProfile === undefined ? {} : { cronProfile }), subrequests: counts.total, byFunction: summary.byFunction, byPhase: summary.byPhase, inclusiveSrc: summary.inclusiveSrc });
        const sampled = profiled ? `, ${summary.busyMs.toFixed(1)} ms sampled in the isolate` : "";
        const replayed = replay === undefined ? "" : `, replayed ${replay.workerdCpuMs.toFixed(1)} ms workerd${replay.directCpuMs === undefined ? "" : ` (in the cron invocation ${replay.directCpuMs.toFixed(1)})`} with ${replay.subrequests} subrequests`;
        log(`  ${s.name}, ${kind}: ${tick.workerdCpuMs.toFixed(1)} ms workerd (harness ${harness.workerdCpuMs.toFixed(1)})${sampled}, ${counts.total} subrequests (${counts.boots} boots, ${counts.deletes} deletes)${replayed}`);
        if (counts.boots + counts.deletes > 0) await new Promise((resolve) => setTimeout(resolve, PAUSE_AFTER_ACTION_MS));
      }
    } finally {
      session?.close();
      await worker.dispose();
    }
  } finally {
    await handle.close();
  }
  return samples;
}

/**
 * The tick at `at` again, with the groups' Durable Objects replaying their recorded gateway calls over
 * RPC, then (unprofiled) the same calls replayed inside the cron invocation. Before each, the fake cloud
 * is put back as it was before the real tick (servers it deleted are there again) so the replayed
 * deletes and boots meet the same servers; at the end, as it was after it (the replays' boots are
 * removed; their pending transitions find no server and do nothing), so the next tick is unchanged.
 */
async function replayTick(handle: FakeCloudHandle, worker: BenchWorker, at: number, before: ReadonlyMap<string, FakeServer>, session: InspectorSession | undefined): Promise<{ workerdCpuMs: number; directCpuMs?: number; subrequests: number; directSubrequests?: number; profile?: CpuProfile }> {
  const servers = handle.cloud.servers;
  const after = new Map(servers);
  const putBack = () => {
    for (const [id, server] of before) if (!servers.has(id)) servers.set(id, server);
  };
  putBack();
  handle.cloud.resetStats();
  await session?.startProfile(SAMPLING_US);
  const tick = await worker.tick(new Date(at), "bench-cron-replay");
  const profile = await session?.stopProfile();
  const subrequests = countsFrom(handle.cloud).total;
  let directCpuMs: number | undefined;
  let directSubrequests: number | undefined;
  if (session === undefined) {
    putBack();
    handle.cloud.resetStats();
    directCpuMs = (await worker.tick(new Date(at), "bench-cron-direct")).workerdCpuMs;
    directSubrequests = countsFrom(handle.cloud).total;
  }
  servers.clear();
  for (const [id, server] of after) servers.set(id, server);
  return { workerdCpuMs: tick.workerdCpuMs, subrequests, ...(directCpuMs === undefined ? {} : { directCpuMs }), ...(directSubrequests === undefined ? {} : { directSubrequests }), ...(profile === undefined ? {} : { profile }) };
}

export interface CpuOptions {
  /** Fresh isolates per scenario measured without the profiler (each gives one cold tick; every other one a cold scale-out). */
  runs: number;
  /** Fresh isolates per scenario with the V8 profiler on (where the time goes; at least 2: a cold steady tick and a cold scale-out). */
  profiledRuns: number;
  /** Scale-out/scale-in pairs per run. */
  events: number;
  /** Only these scenarios (default: CPU_SCENARIOS). */
  scenarios?: readonly CpuScenario[];
  /** The wrangler.toml the worker was built with (default: this checkout's). */
  configPath?: string;
  /** Counts runs from here (a run's parity picks its cold tick): lets an A/B comparison alternate single runs. */
  firstRun?: number;
}

export async function measureCpu(scriptPath: string, o: CpuOptions, progress: (line: string) => void, log: (line: string) => void): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const scenario of o.scenarios ?? CPU_SCENARIOS) {
    const samples: TickSample[] = [];
    const total = o.runs + o.profiledRuns;
    for (let r = 0; r < total; r++) {
      const profiled = r >= o.runs;
      const parity = (r + (o.firstRun ?? 0)) % 2;
      progress(`cpu: ${scenario.name}, run ${r + 1} of ${total}${profiled ? " (profiled)" : ""}...`);
      samples.push(...(await measureRun(scriptPath, o.configPath, scenario, parity === 0 ? "cold steady" : "cold scale-out", o.events, profiled, log)));
    }
    results.push({ scenario, samples });
  }
  return results;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const fmt = (ms: number): string => (Number.isNaN(ms) ? "-" : ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

export interface KindFigures {
  scenario: string;
  kind: TickKind;
  ticks: number;
  /** workerd CPU minus the harness's no-op event, per tick: median and max. */
  workerMedianMs: number;
  workerMaxMs: number;
  workerdMedianMs: number;
  harnessMedianMs: number;
  /** Warm steady ticks: the cron invocation alone (the groups' Durable Objects stubbed), median. */
  cronOnlyMedianMs: number;
  /** Warm ticks: the cron invocation alone, its groups' gateway calls replayed (see TickSample.replayMs): median and max. */
  replayMedianMs: number;
  replayMaxMs: number;
  /** Warm ticks: the lower bound (the replay inside the cron invocation, no RPC): median and max. */
  directMedianMs: number;
  directMaxMs: number;
  /** Ticks whose replays' subrequests (either bound) differ from the real tick's (0 when the replays sent what the tick sent). */
  replayMismatches: number;
  subrequests: number;
}

/** The unprofiled ticks' figures per scenario and kind. */
export function cpuFigures(results: readonly ScenarioResult[]): KindFigures[] {
  const out: KindFigures[] = [];
  for (const { scenario, samples } of results) {
    for (const kind of TICK_KINDS) {
      const of = samples.filter((x) => x.kind === kind && !x.profiled);
      if (of.length === 0) continue;
      const worker = of.map((x) => Math.max(0, x.workerdCpuMs - x.harnessMs));
      const replays = of.flatMap((x) => (x.replayMs === undefined ? [] : [x.replayMs]));
      const directs = of.flatMap((x) => (x.directMs === undefined ? [] : [x.directMs]));
      out.push({
        scenario: scenario.name,
        kind,
        ticks: of.length,
        workerMedianMs: median(worker),
        workerMaxMs: Math.max(...worker),
        workerdMedianMs: median(of.map((x) => x.workerdCpuMs)),
        harnessMedianMs: median(of.map((x) => x.harnessMs)),
        cronOnlyMedianMs: median(of.flatMap((x) => (x.cronOnlyMs === undefined ? [] : [x.cronOnlyMs]))),
        replayMedianMs: median(replays),
        replayMaxMs: replays.length === 0 ? NaN : Math.max(...replays),
        directMedianMs: median(directs),
        directMaxMs: directs.length === 0 ? NaN : Math.max(...directs),
        replayMismatches: of.filter((x) => [x.replaySubrequests, x.directSubrequests].some((n) => n !== undefined && n !== x.subrequests)).length,
        subrequests: median(of.map((x) => x.subrequests)),
      });
    }
  }
  return out;
}

export function renderCpuTable(figures: readonly KindFigures[]): string {
  const lines = [
    "| scenario | tick | ticks | worker CPU ms (all invocations), median | max | cron invocation, DOs answer at once | cron invocation, lower bound: median | max | upper bound: median | max | workerd CPU ms, median | harness ms | subrequests | replayed alike | free plan, the sum | free plan, the cron invocation (upper bound) |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
  ];
  for (const f of figures) {
    const verdict = (medianMs: number, maxMs: number) => (Number.isNaN(medianMs) ? "-" : maxMs <= 10 ? "pass" : medianMs <= 10 ? "median passes" : "fail");
    const alike = Number.isNaN(f.replayMedianMs) ? "-" : f.replayMismatches === 0 ? "yes" : `${f.replayMismatches} differ`;
    lines.push(
      `| ${f.scenario} | ${f.kind} | ${f.ticks} | ${fmt(f.workerMedianMs)} | ${fmt(f.workerMaxMs)} | ${fmt(f.cronOnlyMedianMs)} | ${fmt(f.directMedianMs)} | ${fmt(f.directMaxMs)} | **${fmt(f.replayMedianMs)}** | ${fmt(f.replayMaxMs)} | ${fmt(f.workerdMedianMs)} | ${fmt(f.harnessMedianMs)} | ${f.subrequests} | ${alike} | ${verdict(f.workerMedianMs, f.workerMaxMs)} | ${verdict(f.replayMedianMs, f.replayMaxMs)} |`,
    );
  }
  return lines.join("\n");
}

/** Where the time goes, from the profiled ticks: self time by phase and the top functions, as shares of the isolate's sampled busy time. */
export function renderProfiles(results: readonly ScenarioResult[], top = 12, which: "tick" | "cron invocation" = "tick"): string {
  const lines: string[] = [];
  for (const { scenario, samples } of results) {
    for (const kind of TICK_KINDS) {
      const profiles = samples.flatMap((x): ProfileSummary[] => {
        if (x.kind !== kind || !x.profiled) return [];
        if (which === "tick") return [{ busyMs: x.isolateMs, byFunction: x.byFunction, byPhase: x.byPhase, inclusiveSrc: x.inclusiveSrc }];
        return x.cronProfile === undefined ? [] : [x.cronProfile];
      });
      if (profiles.length === 0) continue;
      const phases = new Map<string, number>();
      const fns = new Map<string, number>();
      const inclusive = new Map<string, number>();
      for (const x of profiles) {
        addInto(phases, x.byPhase);
        addInto(fns, x.byFunction);
        addInto(inclusive, x.inclusiveSrc);
      }
      const busy = profiles.reduce((sum, x) => sum + x.busyMs, 0);
      const share = (m: Map<string, number>) => [...m].map(([k, v]) => [k, (100 * v) / busy] as const).sort((a, b) => b[1] - a[1]);
      const what = which === "tick" ? "tick(s)" : "cron invocation(s) (the tick replayed)";
      lines.push("");
      lines.push(`${scenario.name}, ${kind}: ${profiles.length} profiled ${what}, ${fmt(busy / profiles.length)} ms sampled per tick (wall time the isolate was not idle, profiler on)`);
      lines.push(`  by phase: ${share(phases).map(([k, v]) => `${k} ${v.toFixed(0)}%`).join(", ")}`);
      lines.push("  self time:");
      for (const [fn, pct] of share(fns).slice(0, top)) lines.push(`  ${pct.toFixed(1).padStart(5)}%  ${fn}`);
      lines.push("  total time (with callees) of the worker's own functions:");
      for (const [fn, pct] of share(inclusive).slice(0, top)) lines.push(`  ${pct.toFixed(1).padStart(5)}%  ${fn}`);
    }
  }
  return lines.join("\n");
}

/** A stand-in bundle with the same exports as the worker's but no code: the startup cost of workerd and Miniflare alone. */
function stubBundle(dir: string, durableObjectClasses: readonly string[]): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "stub.js");
  const classes = durableObjectClasses.map((name) => `export class ${name} { constructor() {} async fetch() { return new Response(""); } }`).join("\n");
  writeFileSync(path, `${classes}\nexport default { async fetch() { return new Response(""); }, async scheduled() {} };\n`);
  return path;
}

export interface StartupFigures {
  runs: number;
  /** workerd CPU from spawn to ready with the worker's bundle, and with a stub of the same shape: medians. */
  bundleMs: number;
  stubMs: number;
  /** The bundle's parse, compile and global scope in workerd: the difference of the two (median of paired runs). */
  moduleInitMs: number;
  bundleBytes: number;
}

/**
 * Module initialisation in workerd: Cloudflare counts a Worker's startup (parse and global scope) against
 * its own limit (1 s), not the first request's CPU; workerd evaluates the module when it starts, so this
 * is measured as workerd's CPU up to ready, the worker's bundle against an empty stub, runs interleaved.
 */
export async function measureStartup(scriptPath: string, runs: number, progress: (line: string) => void, configPath = join(REPO_ROOT, "wrangler.toml")): Promise<StartupFigures> {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(configPath);
  const classes = Object.values((workerOptions as { durableObjects?: Record<string, { className: string }> }).durableObjects ?? {}).map((d) => d.className);
  const stub = stubBundle(join(dirname(scriptPath), "stub"), classes);
  const bundle: number[] = [];
  const stubbed: number[] = [];
  const diffs: number[] = [];
  for (let r = 0; r < runs; r++) {
    progress(`cpu: startup, run ${r + 1} of ${runs}...`);
    const one = async (path: string) => {
      const worker = await startBenchWorker({ scriptPath: path, configPath, cloud: { OS_AUTH_URL: "http://127.0.0.1:9/v3" } });
      const ms = worker.startupCpuMs;
      await worker.dispose();
      return ms;
    };
    const b = await one(scriptPath);
    const s = await one(stub);
    bundle.push(b);
    stubbed.push(s);
    diffs.push(b - s);
  }
  return { runs, bundleMs: median(bundle), stubMs: median(stubbed), moduleInitMs: median(diffs), bundleBytes: statSync(scriptPath).size };
}
