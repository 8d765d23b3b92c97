// The services' side of the rules registry, for every kind: read one entry, write one (compare-and-set), map a refusal to a ServiceError.
import type { Env } from "../../config/env.ts";
import type { RuleKind, RulesEnvelope, RulesOf } from "../../store/rules.ts";
import type { Refusal } from "../rules/registry-engine.ts";
import { registryStub } from "./registry.ts";
import { CloudUnavailableError, ConflictError, CorruptRecordError, InvalidRequestError, NotFoundError, PreconditionFailedError, type ServiceError } from "../shared/service.ts";

/** The registry's refusal (data across RPC) as the service's typed error; nothing was written. */
export function refused(refusal: Refusal): ServiceError {
  switch (refusal.code) {
    case "not_found":
      return new NotFoundError(refusal.message);
    case "precondition_failed":
      return new PreconditionFailedError(refusal.message, refusal.details);
    case "conflict":
      return new ConflictError(refusal.message, refusal.details);
    case "cloud_unavailable":
      return new CloudUnavailableError(refusal.message, refusal.details);
    case "invalid_request":
      return new InvalidRequestError(refusal.message, refusal.details);
  }
}

/** The live entry's envelope, or null; reads go to the registry (strongly consistent), never to KV. Throws CorruptRecordError. */
export async function findRules<K extends RuleKind>(env: Env, kind: K, name: string): Promise<RulesEnvelope<RulesOf<K>> | null> {
  const read = await registryStub(env).get(kind, name);
  if (read === null) return null;
  if (!read.ok) throw new CorruptRecordError(read.problem, { [kind]: name });
  return read.envelope as RulesEnvelope<RulesOf<K>>;
}

/** Create or replace (kind, name) under If-Match / If-None-Match; throws the refusal as a ServiceError. */
export async function putRules<K extends RuleKind>(
  env: Env,
  kind: K,
  name: string,
  rules: RulesOf<K>,
  opts: { ifMatch?: string; ifNoneMatch?: string; author: string; at: string },
): Promise<{ created: boolean; envelope: RulesEnvelope<RulesOf<K>> }> {
  const answer = await registryStub(env).put(kind, name, rules, {
    author: opts.author,
    at: opts.at,
    ...(opts.ifMatch !== undefined ? { ifMatch: opts.ifMatch } : {}),
    ...(opts.ifNoneMatch !== undefined ? { ifNoneMatch: opts.ifNoneMatch } : {}),
  });
  if (!answer.ok) throw refused(answer.refusal);
  return { created: answer.created, envelope: answer.entry.envelope as RulesEnvelope<RulesOf<K>> };
}
