// The tick's deadline and subrequest budget at the HTTP layer: nothing starts after the deadline, no attempt outlives it, no request beyond the budget.
import { describe, expect, it } from "vitest";
import { OpenStackError } from "../../src/openstack/errors.ts";
import { Transport, type FetchFunction } from "../../src/openstack/http.ts";
import { budgetFromEnv, DEFAULT_SUBREQUEST_BUDGET, TickBudget } from "../../src/reconcile/gateway/budget.ts";
import { caught } from "./support/replay.ts";

const URL_ = "http://127.0.0.1:8774/v2.1/servers/detail";

/** A cloud that never answers: the request ends only when its signal aborts it. */
function hanging(): { fetch: FetchFunction; started: number[] } {
  const started: number[] = [];
  const fetch: FetchFunction = (_input, init) =>
    new Promise((_resolve, reject) => {
      started.push(Date.now());
      const signal = init.signal as AbortSignal;
      signal.addEventListener("abort", () => reject(signal.reason));
    });
  return { fetch, started };
}

const okFetch = (counter: { n: number }): FetchFunction => async () => {
  counter.n += 1;
  return new Response(JSON.stringify({ servers: [] }), { status: 200, headers: { "content-type": "application/json" } });
};

describe("deadline", () => {
  it("an attempt started just before the deadline is cut at the deadline, not at its 30 s timeout", async () => {
    const cloud = hanging();
    const t = new Transport({ fetch: cloud.fetch, requestTimeoutMs: 30_000, deadline: Date.now() + 50, retry: { maxAttempts: 1 } });
    const error = await caught(t.send({ method: "GET", url: URL_, service: "compute" }));
    expect(cloud.started).toHaveLength(1);
    expect(error.kind).toBe("timeout");
    expect(error.message).toContain("before the tick's deadline");
  });

  it("the budget's deadline bounds an attempt the same way", async () => {
    const cloud = hanging();
    const budget = new TickBudget({ subrequests: 50, deadline: Date.now() + 50 });
    const t = new Transport({ fetch: cloud.fetch, requestTimeoutMs: 30_000, budget, retry: { maxAttempts: 1 } });
    const error = await caught(t.send({ method: "GET", url: URL_, service: "compute" }));
    expect(error.message).toContain("before the tick's deadline");
  });

  it("nothing is sent once the deadline has passed: the request fails unsent, as transient", async () => {
    const counter = { n: 0 };
    const t = new Transport({ fetch: okFetch(counter), deadline: Date.now() - 1 });
    const error = await caught(t.send({ method: "GET", url: URL_, service: "compute" }));
    expect(counter.n).toBe(0);
    expect(error.kind).toBe("deadline");
    expect(error.category).toBe("transient");
    expect(t.stats().requests).toBe(0);
  });

  it("a retry is not started after the deadline (the hanging attempt is the last)", async () => {
    const cloud = hanging();
    const t = new Transport({ fetch: cloud.fetch, deadline: Date.now() + 50, sleep: async () => undefined, random: () => 0 });
    await caught(t.send({ method: "GET", url: URL_, service: "compute" }));
    expect(cloud.started).toHaveLength(1);
  });
});

describe("subrequest budget", () => {
  it("a shared budget caps the requests of every transport charged to it together", async () => {
    const counter = { n: 0 };
    const budget = new TickBudget({ subrequests: 5 });
    const a = new Transport({ fetch: okFetch(counter), budget });
    const b = new Transport({ fetch: okFetch(counter), budget });
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).send({ method: "GET", url: URL_, service: "compute" })));
    expect(counter.n).toBe(5);
    expect(budget.spent).toBe(5);
    const refused = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as OpenStackError] : []));
    expect(refused).toHaveLength(3);
    expect(refused.every((e) => e.kind === "subrequestBudget" && e.category === "transient")).toBe(true);
  });

  it("a request refused by the budget is not retried", async () => {
    const counter = { n: 0 };
    const budget = new TickBudget({ subrequests: 0 });
    const t = new Transport({ fetch: okFetch(counter), budget, sleep: async () => undefined });
    const error = await caught(t.send({ method: "GET", url: URL_, service: "compute" }));
    expect(error.kind).toBe("subrequestBudget");
    expect(t.stats().retries).toBe(0);
  });

  it("retries are charged: a request retried three times spends four", async () => {
    let n = 0;
    const flaky: FetchFunction = async () => {
      n += 1;
      return n < 4 ? new Response("{}", { status: 503 }) : new Response(JSON.stringify({ servers: [] }), { status: 200 });
    };
    const budget = new TickBudget({ subrequests: 50 });
    const t = new Transport({ fetch: flaky, budget, sleep: async () => undefined, random: () => 0 });
    await t.send({ method: "GET", url: URL_, service: "compute" });
    expect(budget.spent).toBe(4);
  });
});

describe("TickBudget", () => {
  it("promises nothing after its deadline", () => {
    let now = 1_000;
    const budget = new TickBudget({ subrequests: 50, deadline: 2_000, clock: () => now });
    expect(budget.available()).toBe(50);
    now = 2_000;
    expect(budget.available()).toBe(0);
  });

  it("requests held for a group are not promised to another until released", () => {
    const budget = new TickBudget({ subrequests: 10 });
    budget.hold(7);
    expect(budget.available()).toBe(3);
    budget.release(7);
    expect(budget.available()).toBe(10);
  });

  it("reads NOVASCALE_SUBREQUEST_BUDGET and NOVASCALE_TICK_SECONDS, defaulting to the free plan's 50 and 45 s", () => {
    const env = { NOVASCALE_SUBREQUEST_BUDGET: " 1000 ", NOVASCALE_TICK_SECONDS: "30" } as Parameters<typeof budgetFromEnv>[0];
    const { budget, problem } = budgetFromEnv(env, 0);
    expect(problem).toBeUndefined();
    expect([budget.limit, budget.deadline]).toEqual([1000, 30_000]);
    const defaults = budgetFromEnv({} as Parameters<typeof budgetFromEnv>[0], 0).budget;
    expect([defaults.limit, defaults.deadline]).toEqual([50, 45_000]);
  });

  it("a bad setting is named and the safe default is kept (a typo never lifts the cap)", () => {
    const { budget, problem } = budgetFromEnv({ NOVASCALE_SUBREQUEST_BUDGET: "1e6" } as Parameters<typeof budgetFromEnv>[0], 0);
    expect(budget.limit).toBe(DEFAULT_SUBREQUEST_BUDGET);
    expect(problem).toContain("NOVASCALE_SUBREQUEST_BUDGET");
    expect(budgetFromEnv({ NOVASCALE_SUBREQUEST_BUDGET: "20000" } as Parameters<typeof budgetFromEnv>[0], 0).problem).toContain("at most 10000");
  });
});

describe("the attempt's timer", () => {
  it("is cleared once the answer is read: a finished request's signal never fires (no timer left armed per request; the runtime caps active timers)", async () => {
    const signals: AbortSignal[] = [];
    const fetch: FetchFunction = async (_input, init) => {
      signals.push(init.signal as AbortSignal);
      return new Response(JSON.stringify({ servers: [] }), { status: 200, headers: { "content-type": "application/json" } });
    };
    const t = new Transport({ fetch, requestTimeoutMs: 20, retry: { maxAttempts: 1 } });
    for (let i = 0; i < 3; i++) await t.send({ method: "GET", url: URL_, service: "compute" });
    // Well past the 20 ms timeout (a slower machine only waits longer): an armed timer would have aborted them.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(signals.map((s) => s.aborted)).toEqual([false, false, false]);
  });
});
