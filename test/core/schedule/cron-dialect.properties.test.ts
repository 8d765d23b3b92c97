// Property test of the cron dialect: day-of-month x day-of-week matches a small reference of Vixie cron's rule.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nextFirings } from "../../../src/core/schedule/schedule.ts";

/** A field in the forms both sides read: *, *\/n, a, a-b, a-b/n, a,b. */
const field = (min: number, max: number): fc.Arbitrary<string> => {
  const n = fc.integer({ min, max });
  return fc.oneof(
    fc.constant("*"),
    fc.integer({ min: 2, max: 5 }).map((s) => `*/${s}`),
    n.map(String),
    fc.tuple(n, n).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
    fc.tuple(n, n, fc.integer({ min: 2, max: 4 })).map(([a, b, s]) => `${Math.min(a, b)}-${Math.max(a, b)}/${s}`),
    fc.tuple(n, n).map(([a, b]) => `${a},${b}`),
  );
};

/** The values a field names (the reference: written from the crontab(5) man page, not from croner). */
function values(spec: string, min: number, max: number): Set<number> {
  const out = new Set<number>();
  for (const part of spec.split(",")) {
    const [range = "", stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    const [lo, hi] = range === "*" ? [min, max] : range.includes("-") ? range.split("-").map(Number) : [Number(range), Number(range)];
    for (let v = lo ?? min; v <= (hi ?? max); v += step) out.add(v);
  }
  return out;
}

/** Vixie: if either day field starts with '*', both must match; else either. */
function vixieMatches(dom: string, dow: string, date: Date): boolean {
  const inDom = values(dom, 1, 31).has(date.getUTCDate());
  const inDow = values(dow, 0, 6).has(date.getUTCDay());
  return dom.startsWith("*") || dow.startsWith("*") ? inDom && inDow : inDom || inDow;
}

describe("cron dialect (property)", () => {
  it("fires on exactly the days Vixie cron's day rule names, over two months", () => {
    fc.assert(
      fc.property(field(1, 31), field(0, 6), (dom, dow) => {
        const from = new Date("2026-11-30T23:59:00Z");
        const until = new Date("2027-01-31T23:59:00Z");
        const fired = new Set(nextFirings({ cron: `0 0 ${dom} * ${dow}`, timezone: "UTC", desired: 1 }, from, until).map((d) => d.toISOString().slice(0, 10)));
        const expected: string[] = [];
        for (let t = Date.parse("2026-12-01T00:00:00Z"); t <= until.getTime(); t += 86_400_000) {
          if (vixieMatches(dom, dow, new Date(t))) expected.push(new Date(t).toISOString().slice(0, 10));
        }
        expect([...fired]).toEqual(expected);
      }),
      { numRuns: 80 },
    );
  });
});
