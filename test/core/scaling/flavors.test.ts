// Flavor fallback: which flavor boots, what marks a flavor and for how long, drift for the refresh (core/scaling/flavors.ts).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FORGET_AFTER_MS,
  capacityCause,
  chooseFlavor,
  flavorDrift,
  flavorDriftNow,
  flavorPreferences,
  flavorWhy,
  markFlavors,
  markMinutes,
  refusalsOf,
  type FlavorMark,
} from "../../../src/core/scaling/flavors.ts";
import { NOW, server } from "../builders.ts";

const min = (n: number) => n * 60_000;
const at = (ms: number) => new Date(NOW.getTime() + ms);
const NO_ROOM = "has no room (NoValidHost)";
const PREFS = ["m1.large", "m1.medium", "m1.small"];

/** A mark set at `from` for `minutes`. */
function mark(flavor: string, from: Date, minutes = 30, strikes = 1): FlavorMark {
  return { flavor, cause: NO_ROOM, at: from.toISOString(), until: new Date(from.getTime() + min(minutes)).toISOString(), strikes, servers: [] };
}

describe("chooseFlavor", () => {
  const table: Array<[string, string[], FlavorMark[], string, boolean]> = [
    ["no marks: the preferred", PREFS, [], "m1.large", false],
    ["the preferred marked: the second", PREFS, [mark("m1.large", NOW)], "m1.medium", true],
    ["the first two marked: the third", PREFS, [mark("m1.large", NOW), mark("m1.medium", NOW)], "m1.small", true],
    ["a later one marked: the preferred still", PREFS, [mark("m1.medium", NOW)], "m1.large", false],
    ["every one marked: the preferred is tried", PREFS, PREFS.map((f) => mark(f, NOW)), "m1.large", false],
    ["a single flavor is chosen though marked", ["m1.large"], [mark("m1.large", NOW)], "m1.large", false],
    ["the preferred's mark ended: the preferred again", PREFS, [mark("m1.large", at(-min(31)))], "m1.large", false],
  ];
  it.each(table)("%s", (_title, preferences, marks, label, fallback) => {
    const choice = chooseFlavor(preferences, marks, NOW);
    expect(choice).toMatchObject({ label, fallback });
  });

  it("a fallback says which flavor had no room, which one boots, and until when (HH:MM UTC)", () => {
    const choice = chooseFlavor(PREFS, [mark("m1.large", new Date("2026-11-26T10:00:00Z"))], new Date("2026-11-26T10:05:00Z"));
    expect(choice?.reason).toBe("m1.large has no room (NoValidHost), booting m1.medium until 10:30 UTC");
    expect(choice?.until).toBe("2026-11-26T10:30:00.000Z");
  });

  it("the preferred flavor is tried again for new boots the moment its mark ends", () => {
    const m = mark("m1.large", NOW);
    expect(chooseFlavor(PREFS, [m], at(min(30) - 1))?.label).toBe("m1.medium");
    expect(chooseFlavor(PREFS, [m], at(min(30)))?.label).toBe("m1.large");
  });

  it("no flavor: no choice", () => {
    expect(chooseFlavor([], [], NOW)).toBeUndefined();
  });

  it("a flavor by id is matched by its label 'id <id>'", () => {
    const choice = chooseFlavor([{ id: "42" }, "m1.medium"], [{ ...mark("id 42", NOW) }], NOW);
    expect(choice?.label).toBe("m1.medium");
  });

  it("the choice is always one of the preferences, and never a marked one while an unmarked one exists (property)", () => {
    fc.assert(
      fc.property(fc.subarray(PREFS, { minLength: 0 }), fc.integer({ min: -300, max: 300 }), (marked, offset) => {
        const marks = marked.map((f) => mark(f, at(min(offset))));
        const choice = chooseFlavor(PREFS, marks, NOW);
        expect(PREFS).toContain(choice?.label);
        const holding = new Set(marks.filter((m) => Date.parse(m.until) > NOW.getTime()).map((m) => m.flavor));
        if (PREFS.some((f) => !holding.has(f))) expect(holding.has(choice!.label)).toBe(false);
      }),
    );
  });
});

