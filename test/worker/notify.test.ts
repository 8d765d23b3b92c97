// Notifications end to end: cron ticks on the fake cloud, the Notifier's alarm, and a webhook receiver on loopback.
import { exports } from "cloudflare:workers";
import { inject } from "vitest";
import { afterEach, describe, expect, it } from "vitest";
import type { NotifyEvent } from "../../src/core/notify/events.ts";
import { verifySignature } from "../../src/core/notify/signature.ts";
import { forgetGroups, rules, world } from "./world.ts";

afterEach(forgetGroups);

const SECRET = "test-webhook-secret-0123456789"; // vitest.config.ts, destination "hook"

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}

async function received(path: string): Promise<Received[]> {
  return (await (await fetch(`${inject("webhookUrl")}/_receiver?path=${encodeURIComponent(path)}`)).json()) as Received[];
}

/** The webhook events of one group the receiver got, once `count` of them arrived (the notifier's alarm sends them). */
async function eventsOf(group: string, count: number, path = "/hook"): Promise<Array<{ event: NotifyEvent; request: Received }>> {
  let found: Array<{ event: NotifyEvent; request: Received }> = [];
  for (let i = 0; i < 100; i++) {
    found = (await received(path)).flatMap((request) => {
      if (path !== "/hook") return request.body.includes(group) ? [{ event: {} as NotifyEvent, request }] : [];
      const event = (JSON.parse(request.body) as { event: NotifyEvent }).event;
      return event.group === group ? [{ event, request }] : [];
    });
    if (found.length >= count) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  return found;
}

describe("notifications: a webhook receiver on loopback", () => {
  it("gets one signed boot-blocked event for a rejected boot however many ticks it lasts, then its recovery", async () => {
    const { tick, service, cloud, members } = await world();
    await cloud.addFault({ kind: "bootError", status: 400, message: "Invalid key_name provided." });
    await service.putGroup("notify-boot", rules({ default: 2 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    await tick("2026-11-26T08:01:00Z");
    await tick("2026-11-26T08:02:00Z");
    const firing = await eventsOf("notify-boot", 1);
    expect(firing.map((f) => [f.event.type, f.event.status])).toEqual([["boot-blocked", "firing"]]);
    expect(firing[0]?.event.message).toContain("Invalid key_name provided");
    expect(firing[0]?.event.message).toContain("servers 0 -> 0, desired 2");

    await cloud.clearFaults();
    await service.putGroup("notify-boot", rules({ default: 2, metadata: { fixed: "yes" } }), { author: "alice" });
    await tick("2026-11-26T08:03:00Z");
    expect(await members("notify-boot")).toHaveLength(2);
    const all = await eventsOf("notify-boot", 2);
    expect(all.map((f) => [f.event.type, f.event.status])).toEqual([
      ["boot-blocked", "firing"],
      ["boot-blocked", "resolved"],
    ]);
    expect(all[1]?.event.id).toBe(`${all[0]?.event.id}/resolved`);
    expect(all[1]?.event.message).toContain("servers 0 -> 2, desired 2");
  });

  it("signs every webhook body: the receiver verifies HMAC-SHA256 over timestamp.body with the shared secret", async () => {
    const { tick, service, cloud } = await world();
    await cloud.addFault({ kind: "bootError", status: 400, message: "Flavor m1.nope could not be found." });
    await service.putGroup("notify-sign", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    const [got] = await eventsOf("notify-sign", 1);
    const header = got?.request.headers["novascale-signature"] ?? "";
    const verified = await verifySignature(SECRET, header, got?.request.body ?? "", Math.floor(Date.now() / 1000));
    expect(verified.ok).toBe(true);
    expect(got?.request.headers["novascale-event-id"]).toBe(got?.event.id);
  });

  it("a tampered body or another secret does not verify", async () => {
    const { tick, service, cloud } = await world();
    await cloud.addFault({ kind: "bootError", status: 400, message: "Invalid key_name provided." });
    await service.putGroup("notify-tamper", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    const [got] = await eventsOf("notify-tamper", 1);
    const header = got?.request.headers["novascale-signature"] ?? "";
    const now = Math.floor(Date.now() / 1000);
    expect(await verifySignature(SECRET, header, (got?.request.body ?? "").replace("notify-tamper", "notify-tamperX"), now)).toEqual({ ok: false, reason: "mismatch" });
    expect(await verifySignature("another-secret-0123456789", header, got?.request.body ?? "", now)).toEqual({ ok: false, reason: "mismatch" });
  });

  it("a transient boot failure fires boot-failed and the next successful boot resolves it", async () => {
    const { tick, service, cloud, members } = await world();
    // A 504 is a lost answer: boots wait two minutes, the boot is then settled as failed and booting resumes.
    await cloud.addFault({ kind: "bootError", status: 504, times: 1 });
    await service.putGroup("notify-flaky", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    await tick("2026-11-26T08:01:00Z");
    await tick("2026-11-26T08:02:00Z");
    await tick("2026-11-26T08:03:00Z");
    expect(await members("notify-flaky")).toHaveLength(1);
    const all = await eventsOf("notify-flaky", 2);
    expect(all.map((f) => [f.event.type, f.event.status])).toEqual([
      ["boot-failed", "firing"],
      ["boot-failed", "resolved"],
    ]);
  });

  it("a Slack-compatible destination gets the events it asked for as `text`", async () => {
    const { tick, service, cloud } = await world();
    await cloud.addFault({ kind: "bootError", status: 400, message: "Invalid key_name provided." });
    await service.putGroup("notify-slack", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    const [got] = await eventsOf("notify-slack", 1, "/slack");
    const body = JSON.parse(got?.request.body ?? "{}") as { text?: string };
    expect(body.text).toContain("*notify-slack: boot blocked*");
  });
});

/** The group API as an operator calls it (the same Worker, the operate token). */
async function api(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Authorization: "Bearer operate-token-for-tests" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return exports.default.fetch(`http://novascale.test${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

describe("notifications of operator controls: at the moment they happen, never twice", () => {
  it("an override set through the API is notified before any tick; the next tick sends nothing; clearing it is notified at once", async () => {
    const { tick, service } = await world();
    await service.putGroup("notify-ovr", rules({ default: 1 }), { author: "alice" });
    await tick(new Date().toISOString());
    expect((await api("PUT", "/v1/groups/notify-ovr/override", { desired: 2, minutes: 60, reason: "launch" })).status).toBe(200);
    const started = await eventsOf("notify-ovr", 1);
    expect(started.map((f) => [f.event.type, f.event.status, f.event.title])).toEqual([["override", "firing", "notify-ovr: override started"]]);
    expect(started[0]?.event.message).toContain("test-operator holds the group at 2 until");
    expect(started[0]?.event.count.desired).toBe(2);
    await tick(new Date(Date.now() + 60_000).toISOString()); // the reconcile that sees the override: same condition, no event
    expect((await api("DELETE", "/v1/groups/notify-ovr/override")).status).toBe(200);
    const all = await eventsOf("notify-ovr", 2);
    expect(all.map((f) => [f.event.type, f.event.status])).toEqual([
      ["override", "firing"],
      ["override", "resolved"],
    ]);
    expect(all[1]?.event.id).toBe(`${all[0]?.event.id}/resolved`);
  });

  it("pause and resume through the API are notified at once ('paused', 'resumed'); a tick while paused repeats nothing", async () => {
    const { tick, service } = await world();
    await service.putGroup("notify-pause", rules({ default: 1 }), { author: "alice" });
    await tick(new Date().toISOString());
    expect((await api("POST", "/v1/groups/notify-pause/pause", { reason: "maintenance" })).status).toBe(200);
    const paused = await eventsOf("notify-pause", 1);
    expect(paused.map((f) => [f.event.type, f.event.status, f.event.title])).toEqual([["paused", "firing", "notify-pause: paused"]]);
    expect(paused[0]?.event.message).toContain("test-operator paused the group: maintenance");
    await tick(new Date(Date.now() + 60_000).toISOString());
    expect((await api("POST", "/v1/groups/notify-pause/resume")).status).toBe(200);
    const all = await eventsOf("notify-pause", 2);
    expect(all.map((f) => [f.event.type, f.event.status, f.event.title])).toEqual([
      ["paused", "firing", "notify-pause: paused"],
      ["paused", "resolved", "notify-pause: resumed"],
    ]);
  });

  it("an override's expiry is notified by the group's first reconcile at or after `until`, once", async () => {
    const { tick, service } = await world();
    await service.putGroup("notify-expiry", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    await service.setOverride("notify-expiry", { desired: 2, until: "2026-11-26T08:30:00Z", reason: "launch", author: "alice" }, new Date("2026-11-26T08:00:30Z"));
    await tick("2026-11-26T08:10:00Z");
    await tick("2026-11-26T08:31:00Z");
    await tick("2026-11-26T08:32:00Z");
    // (the group was short of the override's count for over 15 minutes: schedule-not-followed events come too)
    const all = (await eventsOf("notify-expiry", 4)).filter((f) => f.event.type === "override");
    expect(all.map((f) => [f.event.type, f.event.status, f.event.at])).toEqual([
      ["override", "firing", "2026-11-26T08:00:30.000Z"],
      ["override", "resolved", "2026-11-26T08:31:00.000Z"],
    ]);
  });
});
