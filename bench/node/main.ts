// `npm run bench`: runs the benchmarks, prints the table and writes BENCHMARKS.md (full runs only, unless --write).
import { execFileSync, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { measureBudget, type BudgetResults } from "./budget.ts";
import { measureBootToN, measureCell, type BootToNResult, type CellResult } from "./fake-grid.ts";
import { measureRealTier, type RealOutcome } from "./real-tier.ts";
import { renderConsole, renderMarkdown, type BenchResults } from "./report.ts";
import { buildBenchWorker, REPO_ROOT, startBenchWorker } from "./worker-runner.ts";

const USAGE = `usage: npm run bench [-- --quick] [-- --only fake|real|budget|many] [-- --write|--no-write] [-- --verbose]
  --quick     a smaller grid (1, 10 groups x 10, 1,000 servers; N = 1, 10) for a fast look
  --only      run only the fake-cloud grid, only the real-tier side by side, only the subrequest
              budget (100 groups +2 each with a budget of 50, -2 each, a hanging cloud), or the budget
              with the 1,000-group runs too
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
  if (only !== undefined && !["fake", "real", "budget", "many"].includes(only)) throw new Error(`--only wants fake, real, budget or many\n${USAGE}`);
  const runs = (part: "fake" | "real" | "budget") => only === undefined || only === part || (part === "budget" && only === "many");
  const startedAt = new Date();
  const log = values.verbose ? (line: string) => console.error(line) : () => {};
  const progress = (line: string) => console.error(line);

  const groupCounts = values.quick ? [1, 10] : [1, 10, 100];
  const serverCounts = values.quick ? [10, 1_000] : [10, 1_000, 10_000];
  const bootTargets: Array<[number, number | undefined]> = values.quick ? [[1, undefined], [10, undefined]] : [[1, undefined], [10, undefined], [100, undefined], [100, 100]];

  progress("building the worker (wrangler deploy --dry-run)...");
  const scriptPath = await buildBenchWorker(join(REPO_ROOT, ".tmp/bench-build"));

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
  const argv = process.argv.slice(2);
  const results: BenchResults = {
    command: `npm run bench${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}`,
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
    commit,
    grid,
    harnessCpuMs,
    bootToN,
    real,
    budget,
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
