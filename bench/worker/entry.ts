// Benchmark entry: the real worker unchanged, with its KV binding wrapped to count operations per tick.
import realWorker from "../../src/index.ts";
import { GroupCoordinator as RealGroupCoordinator } from "../../src/index.ts";
import type { Env } from "../../src/config/env.ts";
import { coordinatorStub } from "../../src/reconcile/coordinator.ts";

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

export class GroupCoordinator extends RealGroupCoordinator {
  constructor(state: DurableObjectState, env: Env) {
    super(state, countingEnv(env));
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
    await worker.scheduled?.(controller, countingEnv(env), ctx);
  },
} satisfies ExportedHandler<Env>;