describe("marks", () => {
  it("last 30 min, doubling to 60, 120, then 240 at most", () => {
    expect([1, 2, 3, 4, 5, 9].map(markMinutes)).toEqual([30, 60, 120, 240, 240, 240]);
  });

  it("a first refusal marks the flavor for 30 min and says so once", () => {
    const out = markFlavors([], [{ flavor: "m1.large", cause: NO_ROOM, serverId: "a" }], NOW);
    expect(out.marks).toEqual([{ flavor: "m1.large", cause: NO_ROOM, at: NOW.toISOString(), until: at(min(30)).toISOString(), strikes: 1, servers: ["a"] }]);
    expect(out.marked).toHaveLength(1);
  });

  it("a refusal while the flavor is still marked is the same episode: not extended, no new line", () => {
    const first = markFlavors([], [{ flavor: "m1.large", cause: NO_ROOM, serverId: "a" }], NOW).marks;
    const again = markFlavors(first, [{ flavor: "m1.large", cause: NO_ROOM, serverId: "b" }], at(min(10)));
    expect(again.marked).toEqual([]);
    expect(again.marks[0]).toMatchObject({ until: at(min(30)).toISOString(), strikes: 1, servers: ["a", "b"] });
  });

  it("a refusal after the mark ended (within 4 h) is a new strike: twice as long", () => {
    const first = markFlavors([], [{ flavor: "m1.large", cause: NO_ROOM }], NOW).marks;
    const again = markFlavors(first, [{ flavor: "m1.large", cause: NO_ROOM }], at(min(40)));
    expect(again.marks[0]).toMatchObject({ strikes: 2, until: at(min(40 + 60)).toISOString() });
  });

  it("a mark that ended more than 4 h ago is forgotten: the next refusal is 30 min again", () => {
    const first = markFlavors([], [{ flavor: "m1.large", cause: NO_ROOM }], NOW).marks;
    const later = at(min(30) + FORGET_AFTER_MS + 1);
    expect(markFlavors(first, [], later).marks).toEqual([]);
    expect(markFlavors(first, [{ flavor: "m1.large", cause: NO_ROOM }], later).marks[0]).toMatchObject({ strikes: 1 });
  });

  it("an ERROR server already counted does not mark its flavor again after the mark ended", () => {
    const first = markFlavors([], [{ flavor: "m1.large", cause: NO_ROOM, serverId: "a" }], NOW).marks;
    const again = markFlavors(first, [{ flavor: "m1.large", cause: NO_ROOM, serverId: "a" }], at(min(31)));
    expect(again.marked).toEqual([]);
    expect(chooseFlavor(PREFS, again.marks, at(min(31)))?.label).toBe("m1.large");
  });
});

describe("what counts as a capacity refusal", () => {
  it("NoValidHost in an ERROR server's fault does", () => {
    expect(capacityCause({ code: 500, message: "No valid host was found. There are not enough hosts available." })).toBe(NO_ROOM);
  });

  it("any other fault does not (a build failure is the boot backoff's, not the flavor's)", () => {
    expect(capacityCause({ code: 500, message: "Build of instance x aborted: Image y is unacceptable" })).toBeUndefined();
    expect(capacityCause(undefined)).toBeUndefined();
  });

  it("ERROR members with NoValidHost mark the flavor they run (by name, 2.47+, or by resolved id)", () => {
    const noHost = { code: 500, message: "No valid host was found." };
    const members = [
      { ...server({ id: "a", status: "ERROR" }), fault: noHost, flavorName: "m1.large" },
      { ...server({ id: "b", status: "ERROR" }), fault: noHost, flavorId: "7" },
      { ...server({ id: "c", status: "ERROR" }), fault: { message: "disk full" }, flavorName: "m1.small" },
      { ...server({ id: "d", status: "ACTIVE" }), flavorName: "m1.small" },
      { ...server({ id: "e", status: "ERROR" }), fault: noHost, flavorName: "m9.other" },
    ];
    expect(refusalsOf(members, PREFS, { "m1.medium": "7" })).toEqual([
      { flavor: "m1.large", cause: NO_ROOM, serverId: "a" },
      { flavor: "m1.medium", cause: NO_ROOM, serverId: "b" },
    ]);
  });
});

