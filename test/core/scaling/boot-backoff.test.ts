// Boot backoff: the stated schedule, what counts as a failure, and what ends it (core/scaling/boot-backoff.ts).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BACKOFF_MINUTES,
  backoffDelayMs,
  backoffEnds,
  backoffHolds,
  erroredMembers,
  recordFailures,
  watchBooted,
  type BootBackoff,
} from "../../../src/core/scaling/boot-backoff.ts";
import { NOW, server } from "../builders.ts";

const min = (n: number) => n * 60_000;
const at = (ms: number) => new Date(NOW.getTime() + ms);
const fail = (cause = "the boot failed: 500") => [{ cause }];

/** The backoff after `n` failures, one per tick, each at the time the previous wait ended (or a minute later). */
function afterFailures(n: number): BootBackoff | undefined {
  let backoff: BootBackoff | undefined;
  let t = NOW.getTime();
  for (let i = 0; i < n; i++) {
    backoff = recordFailures(backoff, fail(), new Date(t), 3);
    t = Math.max(Date.parse(backoff!.until), t + min(1));
  }
  return backoff;
}

describe("the schedule", () => {
  it("waits 0, 1, 2, 4, 8, 16, 32, then 60 minutes after the 1st, 2nd, 3rd ... failure in a row", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 20].map((n) => backoffDelayMs(n) / 60_000)).toEqual([0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
  });

  it("never waits more than an hour, and never less after more failures (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), (n) => {
        expect(backoffDelayMs(n)).toBeLessThanOrEqual(min(60));
        expect(backoffDelayMs(n + 1)).toBeGreaterThanOrEqual(backoffDelayMs(n));
      }),
    );
  });

  it("counts the wait from the latest failure", () => {
    const b = afterFailures(3)!;
    expect(b.failures).toBe(3);
    expect(Date.parse(b.until) - Date.parse(b.lastAt)).toBe(min(BACKOFF_MINUTES[2]!));
  });

  it("a single failure does not hold boots (its replacement boots in the same plan)", () => {
    expect(backoffHolds(afterFailures(1), NOW)).toBe(false);
  });

  it("a second failure holds boots for a minute, and not a moment longer", () => {
    const b = recordFailures(recordFailures(undefined, fail(), NOW, 1), fail(), at(min(1)), 1);
    expect(backoffHolds(b, at(min(1) + 59_999))).toBe(true);
    expect(backoffHolds(b, at(min(2)))).toBe(false);
  });

  it("several failures found at once count as one (three servers in ERROR together are one event)", () => {
    expect(recordFailures(undefined, [...fail("a"), ...fail("b")], NOW, 1)).toMatchObject({ failures: 1, cause: "b" });
  });

  it("a failure that says when it happened (a lost boot: when it was sent) counts the wait from then", () => {
    const b = recordFailures(afterFailures(1), [{ cause: "lost", at: NOW.toISOString() }], at(min(3)), 1)!;
    expect(b.until).toBe(at(min(1)).toISOString());
    expect(backoffHolds(b, at(min(3)))).toBe(false);
  });

  it("no failure changes nothing (the same object)", () => {
    const b = afterFailures(2);
    expect(recordFailures(b, [], NOW, 1)).toBe(b);
  });

  it("keeps the first failure's time and the latest cause", () => {
    const first = recordFailures(undefined, fail("first"), NOW, 1);
    const second = recordFailures(first, fail("second"), at(min(5)), 1)!;
    expect(second.since).toBe(NOW.toISOString());
    expect(second.cause).toBe("second");
  });
});

describe("ERROR members", () => {
  it("a member in ERROR is a failure whose cause is Nova's fault", () => {
    const s = { ...server({ status: "ERROR", name: "web-1" }), fault: { code: 500, message: "No valid host was found." } };
    expect(erroredMembers([s, server()], undefined)).toEqual([{ serverId: s.id, cause: "server web-1 went to ERROR: No valid host was found." }]);
  });

  it("says so when Nova gave no fault", () => {
    expect(erroredMembers([server({ status: "ERROR", name: "web-2" })], undefined)[0]?.cause).toBe("server web-2 went to ERROR (Nova gave no fault)");
  });

  it("a server already counted is not counted again on a later tick", () => {
    const s = server({ status: "ERROR" });
    const b = recordFailures(undefined, erroredMembers([s], undefined), NOW, 1);
    expect(erroredMembers([s], b)).toEqual([]);
  });
});

describe("what ends it", () => {
  it("a newer revision of the rules", () => {
    expect(backoffEnds(afterFailures(4)!, [], 4)).toMatch(/rules changed \(revision 4\)/);
  });

  it("not the same revision, nor an older one", () => {
    expect(backoffEnds(afterFailures(4)!, [], 3)).toBeUndefined();
    expect(backoffEnds(afterFailures(4)!, [], 2)).toBeUndefined();
  });

  it("a server booted while backing off, once listed ACTIVE", () => {
    const booted = server({ status: "ACTIVE", id: "new-1", name: "web-new" });
    const b = watchBooted(afterFailures(3), [booted.id])!;
    expect(backoffEnds(b, [booted], 3)).toMatch(/web-new booted and is ACTIVE after 3/);
  });

  it("not while that server is still building, nor an ACTIVE server from before", () => {
    const building = server({ status: "BUILD", id: "new-2" });
    const b = watchBooted(afterFailures(3), [building.id])!;
    expect(backoffEnds(b, [building, server({ status: "ACTIVE" })], 3)).toBeUndefined();
  });

  it("watching needs a backoff: a boot with no backoff keeps none", () => {
    expect(watchBooted(undefined, ["x"])).toBeUndefined();
  });
});
