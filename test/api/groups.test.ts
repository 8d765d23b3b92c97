// Rules and steering through the real worker: groups CRUD with ETags, override, pause/resume, status, timeline, activity.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { storeUnreadableGroup } from "../support/rules.ts";
import { createGroup, rules, send, type ApiErrorBody } from "./support.ts";

interface StoredGroupBody {
  name: string;
  etag: string;
  rules: Record<string, unknown>;
  updatedBy: string;
}
interface StatusBody extends StoredGroupBody {
  desired: { value: number; reason: string; source: string };
  override: { desired: number; until: string; reason: string; author: string } | null;
  pause: { by: string; reason?: string } | null;
  health: string;
  nextChanges: Array<{ at: string; value: number; reason: string }>;
}

describe("PUT /v1/groups/{name}", () => {
  it("creates a group: 201, Location, ETag, and the rules with defaults filled in", async () => {
    const res = await send<StoredGroupBody>("PUT", "/v1/groups/g-create", { json: rules() });
    expect(res.status).toBe(201);
    expect(res.headers.get("Location")).toBe("/v1/groups/g-create");
    expect(res.headers.get("ETag")).toBe(res.body.etag);
    expect(res.body.rules).toMatchObject({ min: 0, max: 5, networks: "auto" });
    expect(res.body.updatedBy).toBe("test-admin");
  });

  it("answers 200 with the same ETag when the same rules are sent again", async () => {
    const first = await createGroup("g-same");
    const again = await send<StoredGroupBody>("PUT", "/v1/groups/g-same", { json: rules() });
    expect([again.status, again.body.etag]).toEqual([200, first.body.etag]);
  });

  it("replaces the rules when If-Match carries the current ETag", async () => {
    const first = await createGroup("g-ifmatch");
    const res = await send<StoredGroupBody>("PUT", "/v1/groups/g-ifmatch", { json: rules({ max: 7 }), headers: { "If-Match": first.body.etag } });
    expect(res.status).toBe(200);
    expect(res.body.etag).not.toBe(first.body.etag);
    expect(res.body.rules["max"]).toBe(7);
  });

  it("answers 412 to a stale If-Match and keeps the stored rules", async () => {
    const first = await createGroup("g-stale");
    await send("PUT", "/v1/groups/g-stale", { json: rules({ max: 6 }) });
    const res = await send<ApiErrorBody>("PUT", "/v1/groups/g-stale", { json: rules({ max: 9 }), headers: { "If-Match": first.body.etag } });
    expect(res.status).toBe(412);
    expect(res.body.error.code).toBe("precondition_failed");
    const stored = await send<StatusBody>("GET", "/v1/groups/g-stale");
    expect(stored.body.rules["max"]).toBe(6);
  });

  it("answers 412 to If-Match on a group that does not exist, and creates nothing", async () => {
    const res = await send("PUT", "/v1/groups/g-ifmatch-none", { json: rules(), headers: { "If-Match": '"abc"' } });
    expect(res.status).toBe(412);
    expect((await send("GET", "/v1/groups/g-ifmatch-none")).status).toBe(404);
  });

  it("answers 412 to If-None-Match: * when the group exists", async () => {
    await createGroup("g-create-only");
    const res = await send("PUT", "/v1/groups/g-create-only", { json: rules({ max: 3 }), headers: { "If-None-Match": "*" } });
    expect(res.status).toBe(412);
  });

  it("answers 400 with field paths to invalid rules and stores nothing", async () => {
    const res = await send<ApiErrorBody>("PUT", "/v1/groups/g-invalid", { json: rules({ schedules: [{ cron: "0 8 * * *", timezone: "Mars/Olympus", desired: 2 }] }) });
    expect(res.status).toBe(400);
    expect((res.body.error.details as Array<{ path: string }>).map((d) => d.path)).toContain("body.schedules.0.timezone");
    expect((await send("GET", "/v1/groups/g-invalid")).status).toBe(404);
  });

  it("rejects reserved metadata keys", async () => {
    const res = await send("PUT", "/v1/groups/g-reserved", { json: rules({ metadata: { "novascale:group": "other" } }) });
    expect(res.status).toBe(400);
  });
});

