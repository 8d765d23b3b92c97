// Benchmark entry: the real worker unchanged, with its KV binding wrapped to count operations per tick.
import realWorker from "../../src/index.ts";
import { GroupCoordinator as RealGroupCoordinator } from "../../src/index.ts";
import type { Env } from "../../src/config/env.ts";
import { coordinatorStub, type ReconcileRequest } from "../../src/reconcile/groups/coordinator.ts";
import type { CloudPort } from "../../src/reconcile/gateway/gateway.ts";
import type { TickRecord } from "../../src/reconcile/shared/service.ts";

export * from "../../src/index.ts";

/** KV operations the worker made since the last reset (module state: one isolate holds the worker and its Durable Objects locally). */
const kvCounts = { reads: 0, writes: 0, deletes: 0, lists: 0 };

/** The worker's handlers, typed loosely so the wrapper does not depend on which ones it declares. */
const worker = realWorker as ExportedHandler<Env>;

function countingKv(inner: KVNamespace): KVNamespace {
  const counting = {
    get: (...args: unknown[]) => {
      kvCounts.reads += Array.isArray(args[0]) ? args[0].length : 1;
      return (inner.get as (...a: unknown[]) => unknown)(...args);
    },
    getWithMetadata: (...args: unknown[]) => {
      kvCounts.reads += Array.isArray(args[0]) ? args[0].length : 1;
      return (inner.getWithMetadata as (...a: unknown[]) => unknown)(...args);
    },
    put: (...args: unknown[]) => {
      kvCounts.writes += 1;
      return (inner.put as (...a: unknown[]) => unknown)(...args);
    },
    delete: (...args: unknown[]) => {
      kvCounts.deletes += 1;
      return (inner.delete as (...a: unknown[]) => unknown)(...args);
    },
    list: (...args: unknown[]) => {
      kvCounts.lists += 1;
      return (inner.list as (...a: unknown[]) => unknown)(...args);
    },
  };
  return counting as unknown as KVNamespace;
}

function countingEnv(env: Env): Env {
  return { ...env, RULES: countingKv(env.RULES) };
}

/**
 * One gateway call a group's Durable Object made in a tick. `started`/`ended` are positions on the
 * tick's sequence of call starts and ends, so a replay keeps the same overlap (concurrent boots stay
 * concurrent, a call that waited for another still waits).
 */
interface RecordedCall {
  method: string;
  args: unknown[];
  started: number;
  ended: number;
  /** reserve()'s answer: a replayed release() names the replayed reservation, not the recorded one. */
  result?: unknown;
}

interface RecordedTick {
  calls: RecordedCall[];
  record: TickRecord;
}

/** The gateway as the real reconcile sees it, with every call it makes appended to `calls`. */
function recordingPort(port: CloudPort, calls: RecordedCall[]): CloudPort {
  let position = 0;
  const call = (method: string) => async (...args: unknown[]) => {
    const entry: RecordedCall = { method, args, started: position++, ended: Number.POSITIVE_INFINITY };
    calls.push(entry);
    try {
      const result = await (port[method as keyof CloudPort] as (...a: unknown[]) => Promise<unknown>)(...args);
      if (method === "reserve") entry.result = result;
      return result;
    } finally {
      entry.ended = position++;
    }
  };
  return new Proxy({} as CloudPort, { get: (_target, method) => (typeof method === "string" ? call(method) : undefined) });
}

function reservationId(outcome: unknown): number | undefined {
  const o = outcome as { ok?: boolean; value?: { id?: unknown } } | undefined;
  return o?.ok === true && typeof o.value?.id === "number" ? o.value.id : undefined;
}

/**
 * The groups' recorded ticks by `group@now`, in module state: locally one isolate holds the worker and
 * its Durable Objects, so the cron invocation's replay without RPC (directGroupObjects) can read them too.
 * Only the latest few are kept (the bench replays a tick right after it).
 */
const recorded = new Map<string, RecordedTick>();
const RECORDED_KEPT = 16;

function recordedTick(group: string, now: string): RecordedTick {
  const tick = recorded.get(`${group}@${now}`);
  if (tick === undefined) throw new Error(`bench replay: no recorded reconcile of '${group}' at ${now}`);
  return tick;
}

/**
 * Makes exactly the gateway calls a real reconcile made (same arguments, same order and overlap) on
 * `port`, then answers its record: no planning, no storage.
 */
