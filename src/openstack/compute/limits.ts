// Nova limits: absolute (quota and usage) and rate limits (the book's era), from GET /limits.
import type { ComputeContext } from "./context.ts";
import { LimitsBodySchema, type RateLimit } from "./schemas.ts";

export interface Limits {
  /** As Nova names them: maxTotalInstances, totalInstancesUsed, maxServerMeta, ... (-1: unlimited). */
  absolute: Record<string, number | null>;
  rate: RateLimit[];
}

export function limitsApi(ctx: ComputeContext) {
  return {
    async get(): Promise<Limits> {
      const body = await ctx.call({ method: "GET", path: "limits" }, LimitsBodySchema);
      return { absolute: body.limits.absolute, rate: body.limits.rate };
    },
  };
}

export type LimitsApi = ReturnType<typeof limitsApi>;
