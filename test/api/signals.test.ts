// Signals in over HTTP: receivers (create, list without secrets, revoke) and POST /v1/signals/{id} (signature, replay, window, 404, 413, 429, Alertmanager).
import { describe, expect, it } from "vitest";
import { SIGNATURE_HEADER, signatureHeader } from "../../src/core/notify/signature.ts";
import { createGroup, rules, send, type ApiErrorBody } from "./support.ts";

interface Created {
  receiver: { id: string; name: string; url: string };
  url: string;
  secret: string;
}
interface Accepted {
  accepted: true;
  outcome: string;
  signal: { desired: number; until: string; count: number } | null;
}
interface Status {
  desired: { value: number; source: string; reason: string };
  signals: Array<{ receiverName: string; key: string; desired: number; until: string }>;
}

async function receiver(group: string, body: Record<string, unknown> = { action: "raise", desired: 4, durationMinutes: 30 }): Promise<Created> {
  const res = await send<Created>("POST", `/v1/groups/${group}/receivers`, { json: body });
  if (res.status !== 201) throw new Error(`creating a receiver: HTTP ${res.status} ${res.text}`);
  return res.body;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** POSTs `body` to the receiver's URL, signed with `secret` at `t` (unless a header is given). */
async function signal<T = Accepted>(id: string, body: string, options: { secret?: string; t?: number; header?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { "Content-Type": "application/json", ...options.headers };
  if (options.header !== undefined) headers[SIGNATURE_HEADER] = options.header;
  else if (options.secret !== undefined) headers[SIGNATURE_HEADER] = await signatureHeader(options.secret, options.t ?? nowSeconds(), body);
  return send<T>("POST", `/v1/signals/${id}`, { as: null, body, headers });
}

async function status(group: string): Promise<Status> {
  return (await send<Status>("GET", `/v1/groups/${group}`, { as: "read" })).body;
}

const alertmanager = (status: "firing" | "resolved") =>
  JSON.stringify({
    version: "4",
    groupKey: '{}:{alertname="HighLoad"}',
    truncatedAlerts: 0,
    status,
    receiver: "novascale",
    groupLabels: { alertname: "HighLoad" },
    commonLabels: { alertname: "HighLoad", severity: "warning" },
    commonAnnotations: {},
    externalURL: "http://alertmanager.example:9093",
    alerts: [{ status, labels: { alertname: "HighLoad" }, annotations: {}, startsAt: "2026-12-07T10:00:00Z", endsAt: "0001-01-01T00:00:00Z", generatorURL: "", fingerprint: "c0ffee" }],
  });

describe("POST /v1/groups/{name}/receivers", () => {
  it("answers the signal URL and the secret, once", async () => {
    await createGroup("sig-create", rules({ default: 1 }));
    const created = await receiver("sig-create");
    expect(created.url).toBe(`http://novascale.test/v1/signals/${created.receiver.id}`);
    expect(created.secret).toMatch(/^nvs_[A-Za-z0-9_-]{43}$/);
  });

  it("GET lists the receivers without their secrets", async () => {
    await createGroup("sig-list", rules({ default: 1 }));
    const created = await receiver("sig-list", { action: "raise", name: "alerts", desired: 3, durationMinutes: 10 });
    const res = await send<{ receivers: Array<{ name: string; url: string }> }>("GET", "/v1/groups/sig-list/receivers", { as: "read" });
    expect(res.body.receivers.map((r) => [r.name, r.url])).toEqual([["alerts", created.url]]);
    expect(res.text).not.toContain(created.secret);
  });

  it("the secret is not in the activity log", async () => {
    await createGroup("sig-secret-log", rules({ default: 1 }));
    const created = await receiver("sig-secret-log");
    await signal(created.receiver.id, "{}", { secret: created.secret });
    const log = await send("GET", "/v1/groups/sig-secret-log/activity", { as: "read" });
    expect([log.status, log.text.includes(created.secret), log.text.includes("receiver-created")]).toEqual([200, false, true]);
  });

  it("refuses a raise above the group's max with 422 naming the field, and creates nothing", async () => {
    await createGroup("sig-over-max", rules({ max: 5 }));
    const res = await send<ApiErrorBody>("POST", "/v1/groups/sig-over-max/receivers", { json: { action: "raise", desired: 6, durationMinutes: 30 } });
    const list = await send<{ receivers: unknown[] }>("GET", "/v1/groups/sig-over-max/receivers", { as: "read" });
    expect([res.status, (res.body.error.details as { field: string }).field, list.body.receivers.length]).toEqual([422, "body.desired", 0]);
  });

  it("refuses a body without a duration with 400 naming the field", async () => {
    await createGroup("sig-no-duration", rules());
    const res = await send<ApiErrorBody>("POST", "/v1/groups/sig-no-duration/receivers", { json: { action: "raise", desired: 2 } });
    expect([res.status, (res.body.error.details as Array<{ path: string }>)[0]?.path]).toEqual([400, "body.durationMinutes"]);
  });

  it("refuses a second receiver of the same name with 409", async () => {
    await createGroup("sig-dup", rules());
    await receiver("sig-dup", { action: "clear", name: "ci" });
    expect((await send("POST", "/v1/groups/sig-dup/receivers", { json: { action: "clear", name: "ci" } })).status).toBe(409);
  });

  it("needs the admin role", async () => {
    await createGroup("sig-role", rules());
    expect((await send("POST", "/v1/groups/sig-role/receivers", { as: "operate", json: { action: "clear" } })).status).toBe(403);
  });

  it("answers 404 for a group that does not exist", async () => {
    expect((await send("POST", "/v1/groups/sig-nogroup/receivers", { json: { action: "clear" } })).status).toBe(404);
  });

  it("is in the OpenAPI document", async () => {
    const doc = await send<{ paths: Record<string, unknown> }>("GET", "/openapi.json", { as: null });
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(["/v1/groups/{name}/receivers", "/v1/groups/{name}/receivers/{id}"]));
  });
});

describe("POST /v1/signals/{id}", () => {
  it("a correctly signed signal is accepted (202) and raises the group's desired at once in status", async () => {
    await createGroup("sig-ok", rules({ default: 1 }));
    const { receiver: r, secret } = await receiver("sig-ok", { action: "raise", name: "ci", desired: 4, durationMinutes: 30 });
    const res = await signal(r.id, "{}", { secret });
    const s = await status("sig-ok");
    expect([res.status, res.body.outcome, res.body.signal?.desired]).toEqual([202, "raised", 4]);
    expect([s.desired.value, s.desired.source, s.desired.reason]).toEqual([4, "signal", expect.stringMatching(/^signal from receiver 'ci' until \S+: at least 4/)]);
  });

  it("a wrong signature is 401 and changes nothing", async () => {
    await createGroup("sig-wrong", rules({ default: 1 }));
    const { receiver: r } = await receiver("sig-wrong");
    const res = await signal<ApiErrorBody>(r.id, "{}", { secret: "nvs_not-the-secret-at-all-0123456789" });
    expect([res.status, res.body.error.code, (await status("sig-wrong")).signals]).toEqual([401, "signature_mismatch", []]);
  });

  it("a signature over another body is 401", async () => {
    await createGroup("sig-body", rules({ default: 1 }));
    const { receiver: r, secret } = await receiver("sig-body");
    const header = await signatureHeader(secret, nowSeconds(), "{}");
    expect((await signal(r.id, '{"status":"resolved"}', { header })).status).toBe(401);
  });

  it("no signature is 401 saying what to send", async () => {
    await createGroup("sig-none", rules({ default: 1 }));
    const { receiver: r } = await receiver("sig-none");
    const res = await signal<ApiErrorBody>(r.id, "{}");
    expect([res.status, res.body.error.code, res.body.error.message]).toEqual([401, "signature_required", expect.stringContaining("Novascale-Signature")]);
  });

  it("the same signed request sent again is refused as a replay (409)", async () => {
    await createGroup("sig-replay", rules({ default: 1 }));
    const { receiver: r, secret } = await receiver("sig-replay");
    const header = await signatureHeader(secret, nowSeconds(), "{}");
    const first = await signal(r.id, "{}", { header });
    const again = await signal<ApiErrorBody>(r.id, "{}", { header });
    expect([first.status, again.status, again.body.error.code]).toEqual([202, 409, "replayed"]);
  });

  it("a signature older than the 5-minute window is 401", async () => {
    await createGroup("sig-old", rules({ default: 1 }));
    const { receiver: r, secret } = await receiver("sig-old");
    const res = await signal<ApiErrorBody>(r.id, "{}", { secret, t: nowSeconds() - 301 });
    expect([res.status, res.body.error.code]).toEqual([401, "signature_expired"]);
  });

  it("a signature from more than 5 minutes ahead is 401", async () => {
    await createGroup("sig-ahead", rules({ default: 1 }));
    const { receiver: r, secret } = await receiver("sig-ahead");
    expect((await signal(r.id, "{}", { secret, t: nowSeconds() + 301 })).status).toBe(401);
  });

  it("an unknown receiver of an existing group, one of no group, and a malformed id get the same 404", async () => {
    await createGroup("sig-unknown", rules({ default: 1 }));
    const { secret } = await receiver("sig-unknown");
    const answers = await Promise.all(
      ["sig-unknown.0123456789abcdef01234567", "sig-nosuch.0123456789abcdef01234567", "not-an-id"].map(async (id) => {
        const res = await signal<ApiErrorBody>(id, "{}", { secret });
        return [res.status, res.text];
      }),
    );
    expect(new Set(answers.map((a) => JSON.stringify(a)))).toEqual(new Set([JSON.stringify([404, '{"error":{"code":"not_found","message":"no such receiver"}}'])]));
  });

  it("a revoked receiver answers 404 and its live signal ends", async () => {
    await createGroup("sig-revoke", rules({ default: 1 }));
    const { receiver: r, secret } = await receiver("sig-revoke");
    await signal(r.id, "{}", { secret });
    const revoked = await send("DELETE", `/v1/groups/sig-revoke/receivers/${r.id}`);
    const after = await signal(r.id, '{"key":"x"}', { secret });
    expect([revoked.status, after.status, (await status("sig-revoke")).desired.value]).toEqual([200, 404, 1]);
  });

  it("a body over 64 KiB is 413", async () => {
    await createGroup("sig-huge", rules({ default: 1 }));
    const { receiver: r, secret } = await receiver("sig-huge");
    const body = JSON.stringify({ key: "k", pad: "x".repeat(70 * 1024) });
    const res = await signal<ApiErrorBody>(r.id, body, { secret });
    expect([res.status, res.body.error.code]).toEqual([413, "payload_too_large"]);
  });

  it("a signed body it does not understand is 422 naming the field", async () => {
    await createGroup("sig-bad-body", rules({ default: 1 }));
    const { receiver: r, secret } = await receiver("sig-bad-body");
    const res = await signal<ApiErrorBody>(r.id, '{"desired": 9}', { secret });
    expect([res.status, (res.body.error.details as Array<{ path: string }>)[0]?.path]).toEqual([422, "body"]);
  });

  it("more than 20 signals a minute to one receiver get 429 with Retry-After", async () => {
    await createGroup("sig-rate", rules({ default: 1 }));
    const { receiver: r, secret } = await receiver("sig-rate");
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    const base = nowSeconds();
    for (let i = 0; i < 21; i++) {
      const res = await signal(r.id, "{}", { secret, t: base - i });
      statuses.push(res.status);
      retryAfter = res.headers.get("Retry-After");
    }
    expect([statuses.filter((s) => s === 202).length, statuses.at(-1), Number(retryAfter) >= 1]).toEqual([20, 429, true]);
  });

  it("repeated signals fold into one activity row with a count", async () => {
    await createGroup("sig-fold", rules({ default: 1 }));
    const { receiver: r, secret } = await receiver("sig-fold", { action: "raise", name: "ci", desired: 3, durationMinutes: 30 });
    const base = nowSeconds();
    for (let i = 0; i < 4; i++) await signal(r.id, "{}", { secret, t: base - i });
    const log = await send<{ entries: Array<{ kind: string; reason: string; repeated?: { count: number } }> }>("GET", "/v1/groups/sig-fold/activity", { as: "read" });
    const signals = log.body.entries.filter((e) => e.kind === "signal");
    expect(signals.map((e) => [e.reason, e.repeated?.count ?? 1])).toEqual([
      ["a plain call kept the group at least 3 for 30 more min", 3],
      ["a plain call raised the group to at least 3 for 30 min", 1],
    ]);
  });

  it("a bearer receiver accepts its secret as Authorization: Bearer (Alertmanager's http_config)", async () => {
    await createGroup("sig-bearer", rules({ default: 1 }));
    const { receiver: r, secret } = await receiver("sig-bearer", { action: "raise", desired: 2, durationMinutes: 30, auth: "bearer" });
    const res = await signal(r.id, alertmanager("firing"), { headers: { Authorization: `Bearer ${secret}` } });
    expect([res.status, res.body.outcome]).toEqual([202, "raised"]);
  });

  it("a signature receiver refuses a bearer secret", async () => {
    await createGroup("sig-no-bearer", rules({ default: 1 }));
    const { receiver: r, secret } = await receiver("sig-no-bearer");
    expect((await signal(r.id, "{}", { headers: { Authorization: `Bearer ${secret}` } })).status).toBe(401);
  });

  it("an Alertmanager firing notification raises the group and its resolved one clears it", async () => {
    await createGroup("sig-am", rules({ default: 1 }));
    const { receiver: r, secret } = await receiver("sig-am", { action: "raise", name: "alerts", desired: 5, durationMinutes: 240 });
    const fired = await signal(r.id, alertmanager("firing"), { secret });
    const during = await status("sig-am");
    const resolved = await signal(r.id, alertmanager("resolved"), { secret });
    const after = await status("sig-am");
    expect([fired.body.outcome, during.desired.value, during.signals.map((s) => s.key)]).toEqual(["raised", 5, ['{}:{alertname="HighLoad"}']]);
    expect([resolved.status, resolved.body.outcome, after.desired.value, after.signals]).toEqual([202, "cleared", 1, []]);
  });

  it("a clear receiver ends every live signal", async () => {
    await createGroup("sig-clear", rules({ default: 1 }));
    const raise = await receiver("sig-clear", { action: "raise", name: "up", desired: 3, durationMinutes: 30 });
    const clear = await receiver("sig-clear", { action: "clear", name: "down" });
    await signal(raise.receiver.id, "{}", { secret: raise.secret });
    const res = await signal(clear.receiver.id, "{}", { secret: clear.secret });
    expect([res.body.outcome, (await status("sig-clear")).desired.value]).toEqual(["cleared", 1]);
  });

  it("an override beats a signal", async () => {
    await createGroup("sig-override", rules({ default: 1 }));
    const { receiver: r, secret } = await receiver("sig-override", { action: "raise", desired: 4, durationMinutes: 30 });
    await send("PUT", "/v1/groups/sig-override/override", { as: "operate", json: { desired: 2, until: new Date(Date.now() + 3_600_000).toISOString(), reason: "freeze" } });
    await signal(r.id, "{}", { secret });
    const s = await status("sig-override");
    expect([s.desired.value, s.desired.source, s.signals.length]).toEqual([2, "override", 1]);
  });

  it("the timeline shows the signal and the fall back to the schedule at its end", async () => {
    await createGroup("sig-timeline", rules({ default: 1 }));
    const { receiver: r, secret } = await receiver("sig-timeline", { action: "raise", desired: 3, durationMinutes: 30 });
    const accepted = await signal(r.id, "{}", { secret });
    const res = await send<{ points: Array<{ at: string; value: number; source: string }> }>("GET", "/v1/groups/sig-timeline/timeline?hours=1", { as: "read" });
    expect(res.body.points.map((p) => [p.value, p.source])).toEqual([
      [3, "signal"],
      [1, "default"],
    ]);
    expect(res.body.points[1]?.at).toBe(accepted.body.signal?.until);
  });

  it("answers 405 for GET", async () => {
    expect((await send("GET", "/v1/signals/sig-x.0123456789abcdef01234567", { as: null })).status).toBe(405);
  });
});
