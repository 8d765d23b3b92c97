// The HTTP layer under every OpenStack call: injectable fetch/clock/sleep, retries, deadline, subrequest counting, zod parsing.
import type { z } from "zod";
import { OpenStackError, parseFault, parseRetryAfter } from "./errors.ts";
import { endpointKey, type RateLimitMemory } from "./rate-limits.ts";
import { isRedirect, nextHop } from "./redirects.ts";
import { backoffDelayMs, DEFAULT_RETRY_POLICY, defaultRetryMode, isRetryable, type RetryMode, type RetryPolicy } from "./retry.ts";
import { SecretMasker } from "./secrets.ts";

export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

export interface TransportOptions {
  /** Defaults to the runtime's fetch. Tests pass a fake transport here. */
  fetch?: FetchFunction;
  /** Milliseconds since the epoch; defaults to Date.now. */
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1); defaults to Math.random. Used for backoff jitter only. */
  random?: () => number;
  retry?: Partial<RetryPolicy>;
  /** Absolute time (ms since the epoch) after which no retry is started, e.g. the end of a cron tick's budget. */
  deadline?: number;
  /** Per attempt; an attempt that takes longer fails as a transient `timeout`. */
  requestTimeoutMs?: number;
  userAgent?: string;
  /**
   * Stop before this many requests (Workers cap subrequests per invocation: 50 on the free plan).
   * The request that would exceed it fails as a transient `subrequestBudget` error without being sent.
   */
  maxRequests?: number;
  /**
   * Sent as X-OpenStack-Request-Id on every request (Nova, Keystone and Glance log it as the global
   * request id next to their own): one per tick finds that tick in the cloud's logs. Default: a new
   * `req-<uuid>` per transport. Anything not of that form is ignored by the services, so it is refused.
   */
  requestId?: string;
  /**
   * Retry-After waits remembered per endpoint (see rate-limits.ts); share one per isolate so the next
   * tick does not call an endpoint that asked us to wait. Default: none (nothing remembered).
   */
  rateLimits?: RateLimitMemory;
  /**
   * A budget shared by every transport of one tick (or API request): each attempt is charged to it and
   * refused, unsent, when it is spent; its deadline bounds every attempt like `deadline` does.
   */
  budget?: RequestBudget;
}

/** The form oslo.middleware accepts as a global request id (others are silently dropped by the cloud). */
export const GLOBAL_REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** How many of the cloud's own request ids a transport remembers (the latest). */
const RETURNED_IDS_KEPT = 50;

/** What the transport asks of a shared budget (src/reconcile/budget.ts implements it for a tick). */
export interface RequestBudget {
  /** Absolute time (ms since the epoch) after which nothing new is sent; undefined: none. */
  readonly deadline: number | undefined;
  /** Charges one request; false (and nothing charged) when the budget has no request left. */
  tryCharge(service: string): boolean;
}

/** Kinds of OpenStackError for a request that was never sent: the cloud cannot have acted on it. */
export const NOT_SENT_KINDS: readonly string[] = ["subrequestBudget", "deadline", "rateLimited"];

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** A JSON value (sent as application/json) ... */
  json?: unknown;
  /** ... or a raw body with its content type (e.g. a Glance JSON patch). */
  raw?: { body: string; contentType: string };
  /** Status codes that count as success; default: any 2xx. */
  expect?: readonly number[];
  retry?: RetryMode;
  /** A label for the request counter: "identity", "compute", "image". */
  service: string;
  /** Values this request carries that must not come back in an error message (Nova echoes invalid input). */
  secrets?: readonly string[];
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  requestId: string | undefined;
  url: string;
  method: string;
}

/** What a caller can read to know how many API calls a tick made. */
export interface RequestStats {
  /** Every attempt that reached fetch (retries and re-authentication included). */
  requests: number;
  retries: number;
  byService: Record<string, number>;
}

