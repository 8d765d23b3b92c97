// `npm run bench`: runs the benchmarks, prints the table and writes BENCHMARKS.md (full runs only, unless --write).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { measureBudget, type BudgetResults } from "./budget.ts";
import { measureCpuSection, renderCpuSection, type CpuResults } from "./cpu-compare.ts";
import { measureBootToN, measureCell, type BootToNResult, type CellResult } from "./fake-grid.ts";
import { measureRealTier, type RealOutcome } from "./real-tier.ts";
import { renderConsole, renderMarkdown, spliceCpuSection, type BenchResults } from "./report.ts";
import { buildBenchWorker, REPO_ROOT, startBenchWorker } from "./worker-runner.ts";
import { measureReadRoutes, renderReadRoutes } from "./read-routes.ts";

const USAGE = `usage: npm run bench [-- --quick] [-- --only fake|real|budget|many|cpu|reads] [-- --against REF] [-- --write|--no-write] [-- --verbose]
  --quick     a smaller grid (1, 10 groups x 10, 1,000 servers; N = 1, 10) for a fast look
  --only      run only the fake-cloud grid, only the real-tier side by side, only the subrequest
              budget (100 groups +2 each with a budget of 50, -2 each, a hanging cloud), the budget
              with the 1,000-group runs too, or only the CPU of a small deployment (1 group x 10
              servers, 3 groups x 50: cold/warm, steady/scale, V8 profiles; --only cpu --write
              rewrites only that section of BENCHMARKS.md), or only the read routes (status and
              timeline over HTTP: one daily entry against 50 \`* * * * *\` entries; prints only)
  --against   the CPU section also measures the worker built at this git ref, runs interleaved, and
              shows both side by side (before/after)
  --write     write BENCHMARKS.md even for a partial run; --no-write never writes it
  --verbose   print progress as it goes
The real tier uses the devcloud at $DEVCLOUD_DIR (default /tmp/devcloud) and runs its up.sh when it is
down (DEVCLOUD_NO_UP=1 forbids that).`;

