// A group's coordinator remembers a boot whose answer was lost with the time its request was sent.
import { describe, expect, it } from "vitest";
import { newlyLost } from "../../../src/reconcile/groups/coordinator-lost-boots.ts";
import type { StepResult } from "../../../src/reconcile/shared/service.ts";

const tick = new Date("2026-11-26T12:00:00.000Z");
const boot = { kind: "boot" as const, group: "web", count: 2, reason: "scale out" };
const lostAnswer = (extra: Partial<StepResult> = {}): StepResult => ({ step: boot, outcome: "unknown", ...extra });

describe("newlyLost", () => {
  it("keeps the send time of a lost boot, so its hold counts from there and not from the tick's time", () => {
    const lost = newlyLost([lostAnswer({ sentAt: "2026-11-26T12:00:40.000Z" })], "abc1234", tick, tick.toISOString());
    expect(lost).toEqual([{ intent: "abc1234@2026-11-26T12:00:00.000Z", count: 2, at: "2026-11-26T12:00:00.000Z", sentAt: "2026-11-26T12:00:40.000Z" }]);
  });

  it("records no send time when the result has none (the hold then counts from the tick's time)", () => {
    expect(newlyLost([lostAnswer()], "abc1234", tick, tick.toISOString())[0]).not.toHaveProperty("sentAt");
  });

  it("remembers only boots whose answer was lost", () => {
    expect(newlyLost([{ step: boot, outcome: "done", serverIds: ["s1"] }, { step: boot, outcome: "skipped" }], "abc1234", tick, tick.toISOString())).toEqual([]);
  });
});
