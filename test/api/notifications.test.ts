// The notification routes: destinations without secrets, the test button, the delivery log, roles and errors.
import { inject } from "vitest";
import { describe, expect, it } from "vitest";
import { verifySignature } from "../../src/core/notify/signature.ts";
import { send } from "./support.ts";

interface TestAnswer {
  event: { id: string; type: string };
  deliveries: Array<{ destination: string; outcome: string; status?: number; nextAt?: string; at: string }>;
}

async function script(path: string, statuses: number[]): Promise<void> {
  await fetch(`${inject("webhookUrl")}/_receiver/script`, { method: "POST", body: JSON.stringify({ path, statuses }) });
}

describe("GET /v1/notifications", () => {
  it("lists the destinations by name and kind, never their URLs or secrets", async () => {
    const res = await send<{ destinations: Array<{ name: string; kind: string }> }>("GET", "/v1/notifications", { as: "read" });
    expect(res.status).toBe(200);
    expect(res.body.destinations.map((d) => `${d.name}:${d.kind}`)).toEqual(["hook:webhook", "chat:slack", "flaky:webhook"]);
    expect(res.text).not.toMatch(/127\.0\.0\.1|secret-0123/);
  });
});

describe("POST /v1/notifications/test", () => {
  it("sends a signed test event to the named destination and answers with its delivery", async () => {
    const res = await send<TestAnswer>("POST", "/v1/notifications/test", { as: "operate", json: { destination: "hook" } });
    expect(res.status).toBe(200);
    expect(res.body.deliveries.map((d) => [d.destination, d.outcome, d.status])).toEqual([["hook", "delivered", 200]]);
    const got = ((await (await fetch(`${inject("webhookUrl")}/_receiver?path=/hook`)).json()) as Array<{ headers: Record<string, string>; body: string }>).find((r) =>
      r.body.includes(res.body.event.id),
    );
    expect(await verifySignature("test-webhook-secret-0123456789", got?.headers["novascale-signature"] ?? "", got?.body ?? "", Math.floor(Date.now() / 1000))).toMatchObject({ ok: true });
  });

  it("a failing destination is retried 30 s later, and the delivery log says so", async () => {
    await script("/flaky", [503]);
    const res = await send<TestAnswer>("POST", "/v1/notifications/test", { as: "operate", json: { destination: "flaky" } });
    const [first] = res.body.deliveries;
    expect([first?.outcome, first?.status]).toEqual(["retrying", 503]);
    expect(Date.parse(first?.nextAt ?? "") - Date.parse(first?.at ?? "")).toBe(30_000);
    const log = await send<{ deliveries: Array<{ eventId: string; outcome: string }> }>("GET", "/v1/notifications/deliveries?limit=5", { as: "read" });
    expect(log.body.deliveries.find((d) => d.eventId === res.body.event.id)?.outcome).toBe("retrying");
  });

  it("a refusing destination (404) is given up at once", async () => {
    await script("/flaky", [404]);
    const res = await send<TestAnswer>("POST", "/v1/notifications/test", { as: "operate", json: { destination: "flaky" } });
    expect(res.body.deliveries.map((d) => d.outcome)).toEqual(["failed"]);
  });

  it("an unknown destination is a 404 naming the field", async () => {
    const res = await send<{ error: { code: string; details: Array<{ path: string }> } }>("POST", "/v1/notifications/test", { as: "operate", json: { destination: "nope" } });
    expect([res.status, res.body.error.details[0]?.path]).toEqual([404, "body.destination"]);
  });

  it("needs the operate role", async () => {
    const res = await send("POST", "/v1/notifications/test", { as: "read", json: {} });
    expect(res.status).toBe(403);
  });
});
