// Test builders for the core: servers, rules, groups and overrides that read like the rules they test.
import { GroupRulesSchema, OverrideSchema, type Group, type GroupRules, type GroupRulesInput, type Override } from "../../src/config/group.ts";
import { BOOT_INTENT_KEY, GROUP_KEY, PROTECTED_KEY } from "../../src/core/model/membership.ts";
import type { Desired, ObservedServer } from "../../src/core/model/types.ts";

/** The instant tests treat as "now" unless they say otherwise. */
export const NOW = new Date("2026-11-26T12:00:00Z");

let serial = 0;

export interface ServerSpec {
  id?: string;
  name?: string;
  status?: string;
  taskState?: string | null;
  /** Minutes before `now` the server was created. */
  ageMin?: number;
  now?: Date;
  /** The group whose tag it carries; null for a server without any group tag. */
  group?: string | null;
  protected?: boolean;
  /** False for a server novascale did not boot (no boot intent marker: an operator tagged it by hand). Default true. */
  booted?: boolean;
  metadata?: Record<string, string>;
}

/** A server of group "web" in ACTIVE, created 60 minutes before NOW, unless the spec says otherwise. */
export function server(spec: ServerSpec = {}): ObservedServer {
  serial += 1;
  const id = spec.id ?? `srv-${String(serial).padStart(4, "0")}`;
  const group = spec.group === undefined ? "web" : spec.group;
  const metadata: Record<string, string> = { ...(spec.metadata ?? {}) };
  if (group !== null) metadata[GROUP_KEY] = group;
  if (spec.protected === true) metadata[PROTECTED_KEY] = "true";
  // A bare marker (no time): booted by novascale, without changing how its build age is measured.
  if (group !== null && spec.booted !== false && metadata[BOOT_INTENT_KEY] === undefined) metadata[BOOT_INTENT_KEY] = "test-boot";
  const created = new Date((spec.now ?? NOW).getTime() - (spec.ageMin ?? 60) * 60_000).toISOString();
  return { id, name: spec.name ?? `web-${id}`, status: spec.status ?? "ACTIVE", taskState: spec.taskState ?? null, created, metadata };
}

/** Several servers of the same spec. */
export function servers(count: number, spec: ServerSpec = {}): ObservedServer[] {
  return Array.from({ length: count }, () => server(spec));
}

/** Parsed rules (defaults filled in) with image, flavor and max 20 unless given. */
export function rules(input: Partial<GroupRulesInput> = {}): GroupRules {
  return GroupRulesSchema.parse({ image: "ubuntu-24.04", flavor: "m1.small", max: 20, ...input });
}

export function group(input: Partial<GroupRulesInput> = {}, name = "web"): Group {
  return { name, rules: rules(input) };
}

export function override(input: Partial<Override> = {}): Override {
  return OverrideSchema.parse({
    desired: 15,
    until: "2026-11-26T18:00:00Z",
    reason: "launch day",
    author: "alice",
    createdAt: "2026-11-26T11:00:00Z",
    ...input,
  });
}

/** A desired count as desiredCount would hand it to the planner. */
export function desired(value: number, source: Desired["source"] = "schedule"): Desired {
  return { value, source, reason: `test desires ${value}` };
}

export const iso = (d: Date | undefined): string | undefined => d?.toISOString();
