// One real Worker per end-to-end file: started under wrangler dev as the demo user with an admin API token, and torn down with everything the file's groups made.
import { afterAll, beforeAll } from "vitest";
import { Devcloud, demoUser, type DevcloudUser, workerVars } from "./devcloud.ts";
import { startWorker, type WorkerUnderTest } from "./wrangler-dev.ts";

export interface E2e {
  /** The tests' own plain-fetch view of the devcloud (set in beforeAll). */
  readonly cloud: Devcloud;
  /** The Worker under test, or undefined before beforeAll / after a failed start. */
  readonly worker: WorkerUnderTest | undefined;
  /** A request to the Worker's API with the admin token and a JSON content type. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** The same, answering the parsed JSON body; a non-2xx answer throws with the body and the Worker's output. */
  apiJson(path: string, init?: RequestInit): Promise<unknown>;
}

/**
 * Registers beforeAll/afterAll for one file. `groups()` (and `policies()`, snapshot policies) name what to
 * clean up afterwards: their rules are deleted through the API, then the servers and images named after
 * them are swept on the cloud.
 */
export function useE2eWorker(options: {
  tokenName: string;
  groups: () => readonly string[];
  policies?: () => readonly string[];
  beforeStart?: (cloud: Devcloud) => Promise<void>;
  /** Another identity than the demo user: who the tests' own view logs in as, and vars laid over the Worker's. */
  identity?: () => Promise<{ user: DevcloudUser; vars?: Record<string, string> }>;
}): E2e {
  const token = `${options.tokenName}-${crypto.randomUUID()}`;
  let cloud: Devcloud | undefined;
  let worker: WorkerUnderTest | undefined;

  const e2e: E2e = {
    get cloud() {
      if (cloud === undefined) throw new Error("the devcloud is not logged in yet (beforeAll has not run)");
      return cloud;
    },
    get worker() {
      return worker;
    },
    api(path, init = {}) {
      if (worker === undefined) throw new Error("worker not started");
      return worker.request(path, {
        ...init,
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...(init.headers ?? {}) },
      });
    },
    async apiJson(path, init = {}) {
      const res = await e2e.api(path, init);
      const text = await res.text();
      if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path} -> ${res.status}: ${text.slice(0, 2000)}\n${worker?.output().slice(-2000)}`);
      return JSON.parse(text) as unknown;
    },
  };

  beforeAll(async () => {
    const identity = options.identity === undefined ? { user: demoUser(process.env) } : await options.identity();
    cloud = await Devcloud.login(identity.user);
    await options.beforeStart?.(cloud);
    worker = await startWorker({ vars: { ...workerVars(identity.user, options.tokenName, token), ...identity.vars } });
  });

  afterAll(async () => {
    const policies = options.policies?.() ?? [];
    try {
      if (worker !== undefined) {
        for (const group of options.groups()) await e2e.api(`/v1/groups/${group}?force=true`, { method: "DELETE" }).catch(() => undefined);
        for (const policy of policies) await e2e.api(`/v1/snapshot-policies/${policy}`, { method: "DELETE" }).catch(() => undefined);
      }
    } finally {
      await worker?.stop();
      // Servers and images named after the groups and policies go, pass or fail.
      for (const name of [...options.groups(), ...policies]) await cloud?.sweep(name);
    }
  });

  return e2e;
}
