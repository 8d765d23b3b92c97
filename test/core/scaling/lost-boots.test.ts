// Lost boots: settled by the servers that carry their marker, or by time; until then they hold the group's boots.
import { describe, expect, it } from "vitest";
import { LOST_BOOT_SETTLE_MS, bootHoldNotice, settleLostBoots, type LostBoot } from "../../../src/core/scaling/lost-boots.ts";
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
