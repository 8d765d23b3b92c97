// A minimal Chrome DevTools Protocol client for workerd's V8 inspector: CPU profiles of one worker isolate, summarised by function and by phase.
import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One inspector session on one isolate (workerd lists them at http://host:port/json, e.g. `core:user:` for the worker). */
export class InspectorSession {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private readonly socket: WebSocket;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
      if (message.id === undefined) return;
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(message.error.message));
      else waiter?.resolve(message.result);
    });
  }

  static async open(port: number, target: string): Promise<InspectorSession> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/${target}`);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error(`inspector: cannot connect to ${target} on port ${port}`)), { once: true });
    });
    return new InspectorSession(socket);
  }

  send<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    this.socket.send(JSON.stringify({ id, method, params }));
    return new Promise<T>((resolve, reject) => this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
  }

  /** Starts sampling at `intervalUs` microseconds. */
  async startProfile(intervalUs: number): Promise<void> {
    await this.send("Profiler.enable");
    await this.send("Profiler.setSamplingInterval", { interval: intervalUs });
    await this.send("Profiler.start");
  }

  async stopProfile(): Promise<CpuProfile> {
    const { profile } = await this.send<{ profile: CpuProfile }>("Profiler.stop");
    return profile;
  }

  close(): void {
    this.socket.close();
  }
}

/** Where a bundle position came from (src/..., node_modules/zod/..., ...), through the bundle's source map. */
export class BundleSources {
  private readonly map: SourceMap | null;
  /** The bundle's file name (e.g. entry.js): frames of other scripts (the runtime's own JS) are not mapped. */
  private readonly bundle: string;

  constructor(mapPath: string) {
    this.bundle = mapPath.replace(/\.map$/, "").split("/").pop() ?? "";
    let map: SourceMap | null = null;
    try {
      map = new SourceMap(JSON.parse(readFileSync(mapPath, "utf8")) as ConstructorParameters<typeof SourceMap>[0]);
    } catch {
      map = null;
    }
    this.map = map;
  }

  /** "src/openstack/http.ts:120" or "node_modules/zod/v4/core/schemas.js:88"; the bundle position when unmapped. */
  locate(frame: CallFrame): string {
    if (frame.url === "") return "";
    const file = frame.url.split("/").pop() ?? "";
    if (file !== this.bundle) return `runtime:${file}`;
    const entry = this.map?.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string; originalLine?: number } | undefined;
    if (entry?.originalSource === undefined) return `${frame.url.split("/").pop()}:${frame.lineNumber + 1}`;
    const source = entry.originalSource.replace(/^.*?\/(src|node_modules|build|bench)\//, "$1/");
    return `${source}:${(entry.originalLine ?? 0) + 1}`;
  }
}

/** The phase a function's time is counted in, from where its code lives. */
export function phaseOf(functionName: string, location: string): string {
  if (functionName === "(garbage collector)") return "GC";
  if (functionName === "(program)" || functionName === "(root)") return "runtime (native, not JS)";
  if (location === "") return "runtime (native, not JS)";
  if (location.startsWith("runtime:")) return "runtime (its own JS)";
  if (location.includes("node_modules/zod") || location.startsWith("build/zod")) return "zod";
  if (location.includes("node_modules/hono")) return "hono";
  if (location.includes("node_modules/croner")) return "croner";
  if (location.startsWith("src/openstack/")) return "src/openstack (HTTP, parsing)";
  if (location.startsWith("src/store/")) return "src/store (KV, DO storage)";
  if (location.startsWith("src/reconcile/")) return "src/reconcile (tick, DOs, executor)";
  if (location.startsWith("src/core/")) return "src/core (decisions)";
  if (location.startsWith("src/config/")) return "src/config (rules, env)";
  if (location.startsWith("src/")) return "src (other)";
  if (location.startsWith("bench/")) return "bench wrapper";
  return "other JS";
}

export interface ProfileSummary {
  /** Sampled time the isolate was busy (everything but "(idle)"), ms. */
  busyMs: number;
  /** Self time by function ("name location"), ms. */
  byFunction: Map<string, number>;
  /** Self time by phase (see phaseOf), ms. */
  byPhase: Map<string, number>;
  /** Total time (self and callees, within one synchronous stack) by function of src/, ms. */
  inclusiveSrc: Map<string, number>;
}

/** Self time per sampled node: each sample owns the interval up to the next one (what DevTools shows). */
export function summarise(profile: CpuProfile, sources: BundleSources): ProfileSummary {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const located = new Map<number, { fn: string; phase: string }>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusiveSrc = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const byPhase = new Map<string, number>();
  let busyUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const next = i + 1 < profile.timeDeltas.length ? profile.timeDeltas[i + 1]! : 0;
    const id = profile.samples[i]!;
    const locate = (nodeId: number) => {
      let info = located.get(nodeId);
      if (info === undefined) {
        const frame = nodes.get(nodeId)?.callFrame ?? { functionName: "(unknown)", url: "", lineNumber: 0, columnNumber: 0 };
        const location = sources.locate(frame);
        const name = frame.functionName === "" ? "(anonymous)" : frame.functionName;
        info = { fn: location === "" ? name : `${name} ${location}`, phase: phaseOf(frame.functionName, location) };
        located.set(nodeId, info);
      }
      return info;
    };
    const info = locate(id);
    if (info.fn === "(idle)") continue;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const fn = locate(at).fn;
      if (!seen.has(fn) && / src\//.test(fn)) {
        seen.add(fn);
        inclusiveSrc.set(fn, (inclusiveSrc.get(fn) ?? 0) + next / 1000);
      }
    }
    busyUs += next;
    byFunction.set(info.fn, (byFunction.get(info.fn) ?? 0) + next / 1000);
    byPhase.set(info.phase, (byPhase.get(info.phase) ?? 0) + next / 1000);
  }
  return { busyMs: busyUs / 1000, byFunction, byPhase, inclusiveSrc };
}

/** Adds `from` into `into` (for totals over several ticks). */
export function addInto(into: Map<string, number>, from: Map<string, number>): void {
  for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v);
}
