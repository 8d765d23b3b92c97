// Fake Nova's book-era rate limiter (modern clouds show `rate: []`).
import { isoSeconds } from "../clock.ts";
import { json } from "../http.ts";
import { type Nova } from "./context.ts";

export const UNIT_MS: Record<string, number> = { SECOND: 1_000, MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };

export function rateLimit(n: Nova): Response | undefined {
  const now = n.cloud.now();
  for (const [index, limit] of n.cloud.options.rateLimits.entries()) {
    if (limit.verb !== n.ctx.method || !new RegExp(limit.regex).test(n.ctx.path)) continue;
    const key = `${n.projectId}:${index}`;
    const window = UNIT_MS[limit.unit] ?? 60_000;
    const recent = (n.cloud.rateWindows.get(key) ?? []).filter((t) => t > now - window);
    if (recent.length >= limit.value) {
      const retryAfter = Math.max(1, Math.ceil(((recent[0] ?? now) + window - now) / 1000));
      n.cloud.rateWindows.set(key, recent);
      return json(413, {
        overLimit: {
          code: 413,
          message: "This request was rate-limited.",
          retryAfter: String(retryAfter),
          details: `Only ${limit.value} ${limit.verb} request(s) can be made to ${limit.uri} every ${limit.unit.toLowerCase()}.`,
        },
      }, { "Retry-After": String(retryAfter) });
    }
    recent.push(now);
    n.cloud.rateWindows.set(key, recent);
  }
  return undefined;
}

export function rateView(n: Nova) {
  const now = n.cloud.now();
  return n.cloud.options.rateLimits.map((limit, index) => {
    const window = UNIT_MS[limit.unit] ?? 60_000;
    const recent = (n.cloud.rateWindows.get(`${n.projectId}:${index}`) ?? []).filter((t) => t > now - window);
    const next = recent.length >= limit.value ? (recent[0] ?? now) + window : now;
    return {
      uri: limit.uri,
      regex: limit.regex,
      limit: [{ verb: limit.verb, value: limit.value, remaining: Math.max(0, limit.value - recent.length), unit: limit.unit, "next-available": isoSeconds(next) }],
    };
  });
}
