// Retries: transient failures are retried with capped, jittered backoff within a deadline; boots never are.
import { describe, expect, it } from "vitest";
import { Transport } from "../../src/openstack/http.ts";
import { createRateLimitMemory } from "../../src/openstack/rate-limits.ts";
import { backoffDelayMs, DEFAULT_RETRY_POLICY } from "../../src/openstack/retry.ts";
import { caught, fakeClock, json, replay } from "./support/replay.ts";

const URL_ = "http://127.0.0.1:8774/v2.1/servers/detail";
const ok = json(200, { servers: [] });
const unavailable = json(503, { serviceUnavailable: { code: 503, message: "busy" } });

function transport(r: ReturnType<typeof replay>, extra: Partial<ConstructorParameters<typeof Transport>[0]> = {}) {
  const c = fakeClock();
  const t = new Transport({ fetch: r.fetch, clock: c.clock, sleep: c.sleep, random: () => 0.5, ...extra });
  return { t, c };
}

describe("backoff", () => {
  it("the window doubles per retry and is capped", () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
    const almostOne = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, policy, almostOne))).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it("full jitter: a random 0 waits nothing", () => {
    expect(backoffDelayMs(3, DEFAULT_RETRY_POLICY, () => 0)).toBe(0);
  });

  it("never waits less than Retry-After asked", () => {
    expect(backoffDelayMs(1, DEFAULT_RETRY_POLICY, () => 0, 7)).toBe(7000);
  });
});

describe("retrying", () => {
  it("a GET answered 503 is retried and then succeeds", async () => {
    const r = replay(unavailable, unavailable, ok);
    const { t, c } = transport(r);
    const response = await t.send({ method: "GET", url: URL_, service: "compute" });
    expect(response.status).toBe(200);
    expect(r.requests).toHaveLength(3);
    expect(c.waits).toEqual([125, 250]); // random 0.5 of 250 ms, then of 500 ms
  });

  it("a GET that fails at the network level is retried", async () => {
    const r = replay(new TypeError("connection reset"), ok);
    const { t } = transport(r);
    expect((await t.send({ method: "GET", url: URL_, service: "compute" })).status).toBe(200);
  });

  it("Retry-After on a 429 is honoured", async () => {
    const r = replay(json(429, { overLimit: { code: 429, message: "slow down" } }, { "Retry-After": "3" }), ok);
    const { t, c } = transport(r);
    await t.send({ method: "GET", url: URL_, service: "compute" });
    expect(c.waits).toEqual([3000]);
  });

  it("gives up after maxAttempts with the last error", async () => {
    const r = replay(unavailable, unavailable, unavailable, unavailable, ok);
    const { t } = transport(r);
    const e = await caught(t.send({ method: "GET", url: URL_, service: "compute" }));
    expect(e).toMatchObject({ status: 503, category: "transient" });
    expect(r.requests).toHaveLength(DEFAULT_RETRY_POLICY.maxAttempts);
  });

  it("does not start a wait that would end past the call's budget", async () => {
    const r = replay(json(503, { serviceUnavailable: { code: 503, message: "later" } }, { "Retry-After": "60" }), ok);
    const { t, c } = transport(r, { retry: { budgetMs: 10_000 } });
    await caught(t.send({ method: "GET", url: URL_, service: "compute" }));
    expect(r.requests).toHaveLength(1);
    expect(c.waits).toEqual([]);
  });

  it("does not start a wait that would end past the absolute deadline (the tick's end)", async () => {
    const c = fakeClock();
    const r = replay(unavailable, ok);
    const t = new Transport({ fetch: r.fetch, clock: c.clock, sleep: c.sleep, random: () => 0.5, deadline: c.clock() + 100 });
    await caught(t.send({ method: "GET", url: URL_, service: "compute" }));
    expect(r.requests).toHaveLength(1);
  });

  it("a boot (POST /servers, retry 'never') is not retried even on 503", async () => {
    const r = replay(unavailable, json(202, {}));
    const { t } = transport(r);
    await caught(t.send({ method: "POST", url: "http://127.0.0.1:8774/v2.1/servers", json: {}, retry: "never", service: "compute" }));
    expect(r.requests).toHaveLength(1);
  });

  it("a server action answered 409 (rejected, not done) is retried", async () => {
    const r = replay(json(409, { conflictingRequest: { code: 409, message: "task_state rebooting" } }), { status: 202 });
    const { t } = transport(r);
    expect((await t.send({ method: "POST", url: `${URL_}/x/action`, json: { reboot: { type: "SOFT" } }, service: "compute" })).status).toBe(202);
    expect(r.requests).toHaveLength(2);
  });

  it("a server action whose connection broke is not retried (it may have been carried out)", async () => {
    const r = replay(new TypeError("connection reset"), { status: 202 });
    const { t } = transport(r);
    const e = await caught(t.send({ method: "POST", url: `${URL_}/x/action`, json: { reboot: { type: "SOFT" } }, service: "compute" }));
    expect(e).toMatchObject({ kind: "network", category: "transient", status: 0 });
    expect(r.requests).toHaveLength(1);
  });

  it("a config error (400) is never retried", async () => {
    const r = replay(json(400, { badRequest: { code: 400, message: "bad" } }), ok);
    const { t } = transport(r);
    await caught(t.send({ method: "GET", url: URL_, service: "compute" }));
    expect(r.requests).toHaveLength(1);
  });
});

