// Build age on one clock: the intent marker's send time, the cloud's offset measured from it, and the skew notice.
import { describe, expect, it } from "vitest";
import { buildAgeMinutes, estimateCloudOffset, skewNotice } from "../../../src/core/scaling/clock.ts";
import { BOOT_INTENT_KEY, bootIntentMarker, bootSentAt } from "../../../src/core/model/membership.ts";
import { plan } from "../../../src/core/scaling/plan.ts";
import { NOW, desired, group, server } from "../builders.ts";

const MIN = 60_000;
/** A server novascale booted `sentMinAgo` minutes ago (Worker clock) on a cloud whose clock is `skewMin` off. */
const booted = (sentMinAgo: number, skewMin: number, status = "BUILD") =>
  server({ status, ageMin: sentMinAgo - skewMin, metadata: { [BOOT_INTENT_KEY]: bootIntentMarker("abc1234", new Date(NOW.getTime() - sentMinAgo * MIN)) } });

describe("the boot intent marker", () => {
  it("carries the time the boot was sent, and reads back", () => {
    expect(bootIntentMarker("abc1234", NOW)).toBe("abc1234@2026-11-26T12:00:00.000Z");
    expect(bootSentAt(booted(3, 0))).toBe(NOW.getTime() - 3 * MIN);
  });

  it("a marker without a time (written by an older version) or with garbage gives no time", () => {
    expect(bootSentAt(server({ metadata: { [BOOT_INTENT_KEY]: "abc1234" } }))).toBeUndefined();
    expect(bootSentAt(server({ metadata: { [BOOT_INTENT_KEY]: "abc1234@yesterday" } }))).toBeUndefined();
    expect(bootSentAt(server())).toBeUndefined();
  });
});

describe("estimateCloudOffset", () => {
  it("is Nova's clock minus the Worker's, the median over the marked servers", () => {
    expect(estimateCloudOffset([booted(1, -35), booted(5, -35), booted(300, -2, "ACTIVE")])).toEqual({ offsetMs: -35 * MIN, samples: 3 });
  });

  it("is unknown without marked servers", () => {
    expect(estimateCloudOffset([server(), server({ status: "BUILD" })])).toBeUndefined();
  });
});

describe("buildAgeMinutes", () => {
  it("prefers the marker's time; otherwise created shifted by the offset", () => {
    expect(buildAgeMinutes(booted(2, -35), NOW)).toBe(2);
    expect(buildAgeMinutes(server({ ageMin: 37 }), NOW, -35 * MIN)).toBe(2);
  });
});

describe("clock skew in the plan", () => {
  it("Nova 35 min behind, buildTimeoutMinutes 30: fresh BUILD servers are not deleted and booted again", () => {
    const r = plan({ group: group({ limits: { buildTimeoutMinutes: 30 } }), desired: desired(3), members: [booted(1, -35), booted(1, -35), booted(1, -35)], now: NOW, listingComplete: true });
    expect(r.steps).toEqual([]);
  });

  it("reports the skew it measured", () => {
    const r = plan({ group: group(), desired: desired(1), members: [booted(1, -35)], now: NOW, listingComplete: true });
    expect(r.notices).toContainEqual(expect.objectContaining({ code: "clock-skew", level: "warning" }));
    expect(r.notices.find((n) => n.code === "clock-skew")?.message).toContain("about 35 min behind");
  });

  it("an old BUILD server without a timed marker is judged on the offset measured on its marked siblings", () => {
    const unmarked = server({ status: "BUILD", ageMin: 40 }); // Nova says 40 min; really 5 (Nova 35 behind)
    const r = plan({ group: group(), desired: desired(2), members: [unmarked, booted(1, -35)], now: NOW, listingComplete: true });
    expect(r.steps).toEqual([]);
  });

  it("says nothing about a small offset (network latency, a late tick)", () => {
    expect(skewNotice({ offsetMs: 40_000, samples: 3 })).toBeUndefined();
  });
});
