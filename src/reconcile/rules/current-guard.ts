// The retention guard's fresh half: the images the rules registry's current group rules name, asked at prune time.
import type { Env } from "../../config/env.ts";
import { mergeGuards, retentionGuard, type RetentionGuard } from "../../core/snapshots/retention.ts";
import { REGISTRY_NAME, type NamedImages } from "./registry-engine.ts";

/** Asks for the current guard; undefined when it cannot be had (then nothing is pruned this run). */
export type GuardRefresh = () => Promise<RetentionGuard | undefined>;

/**
 * The registry's answer as a guard. The tick built its guard from the KV index it read, up to a minute
 * old (KV lags by design); a group re-pointed at an image since then names it only in the registry.
 * One Durable Object call, made only by a run that is about to delete images.
 */
export function registryGuardRefresh(env: Env): GuardRefresh {
  return async () => {
    try {
      const namespace = env.REGISTRY as unknown as DurableObjectNamespace;
      const stub = namespace.get(namespace.idFromName(REGISTRY_NAME)) as unknown as { namedImages(): Promise<NamedImages> };
      const answer = await stub.namedImages();
      return answer.complete ? retentionGuard(answer.named, []) : undefined;
    } catch (error) {
      console.error(`novascale: could not read the current rules for snapshot retention: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  };
}

/**
 * The guard to prune with: the tick's (its listing's servers, the KV index's groups) joined with the
 * registry's current rules. Undefined, so nothing is deleted, when either half is missing.
 */
export async function guardForPruning(tickGuard: RetentionGuard | undefined, refresh: GuardRefresh | undefined): Promise<RetentionGuard | undefined> {
  if (tickGuard === undefined || refresh === undefined) return tickGuard;
  const current = await refresh();
  return current === undefined ? undefined : mergeGuards(tickGuard, current);
}
