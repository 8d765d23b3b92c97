// Runs the real novascale worker in workerd (Miniflare) for the benchmarks: build, start, tick, read its KV counts and CPU.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The benchmark's own API token (a local, throwaway value; the worker only ever sees it in this process). */
export const BENCH_ADMIN_TOKEN = "bench-admin-token-not-a-secret";

export interface KvCounts {
  reads: number;
  writes: number;
  deletes: number;
  lists: number;
}

export interface TickMeasurement {
  /** Wall time of the scheduled() call seen from Node (includes the fake cloud's own time). */
  wallMs: number;
  /** CPU time workerd's threads used during the tick (the worker, its Durable Objects and local KV). */
  workerdCpuMs: number;
  kv: KvCounts;
  outcome: string;
}

/** Bundles bench/worker/entry.ts (the real worker plus the KV counter) the way `wrangler deploy` would; `root`: another checkout (see cpu-profile.ts --against). */
export async function buildBenchWorker(outDir: string, root: string = REPO_ROOT): Promise<string> {
  const wranglerBin = join(REPO_ROOT, "node_modules/wrangler/bin/wrangler.js");
  const args = [wranglerBin, "deploy", "bench/worker/entry.ts", "--dry-run", "--outdir", outDir];
  const output = await new Promise<string>((resolveRun, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolveRun(text) : reject(new Error(`wrangler build failed (${code}):\n${text.slice(-3000)}`))));
  });
  void output;
  return join(outDir, "entry.js");
}

/** Sum of run time (ns) of every thread of a process, from /proc/<pid>/task/<tid>/schedstat. */
function processCpuNs(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // A thread that ended between readdir and read: its time is lost either way.
    }
  }
  return total;
}

/** workerd processes started below this Node process (Miniflare spawns one). */
function workerdPids(): number[] {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      names.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
      parents.set(Number(entry), Number(stat.slice(close + 2).split(" ")[1]));
    } catch {
      // gone already
    }
  }
  const isDescendant = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) if (p === process.pid) return true;
    return false;
  };
  return [...names].filter(([pid, name]) => name.startsWith("workerd") && isDescendant(pid)).map(([pid]) => pid);
}

export interface BenchWorker {
  /** workerd's CPU from its start until Miniflare was ready (the bundle's parse and global scope included). */
  startupCpuMs: number;
  /** The worker's own loopback URL (plain HTTP, e.g. for fetch() from the benchmark). */
  url: string;
  /** workerd's CPU time so far (ms, every thread): the difference around a request is what it cost. */
  cpuMs(): number;
  /** One cron tick at `scheduledTime`, measured (cron "bench-noop": the wrapper answers without calling the worker). */
  tick(scheduledTime: Date, cron?: string): Promise<TickMeasurement>;
  /** A request to the worker's HTTP API as the benchmark's admin. */
  api(method: string, path: string, body?: unknown): Promise<Response>;
  /** workerd CPU of one trivial request to the wrapper (median of 15): the harness's own cost, included in every tick figure. */
  harnessCpuMs(): Promise<number>;
  /** workerd CPU of `n` runtime operations of one kind inside the worker (bench/worker/entry.ts's probe), per operation, median of `repeats`. */
  probeCpuMs(op: "none" | "fetch" | "kv" | "rpc", n: number, repeats: number, url?: string): Promise<number>;
  /** KV counts since the last reset, and resets them. */
  takeKvCounts(): Promise<KvCounts>;
  kv(): ReturnType<Miniflare["getKVNamespace"]>;
  dispose(): Promise<void>;
}

export interface StartOptions {
  scriptPath: string;
  /** OS_* bindings: where the worker's cloud is. */
  cloud: Record<string, string>;
  /** Where the worker's console lines go (default: dropped, so the benchmark's table stays readable). */
  onLog?: (line: string) => void;
  /** The wrangler.toml whose bindings the worker gets (default: this checkout's). */
  configPath?: string;
  /** Opens workerd's V8 inspector on this loopback port (bench/node/cpu-profile.ts takes CPU profiles through it). */
  inspectorPort?: number;
}

export async function startBenchWorker(options: StartOptions): Promise<BenchWorker> {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(options.configPath ?? join(REPO_ROOT, "wrangler.toml"));
  // modulesRules cannot be converted to Miniflare 5 and the bundle needs none.
  const { modulesRules: _unused, ...sourceless } = workerOptions as Record<string, unknown>;
  const bindings = {
    ...(sourceless["bindings"] as Record<string, string>),
    ...options.cloud,
    NOVASCALE_TOKENS: JSON.stringify([{ name: "bench", token: BENCH_ADMIN_TOKEN, role: "admin" }]),
  };
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      ...sourceless,
      modules: true,
      scriptPath: options.scriptPath,
      bindings,
      handleStructuredLogs: (entry: { message?: string }) => options.onLog?.(String(entry.message ?? "")),
      ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
    } as Parameters<typeof convertV4MiniflareOptions>[0]),
  );
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const worker = (await mf.getWorker()) as unknown as {
    scheduled(options: { scheduledTime: Date; cron: string }): Promise<{ outcome: string }>;
  };
  const pids = workerdPids();
  const cpuNs = (): number => pids.reduce((sum, pid) => sum + processCpuNs(pid), 0);
  const startupCpuMs = cpuNs() / 1e6;

  const readCounts = async (): Promise<{ kv: KvCounts }> => {
    const response = await mf.dispatchFetch("http://bench.local/__bench/counts?reset=1");
    return (await response.json()) as { kv: KvCounts };
  };

  return {
    startupCpuMs,
    url,
    cpuMs: () => cpuNs() / 1e6,
    async tick(scheduledTime, cron = "* * * * *") {
      await readCounts();
      const cpuBefore = cpuNs();
      const started = performance.now();
      const result = await worker.scheduled({ scheduledTime, cron });
      const wallMs = performance.now() - started;
      const workerdCpuMs = (cpuNs() - cpuBefore) / 1e6;
      const counts = await readCounts();
      return { wallMs, workerdCpuMs, kv: counts.kv, outcome: result.outcome };
    },
    async api(method, path, body) {
      const init: Record<string, unknown> = { method, headers: { Authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, "Content-Type": "application/json" } };
      if (body !== undefined) init["body"] = JSON.stringify(body);
      return (await mf.dispatchFetch(`http://bench.local${path}`, init)) as unknown as Response;
    },
    async harnessCpuMs() {
      const samples: number[] = [];
      for (let i = 0; i < 15; i++) {
        const before = cpuNs();
        await (await mf.dispatchFetch("http://bench.local/__bench/counts")).arrayBuffer();
        samples.push((cpuNs() - before) / 1e6);
      }
      return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? 0;
    },
    async probeCpuMs(op, n, repeats, url) {
      const samples: number[] = [];
      const query = new URLSearchParams({ op, n: String(n), ...(url === undefined ? {} : { url }) });
      for (let i = 0; i < repeats; i++) {
        const before = cpuNs();
        const response = await mf.dispatchFetch(`http://bench.local/__bench/probe?${query}`);
        if (!response.ok) throw new Error(`probe ${op}: ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
        samples.push((cpuNs() - before) / 1e6 / n);
      }
      return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? 0;
    },
    async takeKvCounts() {
      return (await readCounts()).kv;
    },
    kv() {
      return mf.getKVNamespace("RULES");
    },
    dispose: () => mf.dispose(),
  };
}
