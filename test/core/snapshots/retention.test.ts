// Calendar retention (restic's forget rules) and the safety rules of the one retention function: one rule per test.
import { describe, expect, it } from "vitest";
import { decideRetention, isoWeek, keepWithinProblem, type RetentionInput, type RetentionSnapshot } from "../../../src/core/snapshots/retention.ts";
import { image, NO_GUARD } from "./builders.ts";

/** A scheduled, active snapshot of `source` for the firing `at`. */
function snap(at: string, o: { source?: string; status?: string; manual?: boolean; id?: string } = {}): RetentionSnapshot {
  const id = o.id ?? `${o.source ?? "a"}@${at.slice(0, 16)}`;
  return { image: image({ id, firing: at, status: o.status ?? "active", source: o.source ?? "a" }), at, manual: o.manual ?? false, source: o.source ?? "a" };
}

/** Nightly firings at 01:30Z on the November days given. */
const novemberNights = (from: number, to: number, source = "a") =>
  Array.from({ length: to - from + 1 }, (_, i) => snap(`2026-11-${String(from + i).padStart(2, "0")}T01:30:00.000Z`, { source }));

function decide(snapshots: RetentionSnapshot[], o: Partial<RetentionInput> = {}) {
  const latest = [...snapshots].filter((s) => !s.manual).sort((a, b) => b.at.localeCompare(a.at))[0]?.at ?? null;
  return decideRetention({
    snapshots,
    rules: {},
    keepManual: 5,
    timezone: "UTC",
    now: new Date("2026-11-30T12:00:00Z"),
    latestFiring: latest,
    perSource: false,
    guard: NO_GUARD,
    stuckAfterMs: 6 * 3_600_000,
    ...o,
  });
}
const kept = (d: ReturnType<typeof decide>) => d.filter((x) => x.action === "keep").map((x) => x.at.slice(0, 10));

describe("ISO weeks", () => {
  it("starts week 1 with the week of the year's first Thursday", () => {
    expect(isoWeek(2025, 12, 29)).toBe("2026-W01");
    expect(isoWeek(2026, 1, 1)).toBe("2026-W01");
  });
  it("gives 2026 a week 53 that runs into 2027", () => {
    expect(isoWeek(2026, 12, 31)).toBe("2026-W53");
    expect(isoWeek(2027, 1, 3)).toBe("2026-W53");
    expect(isoWeek(2027, 1, 4)).toBe("2027-W01");
  });
  it("puts Sunday in the week that began on the Monday before", () => {
    expect(isoWeek(2026, 11, 29)).toBe("2026-W48");
    expect(isoWeek(2026, 11, 30)).toBe("2026-W49");
  });
});

describe("calendar retention with restic's forget semantics", () => {
  it("the worked example: 9 nights (Sat 21 .. Sun 29 Nov) with keepDaily 3, keepWeekly 2 keep the 29th, 28th, 27th and 22nd", () => {
    const d = decide(novemberNights(21, 29), { rules: { keepDaily: 3, keepWeekly: 2 } });
    expect(kept(d)).toEqual(["2026-11-29", "2026-11-28", "2026-11-27", "2026-11-22"]);
  });

  it("lets one snapshot be the daily, the weekly and the monthly one (buckets overlap), and says so", () => {
    const d = decide(novemberNights(21, 29), { rules: { keepDaily: 1, keepWeekly: 1, keepMonthly: 1 } });
    expect(d[0]?.reason).toBe("daily 2026-11-29, weekly 2026-W48, monthly 2026-11");
    expect(kept(d)).toEqual(["2026-11-29"]);
  });

  it("names the bucket in the reason: 'weekly 2026-W47' for the newest snapshot of that ISO week", () => {
    const d = decide(novemberNights(21, 29), { rules: { keepDaily: 3, keepWeekly: 2 } });
    expect(d.find((x) => x.at.startsWith("2026-11-22"))?.reason).toBe("weekly 2026-W47");
  });

  it("buckets by the firing's local date in the policy's time zone, not UTC", () => {
    // 23:30Z on the 28th is 00:30 on the 29th in Berlin: the two are the same local day there.
    // (The 27th is the oldest: in UTC the rule's second count keeps it, in Berlin the count is used up.)
    const late = [snap("2026-11-28T23:30:00.000Z"), snap("2026-11-28T01:30:00.000Z"), snap("2026-11-27T01:30:00.000Z")];
    expect(decide(late, { rules: { keepDaily: 2 }, timezone: "UTC" }).map((x) => x.action)).toEqual(["keep", "delete", "keep"]);
    const berlin = decide(late, { rules: { keepDaily: 2 }, timezone: "Europe/Berlin" });
    expect(berlin.map((x) => x.reason)).toEqual(["daily 2026-11-29", "daily 2026-11-28", "not kept by keepDaily 2"]);
  });

  it("keepLast keeps the n newest whatever their dates", () => {
    expect(kept(decide(novemberNights(21, 29), { rules: { keepLast: 2 } }))).toEqual(["2026-11-29", "2026-11-28"]);
  });

  it("keepWithin measures from the newest snapshot, not from now (as restic does)", () => {
    const d = decide(novemberNights(1, 10), { rules: { keepWithin: "3d" }, now: new Date("2026-12-31T00:00:00Z") });
    expect(kept(d)).toEqual(["2026-11-10", "2026-11-09", "2026-11-08"]);
  });

  it("keepWithin keeps only snapshots strictly after the cutoff: 7d of a nightly history keeps 7, not the 8th on the boundary", () => {
    const d = decide(novemberNights(1, 20), { rules: { keepWithin: "7d" } });
    expect(kept(d)).toEqual(["2026-11-20", "2026-11-19", "2026-11-18", "2026-11-17", "2026-11-16", "2026-11-15", "2026-11-14"]);
    expect(d.find((x) => x.at.startsWith("2026-11-13"))).toMatchObject({ action: "delete", reason: "not kept by keepWithin 7d" });
  });

  it("a rule with count left when the snapshots run out also keeps the oldest snapshot (restic >= 0.16)", () => {
    // keepYearly 10 over one year of nights: the year's newest, and the oldest night as "oldest yearly".
    const d = decide(novemberNights(1, 10), { rules: { keepYearly: 10 } });
    expect(kept(d)).toEqual(["2026-11-10", "2026-11-01"]);
    expect(d.find((x) => x.at.startsWith("2026-11-01"))?.reason).toBe("oldest yearly 2026");
  });

  it("does not keep the oldest snapshot once the rule's count is used up", () => {
    expect(kept(decide(novemberNights(1, 10), { rules: { keepDaily: 3 } }))).toEqual(["2026-11-10", "2026-11-09", "2026-11-08"]);
  });

  it("keepYearly keeps the newest of each year", () => {
    const years = [snap("2024-06-01T01:30:00.000Z"), snap("2025-03-01T01:30:00.000Z"), snap("2025-09-01T01:30:00.000Z"), snap("2026-11-29T01:30:00.000Z")];
    expect(kept(decide(years, { rules: { keepYearly: 2 } }))).toEqual(["2026-11-29", "2025-09-01"]);
  });

  it("says which rules a deleted snapshot was not kept by", () => {
    const d = decide(novemberNights(21, 29), { rules: { keepDaily: 3, keepWeekly: 2 } });
    expect(d.find((x) => x.at.startsWith("2026-11-21"))).toMatchObject({ action: "delete", reason: "not kept by keepDaily 3, keepWeekly 2" });
  });

  it("rejects malformed keepWithin durations and accepts restic's", () => {
    for (const ok of ["7d", "2y6m", "1y2m3d4h", "36h"]) expect(keepWithinProblem(ok)).toBeUndefined();
    for (const bad of ["", "7", "d7", "3w", "1d2y", "-1d"]) expect(keepWithinProblem(bad)).toBeDefined();
  });
});

