// RulesRegistry: the one Durable Object (idFromName("rules")) every rules write goes through; groups' objects follow it.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../config/env.ts";
import type { RuleKind, RulesIndex } from "../../store/rules.ts";
import { coordinatorStub } from "../groups/coordinator.ts";
import { policyStub } from "../policies/policy-coordinator.ts";
import type { CloudPort } from "../gateway/gateway.ts";
import { REGISTRY_NAME, RulesRegistryEngine, type FollowAnswer, type FollowUpdate, type GuardAnswer, type NamedImages, type PutAnswer, type RemoveAnswer, type Summary } from "../rules/registry-engine.ts";
import type { ReadRulesResult, WriteConditions } from "../../store/rules.ts";

export { REGISTRY_NAME } from "../rules/registry-engine.ts";

/** Tells the entry's own object: a group's rules go to its GroupCoordinator, a policy's to its PolicyCoordinator. */
function follow(env: Env, update: FollowUpdate): Promise<FollowAnswer> {
  switch (update.kind) {
    case "group":
      return coordinatorStub(env, update.name).adopt(update);
    case "snapshotPolicy":
      return policyStub(env, update.name).adopt(update);
  }
}

export class RulesRegistry extends DurableObject<Env> implements RegistryApi {
  readonly #engine: RulesRegistryEngine;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#engine = new RulesRegistryEngine({ storage: ctx.storage, kv: env.RULES, follow: (update) => follow(env, update) });
  }

  get(kind: RuleKind, name: string): Promise<ReadRulesResult | null> {
    return this.#engine.get(kind, name);
  }

  list(kind: RuleKind): Promise<Summary[]> {
    return this.#engine.list(kind);
  }

  put(kind: RuleKind, name: string, body: unknown, opts: WriteConditions & { author: string; at: string }): Promise<PutAnswer> {
    return this.#engine.put(kind, name, body, opts);
  }

  /**
   * Deletes (kind, name). A group's delete is decided by its GroupCoordinator, in its queue (after any
   * running reconcile), from a fresh listing through `cloud`: refused while it has servers unless forced.
   */
  remove(kind: RuleKind, name: string, opts: { ifMatch?: string; author: string; at: string; force: boolean }, cloud: CloudPort): Promise<RemoveAnswer> {
    const guard = (revision: number): Promise<GuardAnswer> => {
      switch (kind) {
        case "group":
          return coordinatorStub(this.env, name).retire({ name, revision, force: opts.force, author: opts.author, at: opts.at }, cloud);
        case "snapshotPolicy":
          // Decided in the policy's queue, after any running run; its snapshots stay in Glance.
          return policyStub(this.env, name).retire({ name, revision, author: opts.author, at: opts.at });
      }
    };
    return this.#engine.remove(kind, name, opts, guard);
  }

  /** For a tick that found no readable index in KV: the registry's own (republished). */
  indexForTick(): Promise<RulesIndex> {
    return this.#engine.indexForTick();
  }

  /** The images the groups' current rules name: asked by snapshot retention at prune time. */
  namedImages(): Promise<NamedImages> {
    return this.#engine.namedImages();
  }

  /** Retries what an earlier write could not finish: telling followers, publishing the index. */
  override async alarm(): Promise<void> {
    await this.#engine.propagate();
  }
}

/** The registry as its callers see it (plain data across RPC; `rules` stays `unknown` until parsed). */
export interface RegistryApi {
  get(kind: RuleKind, name: string): Promise<ReadRulesResult | null>;
  list(kind: RuleKind): Promise<Summary[]>;
  put(kind: RuleKind, name: string, body: unknown, opts: WriteConditions & { author: string; at: string }): Promise<PutAnswer>;
  remove(kind: RuleKind, name: string, opts: { ifMatch?: string; author: string; at: string; force: boolean }, cloud: CloudPort): Promise<RemoveAnswer>;
  indexForTick(): Promise<RulesIndex>;
  namedImages(): Promise<NamedImages>;
}

/** The registry's stub. */
export function registryStub(env: Env): RegistryApi {
  const namespace = env.REGISTRY as unknown as DurableObjectNamespace<RulesRegistry>;
  return namespace.get(namespace.idFromName(REGISTRY_NAME)) as unknown as RegistryApi;
}
