// Lost boots: settled by the servers that carry their marker, or by time; until then they hold the group's boots.
import { describe, expect, it } from "vitest";
import { LOST_BOOT_SETTLE_MS, bootHoldNotice, settleLostBoots, tickClockTime, type LostBoot } from "../../../src/core/scaling/lost-boots.ts";
import { BOOT_INTENT_KEY } from "../../../src/core/model/membership.ts";
import { NOW, server } from "../builders.ts";

const lost: LostBoot = { intent: "abc1234@2026-11-26T12:00:00.000Z", count: 2, at: "2026-11-26T12:00:00.000Z" };
const carrying = () => server({ status: "BUILD", metadata: { [BOOT_INTENT_KEY]: lost.intent } });
const after = (ms: number) => new Date(NOW.getTime() + ms);

describe("settleLostBoots", () => {
  it("settles a boot all of whose servers are listed", () => {
    const members = [carrying(), carrying(), server()];
    const r = settleLostBoots([lost], members, after(1_000));
    expect(r.pending).toEqual([]);
    expect(r.settled[0]?.found).toHaveLength(2);
  });

  it("keeps holding while none or only some of its servers are listed, within the settle time", () => {
    expect(settleLostBoots([lost], [server()], after(60_000)).pending).toEqual([lost]);
    expect(settleLostBoots([lost], [carrying()], after(60_000)).pending).toEqual([lost]);
  });

  it("settles it after LOST_BOOT_SETTLE_MS whatever was found (nothing: the boot failed)", () => {
    const r = settleLostBoots([lost], [server()], after(LOST_BOOT_SETTLE_MS));
    expect(r).toEqual({ pending: [], settled: [{ boot: lost, found: [] }] });
  });
});

describe("bootHoldNotice", () => {
  it("says boots wait, for what, and until when", () => {
    expect(bootHoldNotice([lost])).toEqual({
      level: "warning",
      code: "boot-held",
      message:
        "boots wait: 1 boot(s) of 2 server(s) got no answer (the last sent 2026-11-26T12:00:00.000Z); their servers may still appear. Held until they are listed, or until 2026-11-26T12:02:00.000Z, when a boot that created nothing is recorded boot-failed",
    });
  });

  it("is silent when nothing is pending", () => {
    expect(bootHoldNotice([])).toBeUndefined();
  });
});

describe("the hold counts from when the boot was sent (the tick's clock), not from the tick's time", () => {
  const tick = Date.parse(lost.at);
  const at = (ms: number) => new Date(tick + ms);
  // Sent 40 s into the tick, as tickClockTime dates it from the budget's elapsed time.
  const sentLate: LostBoot = { ...lost, sentAt: tickClockTime(new Date(tick), 40_000).toISOString() };

  it.each([
    { what: "a boot sent 40 s into the tick is still held at tick + 2 min", when: at(LOST_BOOT_SETTLE_MS), held: true },
    { what: "it is still held just before send + 2 min", when: at(40_000 + LOST_BOOT_SETTLE_MS - 1), held: true },
    { what: "it settles at send + 2 min", when: at(40_000 + LOST_BOOT_SETTLE_MS), held: false },
  ])("$what", ({ when, held }) => {
    expect(settleLostBoots([sentLate], [server()], when).pending).toEqual(held ? [sentLate] : []);
  });

  it("a record without sentAt (kept before it) counts from its tick's time", () => {
    expect(settleLostBoots([lost], [server()], at(LOST_BOOT_SETTLE_MS)).pending).toEqual([]);
  });

  it("the hold notice names the send time and the end of the hold from it", () => {
    const message = bootHoldNotice([sentLate])?.message;
    expect(message).toContain("(the last sent 2026-11-26T12:00:40.000Z)");
    expect(message).toContain("or until 2026-11-26T12:02:40.000Z,");
  });
});

describe("tickClockTime", () => {
  const now = new Date("2026-11-26T12:00:00.000Z");

  it.each([
    { what: "adds the time elapsed in the tick to the tick's now", elapsed: 40_000, iso: "2026-11-26T12:00:40.000Z" },
    { what: "counts whole seconds: the round trips before a boot at the tick's start leave it at the tick's time", elapsed: 999, iso: "2026-11-26T12:00:00.000Z" },
    { what: "drops the part of a second", elapsed: 40_999, iso: "2026-11-26T12:00:40.000Z" },
    { what: "reads a negative elapsed time (a clock stepped back) as 0", elapsed: -5_000, iso: "2026-11-26T12:00:00.000Z" },
    { what: "reads an unreadable elapsed time as 0", elapsed: Number.NaN, iso: "2026-11-26T12:00:00.000Z" },
  ])("$what", ({ elapsed, iso }) => {
    expect(tickClockTime(now, elapsed).toISOString()).toBe(iso);
  });
});