describe("retention per source server (snapshot policies)", () => {
  it("applies the rules to each server's history on its own", () => {
    const d = decide([...novemberNights(25, 29, "db"), ...novemberNights(25, 29, "jump")], { rules: { keepLast: 2 }, perSource: true });
    expect(d.filter((x) => x.action === "keep").map((x) => `${x.source} ${x.at.slice(8, 10)}`).sort()).toEqual(["db 28", "db 29", "jump 28", "jump 29"]);
  });

  it("keeps a gone server's snapshots under the same rules, its last one included", () => {
    const d = decide([...novemberNights(1, 3, "gone"), ...novemberNights(27, 29, "db")], { rules: { keepLast: 1 }, perSource: true, presentSources: ["db"] });
    expect(d.filter((x) => x.source === "gone").map((x) => x.action)).toEqual(["keep", "delete", "delete"]);
  });

  it("prunes nothing of a present server until its own snapshot of the latest firing is active", () => {
    const d = decide([...novemberNights(25, 28, "jump"), ...novemberNights(25, 29, "db")], { rules: { keepLast: 1 }, perSource: true, presentSources: ["db", "jump"] });
    expect(d.filter((x) => x.source === "jump").map((x) => x.action)).toEqual(["keep", "keep", "keep", "keep"]);
    expect(d.filter((x) => x.source === "db" && x.action === "delete")).toHaveLength(4);
  });
});

describe("safety rules of the retention function", () => {
  it("deletes nothing while the latest firing's snapshot is not active", () => {
    const d = decide([...novemberNights(20, 28), snap("2026-11-29T01:30:00.000Z", { status: "saving" })], { rules: { keepLast: 1 } });
    expect(d.filter((x) => x.action === "delete")).toEqual([]);
  });

  it("never deletes an image a server was booted from, and says how many", () => {
    const nights = novemberNights(20, 29);
    const d = decide(nights, { rules: { keepLast: 1 }, guard: { ...NO_GUARD, inUse: { [nights[0]!.image.id]: 2 } } });
    expect(d.find((x) => x.image.id === nights[0]!.image.id)).toMatchObject({ action: "keep", heldBack: true, reason: expect.stringMatching(/^kept: in use by 2 servers/) });
  });

  it("cleans up failed attempts once the latest firing is served", () => {
    const d = decide([...novemberNights(28, 29), snap("2026-11-27T01:30:00.000Z", { status: "killed" })], { rules: { keepLast: 5 } });
    expect(d.find((x) => x.image.status === "killed")).toMatchObject({ action: "delete", reason: "cleanup: the attempt ended 'killed'" });
  });

  it("keeps everything when no rule is given (as restic does)", () => {
    expect(decide(novemberNights(1, 29)).every((x) => x.action === "keep")).toBe(true);
  });
});
