// PATCH /v1/groups/{name}: JSON Merge Patch of a group's rules through the real worker (If-Match, validation, roles).
import { describe, expect, it } from "vitest";
import { createGroup, rules, send, type ApiErrorBody, type TokenRole } from "./support.ts";

interface Stored {
  etag: string;
  revision: number;
  rules: Record<string, unknown> & { max: number; schedules: Array<{ cron: string; desired: number }> };
}

const MERGE = "application/merge-patch+json";
const SCHEDULES = [
  { cron: "0 8 * * 1-5", timezone: "UTC", desired: 4 },
  { cron: "0 18 * * 1-5", timezone: "UTC", desired: 1 },
];

async function patch<T = Stored>(name: string, body: unknown, headers: Record<string, string>, as: TokenRole = "admin") {
  return send<T>("PATCH", `/v1/groups/${name}`, { as, body: JSON.stringify(body), headers: { "Content-Type": MERGE, ...headers } });
}

async function stored(name: string): Promise<Stored & { headers: Headers }> {
  const res = await send<Stored>("GET", `/v1/groups/${name}`, { as: "read" });
  return { ...res.body, headers: res.headers };
}

describe("PATCH /v1/groups/{name}", () => {
  it("changes only the keys sent and keeps the rest (schedules survive a change of max)", async () => {
    const first = await createGroup("p-merge", rules({ schedules: SCHEDULES }));
    const res = await patch("p-merge", { max: 12 }, { "If-Match": first.body.etag });
    expect(res.status).toBe(200);
    expect([res.body.rules.max, res.body.rules.schedules, res.body.revision]).toEqual([12, SCHEDULES, 2]);
    expect(res.headers.get("ETag")).toBe(res.body.etag);
    const now = await stored("p-merge");
    expect([now.rules.max, now.rules.schedules, now.headers.get("ETag")]).toEqual([12, SCHEDULES, res.body.etag]);
  });

  it("replaces an array whole: the schedules sent are the schedules stored", async () => {
    const first = await createGroup("p-array", rules({ schedules: SCHEDULES }));
    const res = await patch("p-array", { schedules: [{ cron: "0 9 * * *", timezone: "UTC", desired: 2 }] }, { "If-Match": first.body.etag });
    expect(res.status).toBe(200);
    expect(res.body.rules.schedules).toEqual([{ cron: "0 9 * * *", timezone: "UTC", desired: 2 }]);
  });

  it("deletes a key sent as null (the field falls back to its default)", async () => {
    const first = await createGroup("p-null", rules({ schedules: SCHEDULES }));
    const res = await patch("p-null", { schedules: null }, { "If-Match": first.body.etag });
    expect(res.status).toBe(200);
    await createGroup("p-null-ref", rules());
    expect(res.body.rules.schedules).toEqual((await stored("p-null-ref")).rules.schedules);
    expect(res.body.rules.schedules).not.toEqual(SCHEDULES);
  });

  it("answers 428 without If-Match and writes nothing", async () => {
    await createGroup("p-428");
    const res = await patch<ApiErrorBody>("p-428", { max: 9 }, {});
    expect([res.status, res.body.error.code]).toEqual([428, "precondition_required"]);
    expect((await stored("p-428")).revision).toBe(1);
  });

  it("answers 412 to a stale If-Match, names the current ETag and writes nothing", async () => {
    const first = await createGroup("p-412");
    const second = await send<Stored>("PUT", "/v1/groups/p-412", { json: rules({ max: 7 }), headers: { "If-Match": first.body.etag } });
    const res = await patch<ApiErrorBody>("p-412", { max: 9 }, { "If-Match": first.body.etag });
    expect([res.status, res.body.error.code, res.body.error.details]).toEqual([412, "precondition_failed", { etag: second.body.etag }]);
    const now = await stored("p-412");
    expect([now.rules.max, now.revision]).toEqual([7, 2]);
  });

  it("answers 422 naming the field when the merged rules are invalid, and writes nothing", async () => {
    const first = await createGroup("p-422", rules({ max: 5 }));
    const res = await patch<ApiErrorBody>("p-422", { min: 9 }, { "If-Match": first.body.etag });
    expect([res.status, res.body.error.code]).toEqual([422, "validation_failed"]);
    expect((res.body.error.details as Array<{ path: string }>).map((d) => d.path)).toContain("min");
    expect((await stored("p-422")).revision).toBe(1);
  });

  it("answers 415 to a body sent as application/json (a merge patch must say so)", async () => {
    const first = await createGroup("p-415");
    const res = await send<ApiErrorBody>("PATCH", "/v1/groups/p-415", { json: { max: 9 }, headers: { "If-Match": first.body.etag } });
    expect(res.status).toBe(415);
    expect((await stored("p-415")).revision).toBe(1);
  });

  it("answers 404 for a group that does not exist", async () => {
    const res = await patch<ApiErrorBody>("p-none", { max: 9 }, { "If-Match": '"abc"' });
    expect(res.status).toBe(404);
  });

  it("needs the admin role, as PUT does (operate and read get 403)", async () => {
    const first = await createGroup("p-role");
    for (const as of ["read", "operate"] as const) {
      const res = await patch<ApiErrorBody>("p-role", { max: 9 }, { "If-Match": first.body.etag }, as);
      expect([as, res.status]).toEqual([as, 403]);
    }
    expect((await stored("p-role")).revision).toBe(1);
  });

  it("is listed in /openapi.json with the merge-patch media type", async () => {
    const res = await send<{ paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>> }>("GET", "/openapi.json", { as: null });
    expect(Object.keys(res.body.paths["/v1/groups/{name}"]?.["patch"]?.requestBody?.content ?? {})).toEqual([MERGE]);
  });
});
