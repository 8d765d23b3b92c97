// restic's own forget tests as our reference: its snapshot list, policies and golden files (vendored in fixtures/restic) run through decideRetention.
import { describe, expect, it } from "vitest";
import goSource from "./fixtures/restic/snapshot_policy_test.go?raw";
import { decideRetention, type CalendarRetention, type RetentionSnapshot } from "../../../src/core/snapshots/retention.ts";
import { image, NO_GUARD } from "./builders.ts";

const golden = import.meta.glob<string>("./fixtures/restic/testdata/policy_keep_snapshots_*", { query: "?raw", import: "default", eager: true });

/** The snapshot times of restic's TestApplyPolicy, in its order (`parseTimeUTC("2014-09-01 10:20:30")`). */
function resticSnapshots(): string[] {
  const block = goSource.slice(goSource.indexOf("var testExpireSnapshots"), goSource.indexOf("var tests = "));
  return [...block.matchAll(/parseTimeUTC\("([^"]+)"\)/g)].map((m) => new Date(`${m[1]!.replace(" ", "T")}Z`).toISOString());
}

interface ResticPolicy {
  index: number;
  text: string;
  fields: Record<string, string>;
}

/** restic's list of policies (`var tests = []data.ExpirePolicy{ {Last: 10}, ... }`), each with its fields as written. */
function resticPolicies(): ResticPolicy[] {
  const start = goSource.indexOf("var tests = []data.ExpirePolicy{");
  const body = goSource.slice(goSource.indexOf("{", start) + 1, goSource.indexOf("\n\tfor i, p := range tests", start));
  const out: ResticPolicy[] = [];
  let depth = 0;
  let from = -1;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === "{") {
      if (depth === 0) from = i;
      depth++;
    } else if (body[i] === "}") {
      depth--;
      if (depth === 0) {
        const text = body.slice(from + 1, i);
        const fields: Record<string, string> = {};
        for (const m of text.matchAll(/(\w+):\s*(-?\d+|data\.ParseDurationOrPanic\("([^"]*)"\)|\[\][^,]*\{[^]*?\}\})/g)) fields[m[1]!] = m[3] ?? m[2]!;
        out.push({ index: out.length, text: text.replace(/\s+/g, " ").trim(), fields });
      }
    }
  }
  return out;
}

/** restic's duration in restic's own unit order (its String()): our keepWithin reads y, m, d, h in that order. */
function resticDuration(d: string): string {
  const units: Record<string, string> = {};
  for (const m of d.matchAll(/(\d+)([ymdh])/g)) units[m[2]!] = m[1]!;
  return ["y", "m", "d", "h"].map((u) => (units[u] === undefined ? "" : `${units[u]}${u}`)).join("");
}

const SUPPORTED: Record<string, keyof CalendarRetention> = { Last: "keepLast", Daily: "keepDaily", Weekly: "keepWeekly", Monthly: "keepMonthly", Yearly: "keepYearly", Within: "keepWithin" };

/** The policy in our rules, or why novascale has no equivalent (hourly buckets, tags, within-buckets, "keep all" -1). */
function toRules(p: ResticPolicy): CalendarRetention | string {
  if (Object.keys(p.fields).length === 0) return "the empty policy (restic's forget refuses it; novascale requires a rule)";
  const rules: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(p.fields)) {
    const ours = SUPPORTED[k];
    if (ours === undefined) return `${k} has no novascale equivalent`;
    if (v === "-1") return `${k}: -1 ("keep all") has no novascale equivalent`;
    rules[ours] = ours === "keepWithin" ? resticDuration(v) : Number(v);
  }
  return rules as CalendarRetention;
}

interface Golden {
  keep: Array<{ time: string }> | null;
  reasons?: Array<{ snapshot: { time: string }; matches: string[] }>;
}

/** Our reason ("last #1, daily 2016-01-18, oldest weekly 2016-W02, within 7d of the newest") in restic's words. */
function inResticWords(reason: string): string[] {
  return reason.split(", ").map((r) => {
    const within = /^within (\S+) of the newest$/.exec(r);
    if (within) return "within";
    const m = /^(oldest )?(last|daily|weekly|monthly|yearly) /.exec(r);
    return m ? `${m[1] ?? ""}${m[2]} snapshot` : `unexpected: ${r}`;
  });
}

const times = resticSnapshots();
const snapshots: RetentionSnapshot[] = times.map((at, i) => ({
  // restic sorts stably (equal times keep their input order); our tie-break is the larger id first.
  image: image({ id: `s${String(999 - i).padStart(3, "0")}`, firing: at, status: "active", source: "a" }),
  at,
  manual: false,
  source: "a",
}));
const newest = [...times].sort().at(-1)!;

function decide(rules: CalendarRetention) {
  return decideRetention({ snapshots, rules, keepManual: 5, timezone: "UTC", now: new Date("2026-12-01T00:00:00Z"), latestFiring: newest, perSource: false, guard: NO_GUARD, stuckAfterMs: 6 * 3_600_000 });
}

const policies = resticPolicies();

describe("the vendored restic reference", () => {
  it("has restic's 103 snapshots and 40 policies, each with its golden file", () => {
    expect(times).toHaveLength(103);
    expect(policies).toHaveLength(40);
    for (const p of policies) expect(golden[`./fixtures/restic/testdata/policy_keep_snapshots_${p.index}`], `golden ${p.index}`).toBeDefined();
  });
  it("novascale can express 25 of restic's 40 policies (the rest use hourly buckets, tags, within-buckets or -1)", () => {
    expect(policies.filter((p) => typeof toRules(p) !== "string").map((p) => p.index)).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
  });
});

describe("decideRetention keeps exactly what restic's golden files keep", () => {
  for (const p of policies) {
    const rules = toRules(p);
    if (typeof rules === "string") continue;
    const want = JSON.parse(golden[`./fixtures/restic/testdata/policy_keep_snapshots_${p.index}`]!) as Golden;
    const wantTimes = (want.keep ?? []).map((k) => new Date(k.time).toISOString());

    it(`policy ${p.index} {${p.text}}: the same snapshots, newest first`, () => {
      const kept = decide(rules).filter((d) => d.action === "keep").map((d) => d.at);
      expect(kept).toEqual(wantTimes);
    });

    it(`policy ${p.index} {${p.text}}: the same reasons per kept snapshot`, () => {
      const ours = decide(rules).filter((d) => d.action === "keep").map((d) => inResticWords(d.reason).sort());
      const theirs = (want.reasons ?? []).map((r) => r.matches.map((m) => (m.startsWith("within ") ? "within" : m)).sort());
      expect(ours).toEqual(theirs);
    });
  }
});