function parseOptions() {
  return parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      write: { type: "boolean" },
      "no-write": { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
      against: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions();
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const only = values.only;
  if (only !== undefined && !["fake", "real", "budget", "many", "cpu", "reads"].includes(only)) throw new Error(`--only wants fake, real, budget, many, cpu or reads\n${USAGE}`);
  const runs = (part: "fake" | "real" | "budget" | "cpu") => only === undefined || only === part || (part === "budget" && only === "many");
  const startedAt = new Date();
  const log = values.verbose ? (line: string) => console.error(line) : () => {};
  const progress = (line: string) => console.error(line);

  const groupCounts = values.quick ? [1, 10] : [1, 10, 100];
  const serverCounts = values.quick ? [10, 1_000] : [10, 1_000, 10_000];
  const bootTargets: Array<[number, number | undefined]> = values.quick ? [[1, undefined], [10, undefined]] : [[1, undefined], [10, undefined], [100, undefined], [100, 100]];

  const argv = process.argv.slice(2);
  const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}`;
  let cpu: CpuResults | null = null;
  if (only === "cpu") {
    cpu = await measureCpuSection(cpuRunOptions(values.quick, values.against), progress, log);
    console.log(renderCpuSection(cpu, command));
    if (values["no-write"] !== true && values.write === true) {
      const path = join(REPO_ROOT, "BENCHMARKS.md");
      if (!existsSync(path)) throw new Error("BENCHMARKS.md is missing: a full `npm run bench` writes it");
      writeFileSync(path, spliceCpuSection(readFileSync(path, "utf8"), renderCpuSection(cpu, command)));
      progress("wrote the CPU section of BENCHMARKS.md");
    } else progress("BENCHMARKS.md not written (add --write to rewrite its CPU section)");
    return;
  }

  progress("building the worker (wrangler deploy --dry-run)...");
  const scriptPath = await buildBenchWorker(join(REPO_ROOT, ".tmp/bench-build"));
  if (only === "reads") {
    // Printed only: BENCHMARKS.md's "Read routes over HTTP" section quotes a run by hand.
    const samples = values.quick ? 10 : 40;
    console.log(renderReadRoutes(await measureReadRoutes(scriptPath, { samples, warmup: 5 }, progress), samples));
    return;
  }

  const grid: CellResult[] = [];
  const bootToN: BootToNResult[] = [];
  let harnessCpuMs: number | null = null;
  let real: RealOutcome | null = null;

  let budget: BudgetResults | null = null;

  if (runs("fake")) {
    const probe = await startBenchWorker({ scriptPath, cloud: { OS_AUTH_URL: "http://127.0.0.1:9/v3" } });
    harnessCpuMs = await probe.harnessCpuMs();
    await probe.dispose();
    for (const groups of groupCounts) {
      for (const servers of serverCounts) {
        progress(`fake cloud: ${groups} groups x ${servers} servers...`);
        grid.push(await measureCell(scriptPath, groups, servers, log));
      }
    }
    for (const [target, cap] of bootTargets) {
      progress(`fake cloud: one group from 0 to ${target}${cap === undefined ? "" : ` (maxBootsPerTick ${cap})`}...`);
      bootToN.push(await measureBootToN(scriptPath, target, cap));
    }
  }
  if (runs("budget")) {
    budget = await measureBudget(scriptPath, { many: only === undefined || only === "many", quick: values.quick }, progress, log);
  }
  if (runs("cpu")) cpu = await measureCpuSection(cpuRunOptions(values.quick, values.against), progress, log);
  if (runs("real")) {
    progress("real tier: novascale vs the book-style script, 10 groups...");
    real = await underDevcloudLock(() => measureRealTier(scriptPath, progress), progress);
    if (!real.ok) progress(`real tier skipped: ${real.reason}`);
  }

  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
  } catch {
    // not a git checkout
  }
  const partial = values.quick || values.only !== undefined;
  const results: BenchResults = {
    command,
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
    commit,
    grid,
    harnessCpuMs,
    bootToN,
    real,
    budget,
    cpu,
  };
  console.log(renderConsole(results));
  const write = values["no-write"] ? false : (values.write ?? !partial);
  if (write) {
    writeFileSync(join(REPO_ROOT, "BENCHMARKS.md"), renderMarkdown(results));
    progress("wrote BENCHMARKS.md");
  } else {
    progress("BENCHMARKS.md not written (partial run; add --write to write it)");
  }
}

/** The CPU section's runs: 4 fresh isolates per scenario and bundle (2 with --quick), 3 scale-out/scale-in pairs each, 2 profiled runs, 5 startups. */
function cpuRunOptions(quick: boolean, against: string | undefined) {
  return { runs: quick ? 2 : 4, events: 3, profiledRuns: 2, startupRuns: quick ? 3 : 5, ...(against === undefined ? {} : { against }) };
}

/**
 * Runs `work` holding the shared devcloud lock when BENCH_DEVCLOUD_LOCK names it (a flock file): only
 * the real-tier part of a long run blocks the other users of the one shared devcloud.
 */
async function underDevcloudLock<T>(work: () => Promise<T>, progress: (line: string) => void): Promise<T> {
  const lock = process.env["BENCH_DEVCLOUD_LOCK"];
  if (lock === undefined || lock === "") return work();
  progress(`waiting for the devcloud lock ${lock}...`);
  const holder = spawn("flock", [lock, "sh", "-c", "echo locked; cat >/dev/null"], { stdio: ["pipe", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("locked")) resolve();
    });
    holder.on("error", reject);
    holder.on("exit", (code) => reject(new Error(`flock ${lock} ended (${code}) before the lock was taken`)));
  });
  try {
    return await work();
  } finally {
    holder.stdin.end();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
