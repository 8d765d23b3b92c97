// `npm run bench -- --only cpu [--against <git ref>]`: the small deployment's CPU per tick, this checkout against another, runs interleaved.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { CPU_SCENARIOS, cpuFigures, measureCpu, measureStartup, renderCpuTable, renderProfiles, type KindFigures, type ScenarioResult, type StartupFigures } from "./cpu-profile.ts";
import { launchFakeCloud } from "./fake-cloud-handle.ts";
import { cloudBindings, cloudOptions } from "./fake-grid.ts";
import { buildBenchWorker, REPO_ROOT, startBenchWorker } from "./worker-runner.ts";
import { compareZodMini } from "./zod-mini.ts";

/** A bundle to measure: built from this checkout or from another commit. */
export interface BuiltWorker {
  /** "HEAD (abc1234)" or "713ee98". */
  label: string;
  scriptPath: string;
  configPath: string;
}

function git(args: string[], cwd = REPO_ROOT): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }).trim();
}

export function shortCommit(ref = "HEAD"): string {
  try {
    return git(["rev-parse", "--short", ref]);
  } catch {
    return "unknown";
  }
}

/**
 * `ref`'s tree in a scratch directory (git archive; this checkout's node_modules and dashboard build
 * linked in), with this checkout's bench/worker/entry.ts so both sides carry the same harness.
 */
function checkoutAt(ref: string, dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync("sh", ["-c", `git archive --format=tar "$1" | tar -x -C "$2"`, "sh", ref, dir], { cwd: REPO_ROOT });
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
  const dashboard = join(REPO_ROOT, "dashboard/dist");
  if (existsSync(dashboard) && !existsSync(join(dir, "dashboard/dist"))) symlinkSync(dashboard, join(dir, "dashboard/dist"));
  mkdirSync(join(dir, "bench/worker"), { recursive: true });
  copyFileSync(join(REPO_ROOT, "bench/worker/entry.ts"), join(dir, "bench/worker/entry.ts"));
  return dir;
}

export async function buildWorkers(against: string | undefined, progress: (line: string) => void): Promise<BuiltWorker[]> {
  progress("cpu: building this checkout's worker...");
  const here: BuiltWorker = { label: `this checkout (${shortCommit()})`, scriptPath: await buildBenchWorker(join(REPO_ROOT, ".tmp/bench-cpu/here")), configPath: join(REPO_ROOT, "wrangler.toml") };
  if (against === undefined) return [here];
  const commit = shortCommit(against);
  progress(`cpu: building the worker at ${against} (${commit})...`);
  const root = checkoutAt(against, join(REPO_ROOT, ".tmp/bench-cpu/against-tree"));
  // The bundle lives inside its tree: Miniflare names modules relative to the config's directory.
  const other: BuiltWorker = { label: commit, scriptPath: await buildBenchWorker(join(root, ".bench-build"), root), configPath: join(root, "wrangler.toml") };
  return [other, here];
}

/** The runtime's cost per operation (workerd CPU, this checkout's worker): a cloud request, a KV read, a Durable Object call. */
export interface OperationCosts {
  fetchMs: number;
  kvMs: number;
  rpcMs: number;
}

async function measureOperationCosts(w: BuiltWorker): Promise<OperationCosts> {
  const handle = await launchFakeCloud(cloudOptions(Date.now()));
  const worker = await startBenchWorker({ scriptPath: w.scriptPath, configPath: w.configPath, cloud: cloudBindings(handle) });
  try {
    // 20 operations per request, so the request's own cost is spread thin; median of 7.
    const fetchMs = await worker.probeCpuMs("fetch", 20, 7, `${handle.url}/compute/`);
    const kvMs = await worker.probeCpuMs("kv", 20, 7);
    const rpcMs = await worker.probeCpuMs("rpc", 20, 7);
    return { fetchMs, kvMs, rpcMs };
  } finally {
    await worker.dispose();
    await handle.close();
  }
}

export interface CpuResults {
  /** Measured bundles, the baseline (`--against`) first. */
  workers: Array<{ label: string; figures: KindFigures[]; startup: StartupFigures; results: ScenarioResult[] }>;
  runs: number;
  events: number;
  operations: OperationCosts;
  /** bench/node/zod-mini.ts's table. */
  zodMini: string;
}

export interface CpuRunOptions {
  against?: string;
  runs: number;
  events: number;
  profiledRuns: number;
  startupRuns: number;
}

