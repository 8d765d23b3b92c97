// Benchmark entry: the real worker unchanged, with its KV binding wrapped to count operations per tick.
import realWorker from "../../src/index.ts";
import { GroupCoordinator as RealGroupCoordinator } from "../../src/index.ts";
import type { Env } from "../../src/config/env.ts";

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

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/counts") {
      const body = { kv: { ...kvCounts } };
      if (url.searchParams.has("reset")) Object.assign(kvCounts, { reads: 0, writes: 0, deletes: 0, lists: 0 });
      return Response.json(body);
    }
    if (worker.fetch === undefined) return new Response("no fetch handler", { status: 404 });
    return worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, countingEnv(env), ctx);
  },
  async scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
    await worker.scheduled?.(controller, countingEnv(env), ctx);
  },
} satisfies ExportedHandler<Env>;
