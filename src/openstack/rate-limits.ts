// Retry-After remembered per endpoint across calls and ticks: an endpoint that asked us to wait is not called until then.

/**
 * When a 429/413/503 asks for a wait longer than the call may spend (its retry budget or the tick's
 * deadline), the call fails at once; without memory the next tick would go straight back to the rate
 * limiter and be refused again, spending its subrequests. The memory holds, per service and origin,
 * the time the cloud asked us to wait for; the transport refuses (unsent) every call to that endpoint
 * until then. Keep one per isolate (like the token cache): a warm isolate's next tick then skips it.
 */
export interface RateLimitMemory {
  /** Until when (ms since the epoch) calls to this endpoint wait; undefined when they do not. */
  until(key: string, nowMs: number): number | undefined;
  /** Remembers a wait until `untilMs`; a longer wait already remembered stands. */
  hold(key: string, untilMs: number): void;
  /** Every endpoint still held at `nowMs`, for status and logs. */
  held(nowMs: number): Array<{ endpoint: string; until: number }>;
}

/** Bounded so a cloud with many origins cannot grow an isolate's memory without limit. */
const MAX_ENDPOINTS = 64;

export function createRateLimitMemory(): RateLimitMemory {
  const holds = new Map<string, number>();
  return {
    until(key, nowMs) {
      const until = holds.get(key);
      if (until === undefined) return undefined;
      if (until <= nowMs) {
        holds.delete(key);
        return undefined;
      }
      return until;
    },
    hold(key, untilMs) {
      const before = holds.get(key);
      if (before !== undefined && before >= untilMs) return;
      holds.delete(key);
      holds.set(key, untilMs);
      while (holds.size > MAX_ENDPOINTS) holds.delete(holds.keys().next().value!);
    },
    held(nowMs) {
      return [...holds].filter(([, until]) => until > nowMs).map(([endpoint, until]) => ({ endpoint, until }));
    },
  };
}

/**
 * The endpoint a request goes to, as the memory keys it: its service and its URL up to the API version
 * segment (`http://nova:8774/v2.1`, `https://cloud.example/image/v2`), else the origin: two services or
 * two clouds behind one host are held apart, all calls of one API together.
 */
export function endpointKey(service: string, url: string): string {
  try {
    const u = new URL(url);
    const version = /^(.*?\/v\d+(\.\d+)?)(\/|$)/.exec(u.pathname);
    return `${service} ${u.origin}${version === null ? "" : version[1]}`;
  } catch {
    return `${service} ${url}`;
  }
}