describe("counting subrequests", () => {
  it("counts every attempt, retries included, per service", async () => {
    const r = replay(unavailable, ok, ok);
    const { t } = transport(r);
    await t.send({ method: "GET", url: URL_, service: "compute" });
    await t.send({ method: "GET", url: "http://127.0.0.1:9292/v2/images", service: "image" });
    expect(t.stats()).toEqual({ requests: 3, retries: 1, byService: { compute: 2, image: 1 } });
  });
});

describe("subrequest budget", () => {
  it("the request beyond maxRequests is not sent and fails as transient, without retries", async () => {
    const r = replay(ok, ok, ok);
    const { t } = transport(r, { maxRequests: 2 });
    await t.send({ method: "GET", url: URL_, service: "compute" });
    await t.send({ method: "GET", url: URL_, service: "compute" });
    const e = await caught(t.send({ method: "GET", url: URL_, service: "compute" }));
    expect(e).toMatchObject({ kind: "subrequestBudget", category: "transient", status: 0 });
    expect(r.requests).toHaveLength(2);
  });
});

describe("a Retry-After longer than the call may wait is remembered per endpoint", () => {
  const limited = (seconds: number) => ({ ...json(429, { overLimit: { code: 429, message: "Rate limit exceeded." } }), headers: { "Retry-After": String(seconds) } });

  it("the call fails at once (the wait is past its budget) and names the wait", async () => {
    const r = replay(limited(300));
    const { t } = transport(r, { rateLimits: createRateLimitMemory() });
    const e = await caught(t.send({ method: "GET", url: URL_, service: "compute" }));
    expect(e).toMatchObject({ status: 429, category: "transient", retryAfterSeconds: 300 });
    expect(r.requests).toHaveLength(1);
  });

  it("the next tick's transport, sharing the memory, does not send to that endpoint until then", async () => {
    const memory = createRateLimitMemory();
    const r = replay(limited(300), ok);
    const { t, c } = transport(r, { rateLimits: memory });
    await caught(t.send({ method: "GET", url: URL_, service: "compute" }));
    c.advance(60_000);
    const next = new Transport({ fetch: r.fetch, clock: c.clock, sleep: c.sleep, rateLimits: memory });
    const e = await caught(next.send({ method: "GET", url: URL_, service: "compute" }));
    expect(e).toMatchObject({ status: 0, kind: "rateLimited", category: "transient", retryAfterSeconds: 240 });
    expect(e).toMatchObject({ message: expect.stringContaining("compute http://127.0.0.1:8774/v2.1 asked us to wait (Retry-After) until") });
    expect(r.requests).toHaveLength(1);
  });

  it("once the wait is over the endpoint is called again", async () => {
    const memory = createRateLimitMemory();
    const r = replay(limited(300), ok);
    const { t, c } = transport(r, { rateLimits: memory });
    await caught(t.send({ method: "GET", url: URL_, service: "compute" }));
    c.advance(300_000);
    expect((await t.send({ method: "GET", url: URL_, service: "compute" })).status).toBe(200);
  });

  it("other endpoints (another service or origin) are still called", async () => {
    const memory = createRateLimitMemory();
    const r = replay(limited(300), ok);
    const { t } = transport(r, { rateLimits: memory });
    await caught(t.send({ method: "GET", url: URL_, service: "compute" }));
    expect((await t.send({ method: "GET", url: "http://127.0.0.1:9292/v2/images", service: "image" })).status).toBe(200);
  });

  it("a Retry-After short enough to wait is waited for, and nothing is remembered", async () => {
    const memory = createRateLimitMemory();
    const r = replay(limited(2), ok);
    const { t, c } = transport(r, { rateLimits: memory });
    expect((await t.send({ method: "GET", url: URL_, service: "compute" })).status).toBe(200);
    expect(memory.held(c.clock())).toEqual([]);
  });
});
