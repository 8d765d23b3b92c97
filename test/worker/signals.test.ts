// Signals in end to end: a signed signal raises the group at the next cron tick, and it falls back to the schedule after expiry (fake cloud, loopback webhook).
import { inject } from "vitest";
import { afterEach, describe, expect, it } from "vitest";
import type { NotifyEvent } from "../../src/core/notify/events.ts";
import { SIGNATURE_HEADER, signatureHeader } from "../../src/core/notify/signature.ts";
import { send } from "../api/support.ts";
import { forgetGroups, rules, world } from "./world.ts";

afterEach(forgetGroups);

async function signalEvents(group: string, count: number): Promise<NotifyEvent[]> {
  let found: NotifyEvent[] = [];
  for (let i = 0; i < 100; i++) {
    const got = (await (await fetch(`${inject("webhookUrl")}/_receiver?path=/hook`)).json()) as Array<{ body: string }>;
    found = got.map((r) => (JSON.parse(r.body) as { event: NotifyEvent }).event).filter((e) => e.group === group && e.type === "signal");
    if (found.length >= count) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  return found;
}

/** The next whole minute of the real clock (signals are stamped with it), plus `minutes`. */
function minuteFromNow(minutes: number): string {
  return new Date(Math.ceil(Date.now() / 60_000) * 60_000 + minutes * 60_000).toISOString();
}

describe("signals in: cron ticks on the fake cloud", () => {
  it("a signal raises the group at the next tick, and after it expires the group falls back to the schedule (never to 0)", async () => {
    const { tick, service, members } = await world();
    await service.putGroup("notify-signal", rules({ default: 1, max: 5 }), { author: "alice" });
    await tick(minuteFromNow(0));
    expect(await members("notify-signal")).toHaveLength(1);

    const created = await send<{ receiver: { id: string }; secret: string }>("POST", "/v1/groups/notify-signal/receivers", {
      json: { action: "raise", name: "load", desired: 3, durationMinutes: 10 },
    });
    const body = "{}";
    const header = await signatureHeader(created.body.secret, Math.floor(Date.now() / 1000), body);
    const accepted = await send<{ signal: { until: string } }>("POST", `/v1/signals/${created.body.receiver.id}`, { as: null, body, headers: { [SIGNATURE_HEADER]: header } });
    expect(accepted.status).toBe(202);

    await tick(minuteFromNow(1));
    const raised = await service.status("notify-signal", new Date(minuteFromNow(1)));
    expect([(await members("notify-signal")).length, raised.lastTick?.desired.source, raised.lastTick?.desired.value]).toEqual([3, "signal", 3]);

    // Past the signal's end: the schedule's 1 again.
    const after = Date.parse(accepted.body.signal.until) + 60_000;
    await tick(new Date(after).toISOString());
    await tick(new Date(after + 60_000).toISOString());
    const fell = await service.status("notify-signal", new Date(after + 60_000));
    expect([(await members("notify-signal")).length, fell.desired.source, fell.desired.value, fell.signals]).toEqual([1, "default", 1, []]);
    const log = await service.activity("notify-signal", 50);
    expect(log.map((e) => e.kind)).toEqual(expect.arrayContaining(["receiver-created", "signal", "signal-expired"]));
  });

  it("the webhook destination gets one signal event when it starts and one when it expires", async () => {
    const { tick, service } = await world();
    await service.putGroup("notify-signal-events", rules({ default: 1, max: 5 }), { author: "alice" });
    await tick(minuteFromNow(0));
    const created = await send<{ receiver: { id: string }; secret: string }>("POST", "/v1/groups/notify-signal-events/receivers", {
      json: { action: "raise", name: "ci", desired: 2, durationMinutes: 5 },
    });
    const sign = async (body: string, t: number) => ({ [SIGNATURE_HEADER]: await signatureHeader(created.body.secret, t, body) });
    const t = Math.floor(Date.now() / 1000);
    const first = await send<{ signal: { until: string } }>("POST", `/v1/signals/${created.body.receiver.id}`, { as: null, body: "{}", headers: await sign("{}", t) });
    // A repeat only extends the signal: no second "firing" event.
    await send("POST", `/v1/signals/${created.body.receiver.id}`, { as: null, body: "{}", headers: await sign("{}", t - 1) });
    await tick(minuteFromNow(1));
    await tick(new Date(Date.parse(first.body.signal.until) + 120_000).toISOString());
    const events = await signalEvents("notify-signal-events", 2);
    expect(events.map((e) => [e.status, e.title])).toEqual([
      ["firing", "notify-signal-events: signal raised the group"],
      ["resolved", "notify-signal-events: signal ended"],
    ]);
    expect(events[0]?.message).toMatch(/^Receiver 'ci' raised the group to at least 2 \(a plain call\) until \S+; desired 1 -> 2/);
    expect(events[1]?.id).toBe(`${events[0]?.id}/resolved`);
  });
});
