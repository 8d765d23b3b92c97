// What a group's rules name in the cloud (image, flavors, key pair) and how lookups of them become write warnings.
import type { GroupRules, ResourceRef } from "./rules.ts";

/** What a reference names: looked up by the shell (reconcile/services/reference-check.ts) through the gateway. */
export type ReferenceKind = "image" | "flavor" | "keyPair";

/** One lookup to make: the rules' field it came from (`flavor`, `flavor.1`, `keyName`) and what it names. */
export interface ReferenceQuery {
  field: string;
  kind: ReferenceKind;
  ref: ResourceRef;
}

/**
 * How a lookup ended: found, or the error's category and the client's `kind` (nameNotFound,
 * ambiguousName, notUsable, ...) with its message (which carries the near names for an unknown one).
 */
export type ReferenceAnswer =
  | { ok: true }
  | { ok: false; category: string; kind?: string; status?: number; message: string };

/** `policy-elsewhere`: a snapshot policy selects the group by name but runs in another cloud-region (it backs up none of its servers). */
export type ReferenceWarningCode = "not-found" | "ambiguous" | "not-usable" | "cloud-unreachable" | "policy-elsewhere";

/** A PUT/PATCH answer's warning: the rules were stored (unless strict), but booting from them would fail. */
export interface ReferenceWarning {
  field: string;
  code: ReferenceWarningCode;
  message: string;
}

const LABEL: Record<ReferenceKind, string> = { image: "image", flavor: "flavor", keyPair: "key pair" };

function refText(ref: ResourceRef): string {
  return typeof ref === "string" ? ref : `id ${ref.id}`;
}

/**
 * The lookups a write's check makes, in field order: the image, each flavor (a list of preferences,
 * if the rules hold one, is checked entry by entry), the key pair. Networks and security groups are
 * not here: Nova's proxies for them (os-networks, os-security-groups) are gone from microversion 2.36
 * and novascale has no Neutron client, so they are only checked by Nova when a server boots.
 */
export function referenceQueries(rules: Pick<GroupRules, "image" | "flavor" | "keyName">): ReferenceQuery[] {
  const queries: ReferenceQuery[] = [];
  if (rules.image !== undefined) queries.push({ field: "image", kind: "image", ref: rules.image });
  const flavor = rules.flavor;
  if (Array.isArray(flavor)) flavor.forEach((ref, i) => queries.push({ field: `flavor.${i}`, kind: "flavor", ref }));
  else if (flavor !== undefined) queries.push({ field: "flavor", kind: "flavor", ref: flavor });
  if (rules.keyName !== undefined) queries.push({ field: "keyName", kind: "keyPair", ref: rules.keyName });
  return queries;
}

/** The rules' problem a failed lookup shows, or null when the cloud could not say (it never blocks a write). */
function problemCode(answer: Extract<ReferenceAnswer, { ok: false }>): Exclude<ReferenceWarningCode, "cloud-unreachable"> | null {
  if (answer.kind === "ambiguousName") return "ambiguous";
  if (answer.kind === "notUsable") return "not-usable";
  if (answer.kind === "nameNotFound") return "not-found";
  // By id: Nova and Glance answer 404 (notFound, or a plain 404 the client calls `cloud`).
  if (answer.category === "notFound" || answer.status === 404) return "not-found";
  return null;
}

/** One warning per reference that did not resolve; the cloud's own words kept (they name near matches). */
export function referenceWarnings(queries: readonly ReferenceQuery[], answers: readonly ReferenceAnswer[]): ReferenceWarning[] {
  const warnings: ReferenceWarning[] = [];
  queries.forEach((query, i) => {
    const answer = answers[i];
    if (answer === undefined || answer.ok) return;
    const what = `${LABEL[query.kind]} ${refText(query.ref)}`;
    const code = problemCode(answer);
    if (code === null) {
      warnings.push({ field: query.field, code: "cloud-unreachable", message: `could not check the ${what} against the cloud: ${answer.message}` });
      return;
    }
    // A name's answer says what came close; an id's 404 only says it is not there.
    const message = code === "not-found" && answer.kind !== "nameNotFound" ? `the ${what} does not exist (${answer.message})` : answer.message;
    warnings.push({ field: query.field, code, message });
  });
  return warnings;
}

/** A `?strict=true` write: 422 for any problem with the rules, else 503 when the cloud could not check, else the write. */
export type StrictVerdict = { outcome: "write" } | { outcome: "invalid"; warnings: ReferenceWarning[] } | { outcome: "unchecked"; cause: string };

export function strictVerdict(all: readonly ReferenceWarning[]): StrictVerdict {
  // A policy left in another cloud-region is about the policy, not these rules: never a reason to refuse the
  // write (moving the group first, then its policy, is how the pair moves; the policy's write is checked too).
  const warnings = all.filter((w) => w.code !== "policy-elsewhere");
  if (warnings.some((w) => w.code !== "cloud-unreachable")) return { outcome: "invalid", warnings: [...warnings] };
  const unreachable = warnings.find((w) => w.code === "cloud-unreachable");
  return unreachable === undefined ? { outcome: "write" } : { outcome: "unchecked", cause: unreachable.message };
}
