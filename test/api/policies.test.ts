// /v1/snapshot-policies through the real worker: CRUD, ETag/If-Match, validation naming the field, roles, pause/resume, delete's tombstone.
import { afterEach, describe, expect, it } from "vitest";
import { deleteAllPolicies } from "../support/rules.ts";
import { send, type ApiErrorBody } from "./support.ts";

const BASE = "/v1/snapshot-policies";

function policy(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { select: { metadata: { backup: "nightly" } }, cron: "30 1 * * *", timezone: "Europe/Berlin", retention: { keepDaily: 3, keepWeekly: 2 }, ...extra };
}

interface Stored {
  name: string;
  etag: string;
  revision: number;
  updatedBy: string;
  rules: { maxConcurrent: number; retention: Record<string, unknown>; paused: boolean };
}
interface View extends Stored {
  status: unknown;
  pause: { by: string } | null;
  lastRun: unknown;
}
type Activity = { entries: Array<{ kind: string; author: string; reason: string }> };

afterEach(deleteAllPolicies);

describe("PUT/GET/DELETE /v1/snapshot-policies/{name}", () => {
  it("creates (201, ETag, Location, revision 1) and reads back the rules with defaults, null status before the first run", async () => {
    const put = await send<Stored>("PUT", `${BASE}/pets`, { json: policy() });
    expect(put.status, put.text).toBe(201);
    expect(put.headers.get("ETag")).toBe(put.body.etag);
    expect(put.headers.get("Location")).toBe(`${BASE}/pets`);
    expect([put.body.revision, put.body.updatedBy, put.body.rules.maxConcurrent]).toEqual([1, "test-admin", 2]);
    const got = await send<View>("GET", `${BASE}/pets`, { as: "read" });
    expect(got.status).toBe(200);
    expect(got.headers.get("ETag")).toBe(put.body.etag);
    expect([got.body.status, got.body.lastRun, got.body.pause]).toEqual([null, null, null]);
  });

  it("replaces with a matching If-Match (200, revision 2) and refuses a stale one with 412, writing nothing", async () => {
    const first = await send<Stored>("PUT", `${BASE}/replace-me`, { json: policy() });
    const second = await send<Stored>("PUT", `${BASE}/replace-me`, { json: policy({ maxConcurrent: 4 }), headers: { "If-Match": first.body.etag } });
    expect([second.status, second.body.revision]).toEqual([200, 2]);
    const stale = await send<ApiErrorBody>("PUT", `${BASE}/replace-me`, { json: policy({ maxConcurrent: 9 }), headers: { "If-Match": first.body.etag } });
    expect([stale.status, stale.body.error.code]).toEqual([412, "precondition_failed"]);
    const now = await send<View>("GET", `${BASE}/replace-me`, { as: "read" });
    expect([now.body.rules.maxConcurrent, now.body.revision]).toEqual([4, 2]);
  });

  it("If-None-Match: * creates only: 412 when the policy exists", async () => {
    await send("PUT", `${BASE}/create-only`, { json: policy() });
    const again = await send<ApiErrorBody>("PUT", `${BASE}/create-only`, { json: policy(), headers: { "If-None-Match": "*" } });
    expect(again.status).toBe(412);
  });

  it("refuses bad input with 400 naming the field, and nothing is written", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [policy({ retention: {} }), "retention"],
      [policy({ cron: "61 * * * *" }), "cron"],
      [policy({ timezone: "Mars/Olympus" }), "timezone"],
      [policy({ maxConcurrent: 0 }), "maxConcurrent"],
      [policy({ select: { metadata: { "novascale:group": "web" } } }), "select"],
      [policy({ retention: { keepDaily: 3, keepWithin: "soon" } }), "retention.keepWithin"],
      [policy({ surprise: true }), "(root)"],
    ];
    for (const [body, field] of cases) {
      const res = await send<ApiErrorBody & { error: { details: Array<{ path: string }> } }>("PUT", `${BASE}/bad`, { json: body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.details.map((d) => d.path).join(" "), JSON.stringify(body)).toContain(field === "(root)" ? "body" : field);
    }
    expect((await send("GET", `${BASE}/bad`, { as: "read" })).status).toBe(404);
    expect((await send<{ policies: unknown[] }>("GET", BASE, { as: "read" })).body.policies).toEqual([]);
  });

  it("refuses an invalid name with 400 naming it", async () => {
    const res = await send<ApiErrorBody>("PUT", `${BASE}/Not_Valid!`, { json: policy() });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("policy name");
  });

  it("lists every policy with its etag and revision", async () => {
    await send("PUT", `${BASE}/b-pets`, { json: policy() });
    await send("PUT", `${BASE}/a-pets`, { json: policy({ select: { group: "web" } }) });
    const list = await send<{ policies: Array<{ name: string; revision: number; etag: string }> }>("GET", BASE, { as: "read" });
    expect(list.body.policies.map((p) => [p.name, p.revision])).toEqual([["a-pets", 1], ["b-pets", 1]]);
  });

  it("needs admin to write, operate to pause, read to read", async () => {
    expect((await send("PUT", `${BASE}/roles`, { json: policy(), as: "operate" })).status).toBe(403);
    await send("PUT", `${BASE}/roles`, { json: policy() });
    expect((await send("DELETE", `${BASE}/roles`, { as: "operate" })).status).toBe(403);
    expect((await send("POST", `${BASE}/roles/pause`, { as: "read" })).status).toBe(403);
    expect((await send("POST", `${BASE}/roles/pause`, { as: "operate" })).status).toBe(200);
    expect((await send("GET", `${BASE}/roles`, { as: null })).status).toBe(401);
  });

  it("answers 404 for an unknown policy on every route", async () => {
    for (const [method, path] of [["GET", "/nope"], ["DELETE", "/nope"], ["POST", "/nope/pause"], ["POST", "/nope/resume"], ["GET", "/nope/activity"]] as const) {
      expect((await send(method, `${BASE}${path}`, { as: "admin" })).status, `${method} ${path}`).toBe(404);
    }
  });

  it("DELETE honours If-Match (412 on a stale tag, the policy stays) and then removes; the activity log ends with a tombstone", async () => {
    const first = await send<Stored>("PUT", `${BASE}/delete-me`, { json: policy() });
    await send("PUT", `${BASE}/delete-me`, { json: policy({ maxConcurrent: 3 }) });
    const stale = await send("DELETE", `${BASE}/delete-me`, { headers: { "If-Match": first.body.etag } });
    expect(stale.status).toBe(412);
    expect((await send("GET", `${BASE}/delete-me`, { as: "read" })).status).toBe(200);
    const removed = await send<{ removed: boolean; revision: number }>("DELETE", `${BASE}/delete-me`);
    expect([removed.status, removed.body.removed, removed.body.revision]).toEqual([200, true, 3]);
    expect((await send("GET", `${BASE}/delete-me`, { as: "read" })).status).toBe(404);
    const log = await send<Activity>("GET", `${BASE}/delete-me/activity`, { as: "read" });
    expect(log.status).toBe(200);
    expect(log.body.entries.map((a) => a.kind)).toEqual(["policy-deleted", "rules-changed", "rules-changed"]);
    expect(log.body.entries[0]?.reason).toContain("snapshots stay");
  });

  it("a re-created policy continues the revisions after its delete", async () => {
    await send("PUT", `${BASE}/recreated`, { json: policy() });
    await send("DELETE", `${BASE}/recreated`);
    const again = await send<Stored>("PUT", `${BASE}/recreated`, { json: policy() });
    expect([again.status, again.body.revision]).toEqual([201, 3]);
  });
});