export class Transport {
  readonly clock: () => number;
  private readonly fetchFn: FetchFunction;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly policy: RetryPolicy;
  private readonly deadline: number | undefined;
  private readonly requestTimeoutMs: number;
  private readonly userAgent: string;
  private readonly maxRequests: number | undefined;
  private readonly budget: RequestBudget | undefined;
  private readonly counters: RequestStats = { requests: 0, retries: 0, byService: {} };
  private readonly masker = new SecretMasker();
  /** The global request id sent with every request. */
  readonly requestId: string;
  private readonly returnedIds: string[] = [];
  private readonly trustedHosts = new Set<string>();
  private readonly rateLimits: RateLimitMemory | undefined;

  constructor(options: TransportOptions = {}) {
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.clock = options.clock ?? (() => Date.now());
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.deadline = options.deadline;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.userAgent = options.userAgent ?? "novascale";
    this.maxRequests = options.maxRequests;
    this.requestId = options.requestId ?? `req-${crypto.randomUUID()}`;
    if (!GLOBAL_REQUEST_ID.test(this.requestId)) throw new Error("requestId must be req-<uuid> in lower-case hex (the form OpenStack services log)");
    this.budget = options.budget;
    this.rateLimits = options.rateLimits;
  }

  /** The earlier of this transport's deadline and its budget's, if any. */
  get effectiveDeadline(): number | undefined {
    const a = this.deadline;
    const b = this.budget?.deadline;
    if (a === undefined) return b;
    return b === undefined ? a : Math.min(a, b);
  }

  /**
   * Hosts a redirect may lead to from another host (besides the same host on another port): those the
   * configuration and the catalog name, which receive the token anyway. See redirects.ts.
   */
  trustRedirectsTo(urls: Iterable<string>): void {
    for (const url of urls) {
      try {
        this.trustedHosts.add(new URL(url).hostname.toLowerCase());
      } catch {
        // not a URL: nothing to trust
      }
    }
  }

  /** A password, secret or token that is masked wherever it would appear in an error message. */
  registerSecret(value: string | undefined): void {
    this.masker.add(value);
  }

  /** `text` with every registered secret masked (in any of its forms, whole or in part). */
  mask(text: string): string {
    return this.masker.mask(text);
  }

  /** The cloud's own ids (x-openstack-request-id / x-compute-request-id) of the latest answers, oldest first. */
  returnedRequestIds(): string[] {
    return [...this.returnedIds];
  }

  stats(): RequestStats {
    return { requests: this.counters.requests, retries: this.counters.retries, byService: { ...this.counters.byService } };
  }

  /** Sends with retries; resolves with an expected status, otherwise throws OpenStackError. */
  async send(request: HttpRequest): Promise<HttpResponse> {
    const mode = request.retry ?? defaultRetryMode(request.method);
    const started = this.clock();
    this.refuseWhileHeld(request);
    for (let attempt = 1; ; attempt++) {
      let failure: OpenStackError;
      try {
        const response = await this.attempt(request);
        if (isExpected(response.status, request.expect)) return response;
        failure = this.errorFor(request, response);
      } catch (e) {
        if (!(e instanceof OpenStackError)) throw e;
        failure = e;
      }
      if (attempt >= this.policy.maxAttempts || NOT_SENT_KINDS.includes(failure.kind) || !isRetryable(failure, mode)) throw this.remembered(request, failure);
      const delay = backoffDelayMs(attempt, this.policy, this.random, failure.retryAfterSeconds);
      const resumeAt = this.clock() + delay;
      const deadline = this.effectiveDeadline;
      if (resumeAt - started > this.policy.budgetMs || (deadline !== undefined && resumeAt >= deadline)) throw this.remembered(request, failure);
      this.counters.retries++;
      await this.sleep(delay);
    }
  }

