// When to retry a failed request and how long to wait: capped exponential backoff with full jitter, Retry-After, deadline.
import type { OpenStackError } from "./errors.ts";

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  /** Upper bound of the first backoff window (ms). */
  baseDelayMs: number;
  /** No backoff window grows beyond this (ms). */
  maxDelayMs: number;
  /** Total time one call may spend, retries and waits included (ms). */
  budgetMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 250, maxDelayMs: 5_000, budgetMs: 20_000 };

/**
 * How a request may be retried:
 * - `idempotent`: any transient failure (GET, PUT, DELETE).
 * - `rejected-only`: only answers that prove the cloud did not act (409, 429, 503, 413 rate limit);
 *   never after a network error or a 500, when the request may have been carried out (actions, PATCH).
 * - `never`: a boot. A lost boot response is recognised on the next listing, not retried blindly.
 */
export type RetryMode = "idempotent" | "rejected-only" | "never";

export function defaultRetryMode(method: string): RetryMode {
  return method === "GET" || method === "HEAD" || method === "PUT" || method === "DELETE" ? "idempotent" : "rejected-only";
}

/** Whether this failure may be retried under this mode (the budget is checked separately). */
export function isRetryable(error: OpenStackError, mode: RetryMode): boolean {
  if (mode === "never" || error.category !== "transient") return false;
  if (mode === "idempotent") return true;
  return error.status === 409 || error.status === 429 || error.status === 503 || error.status === 413;
}

/**
 * The wait before retry number `retry` (1 = the first retry): full jitter over a window that doubles
 * each time up to maxDelayMs, and never shorter than what Retry-After asked for.
 */
export function backoffDelayMs(retry: number, policy: RetryPolicy, random: () => number, retryAfterSeconds?: number): number {
  const window = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = Math.floor(random() * window);
  const asked = retryAfterSeconds === undefined ? 0 : Math.ceil(retryAfterSeconds * 1000);
  return Math.max(jittered, asked);
}