describe("GET /v1/snapshot-policies/{name}/retention", () => {
  it("answers the preview's shape for a policy with no snapshots yet, and writes nothing", async () => {
    await send("PUT", `${BASE}/preview-me`, { json: policy() });
    const res = await send<{ policy: string; at: string; firing: string | null; guard: string; images: unknown[] }>("GET", `${BASE}/preview-me/retention?at=2026-11-29T02:00:00Z`, { as: "read" });
    expect(res.status, res.text).toBe(200);
    expect([res.body.policy, res.body.at, res.body.firing, res.body.images]).toEqual(["preview-me", "2026-11-29T02:00:00.000Z", "2026-11-29T00:30:00.000Z", []]);
    expect((await send<View>("GET", `${BASE}/preview-me`, { as: "read" })).body.lastRun).toBeNull();
    expect((await send<{ entries: Array<{ kind: string }> }>("GET", `${BASE}/preview-me/activity`, { as: "read" })).body.entries.map((e) => e.kind)).toEqual(["rules-changed"]);
  });

  it("refuses a bad ?at= and a bad ?limit= with 400 naming the parameter", async () => {
    await send("PUT", `${BASE}/preview-bad`, { json: policy() });
    const at = await send<ApiErrorBody>("GET", `${BASE}/preview-bad/retention?at=yesterday`, { as: "read" });
    expect([at.status, at.body.error.message]).toEqual([400, expect.stringContaining("at")]);
    const limit = await send<ApiErrorBody>("GET", `${BASE}/preview-bad/activity?limit=0`, { as: "read" });
    expect([limit.status, limit.body.error.message]).toEqual([400, expect.stringContaining("limit")]);
  });
});