describe("flavorDrift (for the rolling refresh) and the status sentence", () => {
  it("the preferred flavor is no drift; a fallback and a flavor the rules no longer name are", () => {
    expect(flavorDrift({ flavorName: "m1.large" }, PREFS)).toEqual({ flavor: "m1.large", index: 0, drift: false, why: "preferred" });
    expect(flavorDrift({ flavorName: "m1.small" }, PREFS)).toEqual({ flavor: "m1.small", index: 2, drift: true, why: "fallback" });
    expect(flavorDrift({ flavorName: "m2.huge" }, PREFS)).toEqual({ flavor: "m2.huge", index: -1, drift: true, why: "not-in-rules" });
    expect(flavorDrift({}, PREFS)).toEqual({ flavor: null, index: -1, drift: false, why: "unknown" });
  });

  it("a listing with ids only (before 2.47) is matched through the resolved ids", () => {
    expect(flavorDrift({ flavorId: "7" }, PREFS, { "m1.medium": "7" })).toMatchObject({ flavor: "m1.medium", why: "fallback" });
  });

  it("a single flavor: a member on it is preferred", () => {
    expect(flavorDrift({ flavorName: "m1.small" }, flavorPreferences("m1.small"))).toMatchObject({ drift: false, why: "preferred" });
  });

  it("a fallback member's sentence names the preferred flavor's mark while it holds, the refresh after", () => {
    const drift = flavorDrift({ flavorName: "m1.medium" }, PREFS);
    const marks = [mark("m1.large", new Date("2026-11-26T10:00:00Z"))];
    expect(flavorWhy(drift, PREFS, marks, new Date("2026-11-26T10:10:00Z"))).toBe("fallback: m1.large has no room (NoValidHost) until 10:30 UTC");
    expect(flavorWhy(drift, PREFS, marks, new Date("2026-11-26T11:00:00Z"))).toMatch(/rolling refresh returns it to m1.large/);
  });
  it("without refresh rules the sentence says the member stays until scale-in (nothing else moves it)", () => {
    expect(flavorWhy(flavorDrift({ flavorName: "m1.medium" }, PREFS), PREFS, [], new Date("2026-11-26T11:00:00Z"), false)).toMatch(/it stays until scale-in/);
    expect(flavorWhy(flavorDrift({ flavorName: "m2.huge" }, PREFS), PREFS, [], new Date("2026-11-26T11:00:00Z"), false)).toMatch(/not in the rules' flavors: it stays until scale-in/);
  });
});

describe("flavorDriftNow: what the rolling refresh moves off its flavor", () => {
  const T = new Date("2026-11-26T10:10:00Z");
  const largeFull = [mark("m1.large", new Date("2026-11-26T10:00:00Z"))];
  it("a member on the preferred flavor is never moved", () => {
    expect(flavorDriftNow({ flavorName: "m1.large" }, PREFS, [], T)).toBe(false);
  });
  it("a member on a fallback is not moved while the preferred flavor is marked unavailable", () => {
    expect(flavorDriftNow({ flavorName: "m1.medium" }, PREFS, largeFull, T)).toBe(false);
  });
  it("a member on a fallback is moved once the preferred flavor's mark has ended", () => {
    expect(flavorDriftNow({ flavorName: "m1.medium" }, PREFS, largeFull, new Date("2026-11-26T10:31:00Z"))).toBe(true);
  });
  it("a member on the last fallback is moved when a better fallback is free, even while the preferred one is marked", () => {
    expect(flavorDriftNow({ flavorName: "m1.small" }, PREFS, largeFull, T)).toBe(true);
  });
  it("every better flavor marked: the fallback member stays", () => {
    expect(flavorDriftNow({ flavorName: "m1.small" }, PREFS, [...largeFull, mark("m1.medium", new Date("2026-11-26T10:00:00Z"))], T)).toBe(false);
  });
  it("a flavor the rules no longer name is moved (a flavor change in the rules), marks or not", () => {
    expect(flavorDriftNow({ flavorName: "m1.small" }, ["m1.medium"], [], T)).toBe(true);
    expect(flavorDriftNow({ flavorName: "m2.huge" }, PREFS, largeFull, T)).toBe(true);
  });
  it("a listing that does not give the flavor moves nothing; one with ids only is matched by the resolved ids", () => {
    expect(flavorDriftNow({}, PREFS, [], T)).toBe(false);
    expect(flavorDriftNow({ flavorId: "7" }, PREFS, [], T, { "m1.medium": "7" })).toBe(true);
    expect(flavorDriftNow({ flavorId: "7" }, PREFS, largeFull, T, { "m1.medium": "7" })).toBe(false);
  });
});

describe("over many ticks (property)", () => {
  // The shell's loop: a tick chooses once, boots with the choice, and may see that flavor refused (NoValidHost
  // or quota). It never tries a second flavor in the same tick, so a tick adds at most one mark; new boots
  // then go to the first flavor not marked (a flavor already known to be full is skipped, not tried again).
  it("each tick adds at most one held mark, and boots the first flavor not marked", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ refused: fc.boolean(), gapMin: fc.integer({ min: 1, max: 90 }) }), { minLength: 1, maxLength: 40 }), (ticks) => {
        let marks: FlavorMark[] = [];
        let t = NOW.getTime();
        for (const tick of ticks) {
          const now = new Date(t);
          const held = (list: FlavorMark[]) => new Set(list.filter((m) => Date.parse(m.until) > now.getTime()).map((m) => m.flavor));
          const choice = chooseFlavor(PREFS, marks, now)!;
          const before = held(marks);
          const firstFree = PREFS.findIndex((f) => !before.has(f));
          expect(choice.index).toBe(firstFree === -1 ? 0 : firstFree);
          if (tick.refused) marks = markFlavors(marks, [{ flavor: choice.label, cause: NO_ROOM }], now).marks;
          const after = held(marks);
          expect([...after].filter((f) => !before.has(f)).length).toBeLessThanOrEqual(1);
          for (const m of marks) expect(Date.parse(m.until) - Date.parse(m.at)).toBeLessThanOrEqual(min(240));
          t += min(tick.gapMin);
        }
      }),
    );
  });
});