async function replayCalls(tick: RecordedTick, port: CloudPort): Promise<TickRecord> {
  const running: Array<Promise<unknown>> = [];
  const ids = new Map<number, number>();
  for (const [i, call] of tick.calls.entries()) {
    // Every earlier call that had finished before this one started, finished again first.
    await Promise.all(tick.calls.slice(0, i).flatMap((c, j) => (c.ended < call.started ? [running[j]] : [])));
    const recordedId = call.method === "release" ? Number(call.args[0]) : undefined;
    const args = recordedId === undefined ? call.args : [ids.get(recordedId) ?? recordedId];
    // Called as a method of `port` (not through .apply: on an RPC stub that would be a remote call named "apply").
    const sent = (port as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[call.method]!(...args).then((answer) => {
      const from = reservationId(call.result);
      const to = reservationId(answer);
      if (call.method === "reserve" && from !== undefined && to !== undefined) ids.set(from, to);
      return answer;
    });
    running.push(sent);
  }
  await Promise.all(running);
  return tick.record;
}

export class GroupCoordinator extends RealGroupCoordinator {
  constructor(state: DurableObjectState, env: Env) {
    super(state, countingEnv(env));
  }

  /** The real reconcile, with the gateway calls it makes recorded for a replay. */
  override async reconcile(request: ReconcileRequest, gateway: CloudPort): Promise<TickRecord> {
    const calls: RecordedCall[] = [];
    const record = await super.reconcile(request, recordingPort(gateway, calls));
    recorded.set(`${request.group.name}@${request.now}`, { calls, record });
    for (const key of recorded.keys()) if (recorded.size > RECORDED_KEPT) recorded.delete(key);
    return record;
  }

  /**
   * This group's recorded calls for the tick, sent again through the gateway stub it is handed (the same
   * RPC as production): a tick run with it costs the cron invocation what the real one did, the cloud
   * requests it carries for the group included, plus this side's sending of the calls.
   */
  async replay(request: ReconcileRequest, gateway: CloudPort): Promise<TickRecord> {
    return replayCalls(recordedTick(request.group.name, request.now), gateway);
  }
}

/**
 * `n` runtime operations of one kind, for bench/node/cpu-profile.ts's cost model (workerd CPU is read
 * from outside): `fetch` of `url`, a KV `get`, a Durable Object RPC (a group coordinator's `state()`).
 */
async function probe(url: URL, env: Env): Promise<Response> {
  const n = Number(url.searchParams.get("n") ?? "1");
  const op = url.searchParams.get("op");
  for (let i = 0; i < n; i++) {
    if (op === "fetch") await (await fetch(url.searchParams.get("url") ?? "")).text();
    else if (op === "kv") await env.RULES.get("index:rules", "text");
    else if (op === "rpc") await coordinatorStub(env, "bench-probe").state();
    else if (op !== "none") return new Response("unknown op", { status: 400 });
  }
  return Response.json({ op, n });
}

/**
 * The groups' Durable Objects replaced by one that answers at once with an empty steady record: a tick
 * run with it costs what the cron invocation itself costs in a steady tick (in production each group's
 * Durable Object call is an invocation of its own, with its own CPU limit).
 */
function withoutGroupObjects(env: Env): Env {
  const answer = { reconcile: async (request: { now: string }) => ({ at: request.now, steps: [], results: [], notices: [], errors: [], health: "steady" }) };
  const groups = { idFromName: (name: string) => name, get: () => answer };
  return { ...env, GROUPS: groups as unknown as Env["GROUPS"] };
}

/**
 * The groups' Durable Objects replaying the gateway calls their real reconcile made for the same tick
 * (GroupCoordinator.replay above), over the same RPC as production: the cron invocation's own share of
 * any tick, scale events included (the Durable Objects' side of the replay is small: sending the calls).
 */
function replayingGroupObjects(env: Env): Env {
  const real = env.GROUPS as unknown as DurableObjectNamespace<GroupCoordinator>;
  const groups = {
    idFromName: (name: string) => real.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = real.get(id);
      return { reconcile: (request: ReconcileRequest, gateway: CloudPort) => stub.replay(request, gateway) };
    },
  };
  return { ...env, GROUPS: groups as unknown as Env["GROUPS"] };
}

/**
 * The same replay inside the cron invocation itself, on the gateway object (no Durable Object call, no
 * RPC): a lower bound of the cron invocation's share, where the replay over RPC (replayingGroupObjects)
 * is an upper bound (it adds the Durable Objects' side of each call). The cron invocation's real share
 * lies between the two.
 */
function directGroupObjects(env: Env): Env {
  const groups = {
    idFromName: (name: string) => name,
    get: (name: string) => ({ reconcile: async (request: ReconcileRequest, gateway: CloudPort) => structuredClone(await replayCalls(recordedTick(name, request.now), gateway)) }),
  };
  return { ...env, GROUPS: groups as unknown as Env["GROUPS"] };
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/counts") {
      const body = { kv: { ...kvCounts } };
      if (url.searchParams.has("reset")) Object.assign(kvCounts, { reads: 0, writes: 0, deletes: 0, lists: 0 });
      return Response.json(body);
    }
    if (url.pathname === "/__bench/probe") return probe(url, env);
    if (worker.fetch === undefined) return new Response("no fetch handler", { status: 404 });
    return worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, countingEnv(env), ctx);
  },
  async scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
    // The harness's own cost of a scheduled() event (bench/node/cpu-profile.ts subtracts it): the worker is not called.
    if (controller.cron === "bench-noop") return;
    // The cron invocation's own share of a steady tick (see withoutGroupObjects).
    if (controller.cron === "bench-cron-only") return worker.scheduled?.(controller, withoutGroupObjects(countingEnv(env)), ctx);
    // The cron invocation's own share of a tick just run (see replayingGroupObjects).
    if (controller.cron === "bench-cron-direct") return worker.scheduled?.(controller, directGroupObjects(countingEnv(env)), ctx);
    if (controller.cron === "bench-cron-replay") return worker.scheduled?.(controller, replayingGroupObjects(countingEnv(env)), ctx);
    await worker.scheduled?.(controller, countingEnv(env), ctx);
  },
} satisfies ExportedHandler<Env>;