describe("GET /v1/groups and /v1/groups/{name}", () => {
  it("lists groups by name with their ETags", async () => {
    const created = await createGroup("g-listed");
    const res = await send<{ groups: Array<{ name: string; etag: string }> }>("GET", "/v1/groups", { as: "read" });
    expect(res.status).toBe(200);
    expect(res.body.groups).toContainEqual(expect.objectContaining({ name: "g-listed", etag: created.body.etag }));
  });

  it("shows rules and status: desired with the rule that set it, and the ETag header", async () => {
    const created = await createGroup("g-status", rules({ default: 2 }));
    const res = await send<StatusBody>("GET", "/v1/groups/g-status", { as: "read" });
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe(created.body.etag);
    expect(res.body.desired).toMatchObject({ value: 2, source: "default" });
    expect(res.body.desired.reason).not.toBe("");
    expect(res.body.override).toBeNull();
    expect(res.body.pause).toBeNull();
  });

  it("lists the next scheduled changes with their reasons", async () => {
    await createGroup("g-next", rules({ schedules: [{ cron: "0 * * * *", desired: 3 }, { cron: "30 * * * *", desired: 1 }] }));
    const res = await send<StatusBody>("GET", "/v1/groups/g-next", { as: "read" });
    expect(res.body.nextChanges.length).toBeGreaterThan(0);
    expect(res.body.nextChanges.length).toBeLessThanOrEqual(5);
    for (const change of res.body.nextChanges) {
      expect(Date.parse(change.at)).toBeGreaterThan(Date.now() - 1000);
      expect([1, 3]).toContain(change.value);
    }
  });

  it("answers 404 not_found for a group that does not exist", async () => {
    const res = await send<ApiErrorBody>("GET", "/v1/groups/g-missing", { as: "read" });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });

  it("answers 500 corrupt_record, not a crash, when the stored rules do not parse", async () => {
    await storeUnreadableGroup("g-corrupt");
    const res = await send<ApiErrorBody>("GET", "/v1/groups/g-corrupt", { as: "read" });
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe("corrupt_record");
  });

  it("answers HEAD like GET, without a body", async () => {
    await createGroup("g-head");
    const res = await send("HEAD", "/v1/groups/g-head", { as: "read" });
    expect([res.status, res.text]).toEqual([200, ""]);
  });
});