  /** Parses a JSON response body with a zod schema; a mismatch is the cloud's fault, not the caller's. */
  parse<T>(response: HttpResponse, schema: z.ZodType<T>): T {
    let json: unknown;
    try {
      json = JSON.parse(response.text);
    } catch {
      throw unexpected(response, "the body is not JSON");
    }
    const result = schema.safeParse(json);
    if (!result.success) {
      const issues = result.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
        .join("; ");
      throw unexpected(response, `unexpected response shape (${issues})`);
    }
    return result.data;
  }

  private async attempt(request: HttpRequest): Promise<HttpResponse> {
    const headers: Record<string, string> = {
      Accept: "application/json",
      "User-Agent": this.userAgent,
      "X-OpenStack-Request-Id": this.requestId,
      ...request.headers,
    };
    let body: string | undefined;
    if (request.json !== undefined) {
      body = JSON.stringify(request.json);
      headers["Content-Type"] = "application/json";
    } else if (request.raw !== undefined) {
      body = request.raw.body;
      headers["Content-Type"] = request.raw.contentType;
    }
    // An attempt started just before the deadline waits only until it (redirect hops included).
    const deadline = this.effectiveDeadline;
    const left = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - this.clock();
    const timeoutMs = Math.max(1, Math.min(this.requestTimeoutMs, left));
    // The attempt's own timer, cleared once it has its answer (AbortSignal.timeout's stays armed for the whole
    // timeout after every request: thousands of requests in one isolate hit the runtime's cap on active timers).
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError")), timeoutMs);
    const wait = { signal: controller.signal, timeoutMs, cutByDeadline: timeoutMs < this.requestTimeoutMs };
    try {
      return await this.followHops(request, headers, body, wait);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The attempt's hops (redirects followed as redirects.ts says), all under its one signal. */
  private async followHops(request: HttpRequest, headers: Record<string, string>, body: string | undefined, wait: { signal: AbortSignal; timeoutMs: number; cutByDeadline: boolean }): Promise<HttpResponse> {
    let hop = { method: request.method, url: request.url };
    for (let hops = 0; ; hops++) {
      const response = await this.fetchOnce(request, hop, headers, body, wait);
      if (!isRedirect(response.status)) {
        const text = await response.text();
        const requestId = response.headers.get("x-openstack-request-id") ?? response.headers.get("x-compute-request-id") ?? undefined;
        if (requestId !== undefined) this.remember(requestId);
        return { status: response.status, headers: response.headers, text, requestId, url: hop.url, method: hop.method };
      }
      await response.body?.cancel();
      const next = nextHop(hop, response.status, response.headers.get("location"), hops, (host) => this.trustedHosts.has(host));
      hop = { method: next.method, url: next.url };
      if (!next.keepBody) {
        body = undefined;
        delete headers["Content-Type"];
      }
    }
  }

  /** One request on the wire (charged to maxRequests and the budget, refused after the deadline), without following redirects. */
  private async fetchOnce(
    request: HttpRequest,
    hop: { method: string; url: string },
    headers: Record<string, string>,
    body: string | undefined,
    wait: { signal: AbortSignal; timeoutMs: number; cutByDeadline: boolean },
  ): Promise<Response> {
    const notSent = (kind: string, message: string) => new OpenStackError({ method: hop.method, url: hop.url, status: 0, kind, message, category: "transient" });
    if (this.maxRequests !== undefined && this.counters.requests >= this.maxRequests) {
      throw notSent("subrequestBudget", `not sent: this invocation already made ${this.counters.requests} requests (limit ${this.maxRequests})`);
    }
    // Nothing starts after the deadline.
    const deadline = this.effectiveDeadline;
    if (deadline !== undefined && deadline - this.clock() <= 0) throw notSent("deadline", "not sent: the tick's time budget is spent");
    if (this.budget !== undefined && !this.budget.tryCharge(request.service)) {
      throw notSent("subrequestBudget", "not sent: the tick's subrequest budget is spent");
    }
    this.counters.requests++;
    this.counters.byService[request.service] = (this.counters.byService[request.service] ?? 0) + 1;
    try {
      // "manual": fetch's own following would turn a POST into a GET on 301/302 (see redirects.ts).
      const init: RequestInit = { method: hop.method, headers, signal: wait.signal, redirect: "manual" };
      if (body !== undefined) init.body = body;
      return await this.fetchFn(hop.url, init);
    } catch (e) {
      const timeout = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
      const waited = wait.cutByDeadline ? `no answer before the tick's deadline (${wait.timeoutMs} ms)` : `no answer within ${wait.timeoutMs} ms`;
      // The runtime's text may quote what was sent (a URL, a header): masked like any cloud answer.
      const text = this.masker.with(request.secrets ?? []).mask(e instanceof Error ? e.message : String(e));
      throw new OpenStackError({
        method: hop.method,
        url: hop.url,
        status: 0,
        kind: timeout ? "timeout" : "network",
        message: timeout ? waited : `request failed: ${text}`,
      });
    }
  }

  /** A call to an endpoint that asked us to wait (remembered Retry-After) is refused unsent until then. */
  private refuseWhileHeld(request: HttpRequest): void {
    if (this.rateLimits === undefined) return;
    const now = this.clock();
    const key = endpointKey(request.service, request.url);
    const until = this.rateLimits.until(key, now);
    if (until === undefined) return;
    throw new OpenStackError({
      method: request.method,
      url: request.url,
      status: 0,
      kind: "rateLimited",
      message: `not sent: ${key} asked us to wait (Retry-After) until ${new Date(until).toISOString()}, ${Math.ceil((until - now) / 1000)} s from now`,
      retryAfterSeconds: Math.ceil((until - now) / 1000),
      category: "transient",
    });
  }

  /** A rate limit (429, 413, 503 with a positive Retry-After) given up on: remembered for the endpoint, so later calls wait too. */
  private remembered(request: HttpRequest, failure: OpenStackError): OpenStackError {
    const wait = failure.retryAfterSeconds;
    if (this.rateLimits !== undefined && wait !== undefined && wait > 0 && failure.category === "transient" && [413, 429, 503].includes(failure.status)) {
      this.rateLimits.hold(endpointKey(request.service, request.url), this.clock() + Math.ceil(wait * 1000));
    }
    return failure;
  }

  private remember(requestId: string): void {
    this.returnedIds.push(requestId);
    if (this.returnedIds.length > RETURNED_IDS_KEPT) this.returnedIds.shift();
  }

  private errorFor(request: HttpRequest, response: HttpResponse): OpenStackError {
    // Masked before parsing and again after: clipping a message must never keep part of a secret.
    const masker = this.masker.with(request.secrets ?? []);
    const fault = parseFault(response.status, masker.mask(response.text));
    const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"), this.clock()) ?? fault.retryAfterSeconds;
    return new OpenStackError({
      method: request.method,
      url: request.url,
      status: response.status,
      kind: fault.kind,
      message: masker.mask(fault.message),
      requestId: response.requestId,
      retryAfterSeconds,
    });
  }
}

function isExpected(status: number, expect: readonly number[] | undefined): boolean {
  return expect === undefined ? status >= 200 && status < 300 : expect.includes(status);
}

export function unexpected(response: Pick<HttpResponse, "method" | "url" | "status" | "requestId">, message: string): OpenStackError {
  return new OpenStackError({
    method: response.method,
    url: response.url,
    status: response.status,
    kind: "unexpectedResponse",
    message,
    requestId: response.requestId,
    category: "cloud",
  });
}

/** Joins a base URL and a path without doubling or losing slashes. */
export function joinUrl(base: string, path: string): string {
  if (path === "") return base;
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}

/** Appends query parameters; undefined values are left out, arrays repeat the key. */
export function withQuery(url: string, query: Record<string, string | number | boolean | readonly string[] | undefined> | undefined): string {
  if (query === undefined) return url;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) params.append(key, v);
    else params.append(key, String(value));
  }
  const qs = params.toString();
  if (qs === "") return url;
  return `${url}${url.includes("?") ? "&" : "?"}${qs}`;
}