/** Every worker's runs interleaved (A B B A ...), so load on the shared machine hits each side alike. */
export async function measureCpuSection(o: CpuRunOptions, progress: (line: string) => void, log: (line: string) => void): Promise<CpuResults> {
  const workers = await buildWorkers(o.against, progress);
  const perWorker = workers.map(() => CPU_SCENARIOS.map((scenario): ScenarioResult => ({ scenario, samples: [] })));
  for (const [si, scenario] of CPU_SCENARIOS.entries()) {
    for (let r = 0; r < o.runs + o.profiledRuns; r++) {
      const profiled = r >= o.runs;
      const order = r % 2 === 0 ? workers.map((_, i) => i) : workers.map((_, i) => workers.length - 1 - i);
      // Profiles only of this checkout's worker (the last): they say where its time goes.
      for (const wi of profiled ? [workers.length - 1] : order) {
        const w = workers[wi]!;
        progress(`cpu: ${w.label}: ${scenario.name}, run ${r + 1} of ${o.runs + o.profiledRuns}${profiled ? " (profiled)" : ""}...`);
        const [one] = await measureCpu(w.scriptPath, { runs: profiled ? 0 : 1, profiledRuns: profiled ? 1 : 0, events: o.events, scenarios: [scenario], firstRun: r, configPath: w.configPath }, () => {}, log);
        perWorker[wi]![si]!.samples.push(...(one?.samples ?? []));
      }
    }
  }
  const startups: StartupFigures[] = [];
  for (const w of workers) startups.push(await measureStartup(w.scriptPath, o.startupRuns, progress, w.configPath));
  progress("cpu: the runtime's cost per operation...");
  const operations = await measureOperationCosts(workers[workers.length - 1]!);
  progress("cpu: zod classic against zod/mini...");
  const zodMini = await compareZodMini();
  return {
    workers: workers.map((w, i) => ({ label: w.label, figures: cpuFigures(perWorker[i]!), startup: startups[i]!, results: perWorker[i]! })),
    runs: o.runs,
    events: o.events,
    operations,
    zodMini,
  };
}

const fmt = (ms: number): string => (Number.isNaN(ms) ? "-" : ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

/** Before/after side by side: one row per scenario and tick kind, the worker's CPU (median and max) of each bundle. */
export function compareTable(c: CpuResults): string {
  if (c.workers.length < 2) return "";
  const [before, after] = [c.workers[0]!, c.workers[c.workers.length - 1]!];
  const lines = [
    `| scenario | tick | all invocations: before (${before.label}) median | max | after (${after.label}) median | max | change of the median | cron invocation (upper bound): before median | after median | change |`,
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const a of after.figures) {
    const b = before.figures.find((x) => x.scenario === a.scenario && x.kind === a.kind);
    if (b === undefined) continue;
    const change = (x: number, y: number) => (Number.isNaN(x) || Number.isNaN(y) ? "-" : `${(((y - x) / x) * 100).toFixed(0)}%`);
    lines.push(
      `| ${a.scenario} | ${a.kind} | ${fmt(b.workerMedianMs)} | ${fmt(b.workerMaxMs)} | **${fmt(a.workerMedianMs)}** | ${fmt(a.workerMaxMs)} | ${change(b.workerMedianMs, a.workerMedianMs)} | ${fmt(b.replayMedianMs)} | **${fmt(a.replayMedianMs)}** | ${change(b.replayMedianMs, a.replayMedianMs)} |`,
    );
  }
  const s = (w: CpuResults["workers"][number]) => `${fmt(w.startup.moduleInitMs)} ms (bundle ${(w.startup.bundleBytes / 1000).toFixed(0)} KB)`;
  lines.push(`| startup: parse and global scope in workerd | once per isolate | ${s(before)} | | **${s(after)}** | | | | | |`);
  return lines.join("\n");
}

/** The console's and BENCHMARKS.md's CPU section body. */
export function renderCpuSection(c: CpuResults, command: string): string {
  const parts: string[] = [];
  parts.push(`Command: \`${command}\` (${c.runs} fresh isolates per scenario and bundle, ${c.events} scale-out/scale-in pairs each, runs interleaved).`);
  const compared = compareTable(c);
  if (compared !== "") parts.push("", compared);
  // Every bundle's startup; the per-tick detail of this checkout's only (the before/after table has the other's medians).
  for (const w of c.workers.slice(0, -1)) parts.push("", `**${w.label}**: startup ${fmt(w.startup.moduleInitMs)} ms (median of ${w.startup.runs}).`);
  for (const w of c.workers.slice(-1)) {
    parts.push("", `**${w.label}**: startup (parse and global scope) ${fmt(w.startup.moduleInitMs)} ms of workerd CPU, median of ${w.startup.runs} (bundle ${(w.startup.bundleBytes / 1000).toFixed(0)} KB; workerd with an empty stub of the same exports: ${fmt(w.startup.stubMs)} ms, with this bundle ${fmt(w.startup.bundleMs)} ms)`, "");
    parts.push(renderCpuTable(w.figures));
  }
  const o = c.operations;
  parts.push("", `The runtime's own cost per operation in the same worker (workerd CPU, 20 per request, median of 7): a request to the fake cloud ${o.fetchMs.toFixed(2)} ms, a KV read ${o.kvMs.toFixed(2)} ms, a Durable Object call ${o.rpcMs.toFixed(2)} ms.`);
  parts.push("", `zod classic against zod/mini (\`npm run bench:zod-mini\`): ${c.zodMini}`);
  const last = c.workers[c.workers.length - 1]!;
  const profiles = renderProfiles(last.results, 8);
  if (profiles.trim() !== "") parts.push("", `Where the time goes (${last.label}; V8 CPU profiles of the worker's isolate through workerd's inspector, 50 µs sampling, the profiler's own cost included; samples are wall time while the isolate is busy, so on a loaded machine a preempted thread's time lands on whatever frame was running and shares of a few percent are noise):`, "", "```", profiles.trim(), "```");
  const cron = renderProfiles(last.results, 8, "cron invocation");
  if (cron.trim() !== "") parts.push("", `Where the cron invocation's own time goes (${last.label}; the same warm ticks replayed, profiled alike: the groups' Durable Objects only send their recorded gateway calls):`, "", "```", cron.trim(), "```");
  return parts.join("\n");
}