describe("PUT|DELETE /v1/groups/{name}/override", () => {
  it("sets an override for some minutes, authored by the token's name, and status shows it deciding", async () => {
    await createGroup("g-override");
    const before = Date.now();
    const res = await send<{ desired: number; until: string; author: string; reason: string }>("PUT", "/v1/groups/g-override/override", {
      as: "operate",
      json: { desired: 4, minutes: 30, reason: "launch" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ desired: 4, author: "test-operator", reason: "launch" });
    const minutes = (Date.parse(res.body.until) - before) / 60_000;
    expect(minutes).toBeGreaterThan(29.9);
    expect(minutes).toBeLessThan(30.5);
    const status = await send<StatusBody>("GET", "/v1/groups/g-override", { as: "read" });
    expect(status.body.desired).toMatchObject({ value: 4, source: "override" });
    expect(status.body.override?.author).toBe("test-operator");
  });

  it("sets an override until an ISO-8601 instant with an offset", async () => {
    await createGroup("g-override-until");
    const until = new Date(Date.now() + 2 * 3_600_000).toISOString().replace("Z", "+00:00");
    const res = await send<{ until: string }>("PUT", "/v1/groups/g-override-until/override", { as: "operate", json: { desired: 2, until, reason: "x" } });
    expect(res.status).toBe(200);
    expect(Date.parse(res.body.until)).toBe(Date.parse(until));
  });

  it("still clamps an override to the group's max", async () => {
    await createGroup("g-override-clamp", rules({ max: 3 }));
    await send("PUT", "/v1/groups/g-override-clamp/override", { as: "operate", json: { desired: 50, minutes: 10, reason: "big" } });
    const status = await send<StatusBody>("GET", "/v1/groups/g-override-clamp", { as: "read" });
    expect(status.body.desired.value).toBe(3);
  });

  it("rejects an override longer than 30 days with 422", async () => {
    await createGroup("g-override-long");
    const until = new Date(Date.now() + 31 * 86_400_000).toISOString();
    const res = await send("PUT", "/v1/groups/g-override-long/override", { as: "operate", json: { desired: 2, until, reason: "x" } });
    expect(res.status).toBe(422);
  });

  it("answers 404 for an override on a group that does not exist", async () => {
    const res = await send("PUT", "/v1/groups/g-override-missing/override", { as: "operate", json: { desired: 2, minutes: 5, reason: "x" } });
    expect(res.status).toBe(404);
  });

  it("clears the override (cleared: true, with the previous one), then reports there was none", async () => {
    await createGroup("g-override-clear");
    await send("PUT", "/v1/groups/g-override-clear/override", { as: "operate", json: { desired: 3, minutes: 10, reason: "x" } });
    const first = await send<{ cleared: boolean; previous: { desired: number } | null }>("DELETE", "/v1/groups/g-override-clear/override", { as: "operate" });
    expect([first.status, first.body.cleared, first.body.previous?.desired]).toEqual([200, true, 3]);
    const second = await send<{ cleared: boolean }>("DELETE", "/v1/groups/g-override-clear/override", { as: "operate" });
    expect(second.body.cleared).toBe(false);
    const status = await send<StatusBody>("GET", "/v1/groups/g-override-clear", { as: "read" });
    expect(status.body.override).toBeNull();
  });
});

describe("POST /v1/groups/{name}/pause and /resume", () => {
  it("pauses with a reason: status says paused and by whom", async () => {
    await createGroup("g-pause");
    const res = await send<{ by: string; reason: string }>("POST", "/v1/groups/g-pause/pause", { as: "operate", json: { reason: "maintenance" } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ by: "test-operator", reason: "maintenance" });
    const status = await send<StatusBody>("GET", "/v1/groups/g-pause", { as: "read" });
    expect([status.body.health, status.body.desired.source]).toEqual(["paused", "paused"]);
  });

  it("pauses with no body at all", async () => {
    await createGroup("g-pause-nobody");
    const res = await send("POST", "/v1/groups/g-pause-nobody/pause", { as: "operate" });
    expect(res.status).toBe(200);
  });

  it("resumes a paused group, and says so only once", async () => {
    await createGroup("g-resume");
    await send("POST", "/v1/groups/g-resume/pause", { as: "operate" });
    const first = await send<{ resumed: boolean }>("POST", "/v1/groups/g-resume/resume", { as: "operate" });
    const second = await send<{ resumed: boolean }>("POST", "/v1/groups/g-resume/resume", { as: "operate" });
    expect([first.status, first.body.resumed, second.body.resumed]).toEqual([200, true, false]);
    const status = await send<StatusBody>("GET", "/v1/groups/g-resume", { as: "read" });
    expect(status.body.pause).toBeNull();
  });

  it("answers 404 to pause and resume of a group that does not exist", async () => {
    expect((await send("POST", "/v1/groups/g-pause-missing/pause", { as: "operate" })).status).toBe(404);
    expect((await send("POST", "/v1/groups/g-pause-missing/resume", { as: "operate" })).status).toBe(404);
  });
});

describe("GET /v1/groups/{name}/timeline", () => {
  it("gives change points from now over the hours asked, the first being the value now", async () => {
    await createGroup("g-timeline", rules({ default: 1, schedules: [{ cron: "0 */2 * * *", desired: 3 }, { cron: "0 1-23/2 * * *", desired: 2 }] }));
    const res = await send<{ hours: number; points: Array<{ at: string; value: number; reason: string }> }>("GET", "/v1/groups/g-timeline/timeline?hours=6", {
      as: "read",
    });
    expect(res.status).toBe(200);
    expect(res.body.hours).toBe(6);
    // Alternating every hour: the value now plus about six changes.
    expect(res.body.points.length).toBeGreaterThanOrEqual(6);
    expect(res.body.points.slice(1).every((p) => p.reason !== "")).toBe(true);
  });

  it("defaults to 24 hours", async () => {
    await createGroup("g-timeline-default");
    const res = await send<{ hours: number }>("GET", "/v1/groups/g-timeline-default/timeline", { as: "read" });
    expect(res.body.hours).toBe(24);
  });

  it("shows the override ending by itself", async () => {
    await createGroup("g-timeline-override", rules({ default: 1 }));
    await send("PUT", "/v1/groups/g-timeline-override/override", { as: "operate", json: { desired: 4, minutes: 60, reason: "x" } });
    const res = await send<{ points: Array<{ value: number; source: string }> }>("GET", "/v1/groups/g-timeline-override/timeline?hours=3", { as: "read" });
    expect(res.body.points.map((p) => [p.value, p.source])).toEqual([
      [4, "override"],
      [1, "default"],
    ]);
  });

  it("answers 404 for a group that does not exist", async () => {
    expect((await send("GET", "/v1/groups/g-timeline-missing/timeline", { as: "read" })).status).toBe(404);
  });
});

describe("GET /v1/groups/{name}/activity", () => {
  it("records rule changes, overrides and pauses with who and why, newest first", async () => {
    await createGroup("g-activity");
    await send("PUT", "/v1/groups/g-activity/override", { as: "operate", json: { desired: 2, minutes: 5, reason: "the launch" } });
    await send("POST", "/v1/groups/g-activity/pause", { as: "operate", json: { reason: "db migration" } });
    const res = await send<{ entries: Array<{ kind: string; author: string; reason: string }> }>("GET", "/v1/groups/g-activity/activity", { as: "read" });
    expect(res.status).toBe(200);
    expect(res.body.entries.map((e) => e.kind)).toEqual(["pause", "override-set", "rules-changed"]);
    expect(res.body.entries[1]).toMatchObject({ author: "test-operator" });
    expect(res.body.entries[1]?.reason).toContain("the launch");
  });

  it("returns at most `limit` entries", async () => {
    await createGroup("g-activity-limit");
    await send("POST", "/v1/groups/g-activity-limit/pause", { as: "operate" });
    await send("POST", "/v1/groups/g-activity-limit/resume", { as: "operate" });
    const res = await send<{ entries: unknown[] }>("GET", "/v1/groups/g-activity-limit/activity?limit=2", { as: "read" });
    expect(res.body.entries).toHaveLength(2);
  });

  it("answers 404 for a group that does not exist", async () => {
    expect((await send("GET", "/v1/groups/g-activity-missing/activity", { as: "read" })).status).toBe(404);
  });
});

describe("DELETE /v1/groups/{name}", () => {
  it("answers 404 for a group that does not exist", async () => {
    expect((await send("DELETE", "/v1/groups/g-delete-missing")).status).toBe(404);
  });

  it("removes a group with force=true and lists what was left (nothing here)", async () => {
    await createGroup("g-delete-force");
    const res = await send<{ removed: boolean; serversLeftBehind: unknown[] }>("DELETE", "/v1/groups/g-delete-force?force=true");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ removed: true, revision: 2, serversLeftBehind: [] });
    expect((await send("GET", "/v1/groups/g-delete-force", { as: "read" })).status).toBe(404);
  });
});

describe("the real worker", () => {
  it("serves /openapi.json and /healthz without a token", async () => {
    expect((await send("GET", "/openapi.json", { as: null })).status).toBe(200);
    expect((await send("GET", "/healthz", { as: null })).status).toBe(200);
  });

  it("requires a token on /v1", async () => {
    expect((await send("GET", "/v1/groups", { as: null })).status).toBe(401);
  });
});
