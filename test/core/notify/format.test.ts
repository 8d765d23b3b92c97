// Each sink's request body from an event, the signature scheme (sign, verify, replay window) and the retry schedule.
import { describe, expect, it } from "vitest";
import type { NotifyEvent } from "../../../src/core/notify/events.ts";
import { ntfyRequest, retryAt, RETRY_DELAYS_MS, slackRequest, webhookRequest } from "../../../src/core/notify/format.ts";
import { signatureHeader, verifySignature } from "../../../src/core/notify/signature.ts";

const event: NotifyEvent = {
  id: "web/boot-blocked/2026-11-26T08:00:00.000Z",
  group: "web",
  type: "boot-blocked",
  status: "firing",
  severity: "critical",
  at: "2026-11-26T08:00:00.000Z",
  since: "2026-11-26T08:00:00.000Z",
  title: "web: boot blocked",
  message: "Booting is blocked until the rules change: <bad> & wrong (servers 0 -> 0, desired 2).",
  count: { old: 0, new: 0, desired: 2 },
};

describe("sinks", () => {
  it("webhook: the event as JSON under `event`, its id and type in headers", () => {
    const out = webhookRequest(event);
    expect(JSON.parse(out.body)).toEqual({ version: 1, event });
    expect(out.headers["Novascale-Event-Id"]).toBe(event.id);
  });

  it("slack: escaped mrkdwn `text` with the title in bold", () => {
    const body = JSON.parse(slackRequest(event).body) as { text: string };
    expect(body.text).toBe(":rotating_light: *web: boot blocked*\nBooting is blocked until the rules change: &lt;bad&gt; &amp; wrong (servers 0 -&gt; 0, desired 2).");
  });

  it("ntfy: the message as the body, title and priority as headers", () => {
    const out = ntfyRequest(event);
    expect([out.body, out.headers["Title"], out.headers["Priority"]]).toEqual([event.message, "web: boot blocked", "urgent"]);
  });
});

describe("signature", () => {
  it("verifies what it signed within the window", async () => {
    const header = await signatureHeader("secret-secret-secret", 1_000_000, "{}");
    expect(await verifySignature("secret-secret-secret", header, "{}", 1_000_100)).toEqual({ ok: true, timestamp: 1_000_000 });
  });

  it("refuses a replay outside the 5-minute window", async () => {
    const header = await signatureHeader("secret-secret-secret", 1_000_000, "{}");
    expect(await verifySignature("secret-secret-secret", header, "{}", 1_000_301)).toEqual({ ok: false, reason: "expired" });
  });

  it("refuses a timestamp changed after signing (it is inside the MAC)", async () => {
    const header = await signatureHeader("secret-secret-secret", 1_000_000, "{}");
    expect(await verifySignature("secret-secret-secret", header.replace("t=1000000", "t=1000200"), "{}", 1_000_200)).toEqual({ ok: false, reason: "mismatch" });
  });

  it("refuses a header without t= or v1=", async () => {
    expect(await verifySignature("s", "v1=abc", "{}", 0)).toEqual({ ok: false, reason: "malformed" });
  });

  it("matches the stated scheme: hex HMAC-SHA256 of '<t>.<body>' (openssl's answer)", async () => {
    // printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec_test_0123456789'
    const header = await signatureHeader("whsec_test_0123456789", 1_700_000_000, '{"a":1}');
    expect(header).toBe("t=1700000000,v1=d45143ed412aa9d672e3e06cc6753ced7e0e5a1757b1109ff599ba71790e646d");
  });
});

describe("retry schedule", () => {
  it("retries after 30 s, 2 min, 10 min, 1 h and 6 h, then gives up", () => {
    const at = [1, 2, 3, 4, 5, 6].map((n) => retryAt(n, 0, 503));
    expect(at).toEqual([...RETRY_DELAYS_MS, undefined]);
  });

  it("a refusal (4xx other than 408 and 429) is not retried", () => {
    expect([retryAt(1, 0, 404), retryAt(1, 0, 429), retryAt(1, 0, 408), retryAt(1, 0, undefined)]).toEqual([undefined, 30_000, 30_000, 30_000]);
  });
});