describe("pause and resume", () => {
  it("an operator pause shows in GET and the activity log; resume lifts it; a second resume says resumed: false", async () => {
    await send("PUT", `${BASE}/paused-pets`, { json: policy() });
    const paused = await send<{ by: string; reason: string }>("POST", `${BASE}/paused-pets/pause`, { as: "operate", json: { reason: "storage maintenance" } });
    expect([paused.status, paused.body.by, paused.body.reason]).toEqual([200, "test-operator", "storage maintenance"]);
    expect((await send<View>("GET", `${BASE}/paused-pets`, { as: "read" })).body.pause?.by).toBe("test-operator");
    expect((await send<{ resumed: boolean }>("POST", `${BASE}/paused-pets/resume`, { as: "operate" })).body.resumed).toBe(true);
    expect((await send<{ resumed: boolean }>("POST", `${BASE}/paused-pets/resume`, { as: "operate" })).body.resumed).toBe(false);
    const log = await send<Activity>("GET", `${BASE}/paused-pets/activity?limit=2`, { as: "read" });
    expect(log.body.entries.map((a) => a.kind)).toEqual(["resume", "pause"]);
  });
});

describe("conditional writes at once", () => {
  it("10 PUTs with the same If-Match at once: exactly one 200, nine 412", async () => {
    const first = await send<Stored>("PUT", `${BASE}/race`, { json: policy() });
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => send<Stored>("PUT", `${BASE}/race`, { json: policy({ maxConcurrent: 3 + i }), headers: { "If-Match": first.body.etag } })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 412, 412, 412, 412, 412, 412, 412, 412, 412]);
    const winner = answers.find((a) => a.status === 200)!;
    const now = await send<View>("GET", `${BASE}/race`, { as: "read" });
    expect([now.body.rules.maxConcurrent, now.body.revision]).toEqual([winner.body.rules.maxConcurrent, 2]);
  });

  it("10 creates with If-None-Match: * at once: exactly one 201", async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => send("PUT", `${BASE}/race-create`, { json: policy(), headers: { "If-None-Match": "*" } })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 412, 412, 412, 412, 412, 412, 412, 412, 412]);
  });
});

describe("OpenAPI", () => {
  it("documents every snapshot-policy route with its role", async () => {
    const doc = await send<{ paths: Record<string, Record<string, { "x-required-role": string }>> }>("GET", "/openapi.json", { as: null });
    const roles = Object.entries(doc.body.paths)
      .filter(([path]) => path.startsWith(BASE))
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => `${method} ${path} ${op["x-required-role"]}`))
      .sort();
    expect(roles).toEqual([
      "delete /v1/snapshot-policies/{name} admin",
      "get /v1/snapshot-policies read",
      "get /v1/snapshot-policies/{name} read",
      "get /v1/snapshot-policies/{name}/activity read",
      "get /v1/snapshot-policies/{name}/retention read",
      "post /v1/snapshot-policies/{name}/pause operate",
      "post /v1/snapshot-policies/{name}/resume operate",
      "put /v1/snapshot-policies/{name} admin",
    ]);
  });
});
