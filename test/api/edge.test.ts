// The API's edge, before any service call: tokens and roles, body size/type/syntax/schema, error shape, 405, openapi.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { configuredTokens, findToken, roleAtLeast } from "../../src/api/auth.ts";
import { DEFAULT_BODY_LIMIT_BYTES, RULES_BODY_LIMIT_BYTES } from "../../src/api/body.ts";
import { CloudUnavailableError, CorruptRecordError, PreconditionFailedError, type GroupService } from "../../src/reconcile/shared/service.ts";

const ADMIN = "admin-token-for-tests";
const OPERATOR = "operate-token-for-tests";
const READER = "read-token-for-tests";

/** Every request here must be refused before the service is reached: reaching it fails the test. */
const calls: string[] = [];
const unreachable = new Proxy({} as GroupService, {
  get(_target, method) {
    return () => {
      calls.push(String(method));
      throw new Error(`service.${String(method)} was called`);
    };
  },
});
const app = createApp({ service: () => unreachable });

async function send(method: string, path: string, init: { token?: string; body?: BodyInit; headers?: Record<string, string> } = {}) {
  const headers = new Headers(init.headers);
  if (init.token !== undefined) headers.set("Authorization", `Bearer ${init.token}`);
  const res = await app.request(`http://novascale.test${path}`, { method, headers, ...(init.body === undefined ? {} : { body: init.body }) }, env);
  const text = await res.text();
  return { res, text, json: text === "" ? undefined : (JSON.parse(text) as { error: { code: string; message: string; details?: unknown } }) };
}

const json = { "Content-Type": "application/json" };

describe("auth", () => {
  it("answers 401 with the error shape when there is no Authorization header", async () => {
    const { res, json: body } = await send("GET", "/v1/groups");
    expect(res.status).toBe(401);
    expect(body?.error.code).toBe("unauthorized");
    expect(res.headers.get("WWW-Authenticate")).toContain("Bearer");
  });

  it("answers 401 to a scheme other than Bearer", async () => {
    const { res } = await send("GET", "/v1/groups", { headers: { Authorization: `Basic ${btoa(`x:${ADMIN}`)}` } });
    expect(res.status).toBe(401);
  });

  it("answers 401 to an unknown token and does not echo it", async () => {
    const { res, text } = await send("GET", "/v1/groups", { token: "not-a-known-token-0123456789" });
    expect(res.status).toBe(401);
    expect(text).not.toContain("not-a-known-token-0123456789");
  });

  it("answers 401 to a prefix of a valid token", async () => {
    const { res } = await send("GET", "/v1/groups", { token: ADMIN.slice(0, -1) });
    expect(res.status).toBe(401);
  });

  it("answers 403 (not 401) when a valid token's role is too low, naming the role needed", async () => {
    const { res, json: body } = await send("PUT", "/v1/groups/edge-a", { token: OPERATOR, headers: json, body: "{}" });
    expect(res.status).toBe(403);
    expect(body?.error.code).toBe("forbidden");
    expect(body?.error.message).toContain("admin");
  });

  it("refuses operate routes to a read token with 403", async () => {
    for (const [method, path] of [
      ["PUT", "/v1/groups/edge-b/override"],
      ["DELETE", "/v1/groups/edge-b/override"],
      ["POST", "/v1/groups/edge-b/pause"],
      ["POST", "/v1/groups/edge-b/resume"],
      ["POST", "/v1/groups/edge-b/reconcile"],
    ] as const) {
      const { res } = await send(method, path, { token: READER, headers: json, body: "{}" });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
  });

  it("refuses admin routes (rules) to an operate token with 403", async () => {
    expect((await send("DELETE", "/v1/groups/edge-c", { token: OPERATOR })).res.status).toBe(403);
  });

  it("checks the role before reading the body, so a forbidden caller learns nothing about validation", async () => {
    const { res } = await send("PUT", "/v1/groups/edge-d", { token: READER, headers: json, body: "not json" });
    expect(res.status).toBe(403);
  });

  it("does not reach the service on any refused request", () => {
    expect(calls).toEqual([]);
  });
});

describe("token configuration", () => {
  it("reads named tokens and the single local admin token", () => {
    const entries = configuredTokens({
      NOVASCALE_TOKENS: JSON.stringify([{ name: "alice", token: "alice-token-0123456789", role: "operate" }]),
      NOVASCALE_TOKEN: "local-token-0123456789",
    });
    expect(entries.map((e) => [e.name, e.role])).toEqual([
      ["alice", "operate"],
      ["local-admin", "admin"],
    ]);
  });

  it("rejects malformed NOVASCALE_TOKENS with 503 without quoting the secret", () => {
    const secret = "super-secret-token-value-9999";
    let message = "";
    try {
      configuredTokens({ NOVASCALE_TOKENS: `[{"name":"a","token":"${secret}","role":"root"}]` });
    } catch (e) {
      message = e instanceof Error ? e.message : "";
    }
    expect(message).toContain("NOVASCALE_TOKENS");
    expect(message).not.toContain(secret);
  });

  it("rejects a token list that repeats a token", () => {
    const dup = [
      { name: "a", token: "same-token-0123456789", role: "read" },
      { name: "b", token: "same-token-0123456789", role: "admin" },
    ];
    expect(() => configuredTokens({ NOVASCALE_TOKENS: JSON.stringify(dup) })).toThrow(/duplicate token/);
  });

  it("rejects tokens shorter than 16 characters", () => {
    expect(() => configuredTokens({ NOVASCALE_TOKEN: "short" })).toThrow(/16 characters/);
  });

  it("answers 503 auth_misconfigured on /v1 when the token secret is broken", async () => {
    const broken = createApp({ service: () => unreachable });
    const res = await broken.request("http://novascale.test/v1/groups", { headers: { Authorization: `Bearer ${ADMIN}` } }, { ...env, NOVASCALE_TOKENS: "{not json" });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("auth_misconfigured");
  });

  it("finds the matching entry among several and none for a near miss", async () => {
    const entries = configuredTokens({
      NOVASCALE_TOKENS: JSON.stringify([
        { name: "a", token: "token-a-0123456789", role: "read" },
        { name: "b", token: "token-b-0123456789", role: "admin" },
      ]),
    });
    expect((await findToken(entries, "token-b-0123456789"))?.name).toBe("b");
    expect(await findToken(entries, "token-b-012345678")).toBeUndefined();
  });

  it("orders roles read < operate < admin", () => {
    expect([roleAtLeast("admin", "operate"), roleAtLeast("operate", "operate"), roleAtLeast("read", "operate")]).toEqual([true, true, false]);
  });
});

describe("request bodies", () => {
  it("answers 415 to a body that is not declared as JSON", async () => {
    const { res, json: body } = await send("PUT", "/v1/groups/edge-e", { token: ADMIN, headers: { "Content-Type": "text/plain" }, body: "{}" });
    expect(res.status).toBe(415);
    expect(body?.error.code).toBe("unsupported_media_type");
  });

  it("answers 415 when Content-Type is missing on a route that needs a body", async () => {
    const { res } = await send("PUT", "/v1/groups/edge-e", { token: ADMIN, body: new Uint8Array([123, 125]) });
    expect(res.status).toBe(415);
  });

  it("accepts application/json with a charset and +json media types up to validation", async () => {
    const a = await send("PUT", "/v1/groups/edge-f", { token: ADMIN, headers: { "Content-Type": "application/json; charset=utf-8" }, body: "{}" });
    const b = await send("PUT", "/v1/groups/edge-f", { token: ADMIN, headers: { "Content-Type": "application/merge-patch+json" }, body: "{}" });
    expect([a.res.status, b.res.status]).toEqual([400, 400]);
  });

  it("answers 413 to group rules over their limit (1 MiB: room for pasted calendars), declared by Content-Length", async () => {
    const big = `{"image":"${"x".repeat(RULES_BODY_LIMIT_BYTES)}"}`;
    const { res, json: body } = await send("PUT", "/v1/groups/edge-g", { token: ADMIN, headers: json, body: big });
    expect(res.status).toBe(413);
    expect(body?.error.code).toBe("payload_too_large");
  });

  it("answers 413 to an oversized streamed body without a Content-Length", async () => {
    const chunk = new TextEncoder().encode(" ".repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > RULES_BODY_LIMIT_BYTES * 2) controller.close();
        else {
          sent += chunk.byteLength;
          controller.enqueue(chunk);
        }
      },
    });
    const { res } = await send("PUT", "/v1/groups/edge-g", { token: ADMIN, headers: json, body: stream });
    expect(res.status).toBe(413);
  });

  it("keeps the default limit (96 KiB) on bodies other than group rules, e.g. an override", async () => {
    const big = `{"desired":1,"reason":"${"x".repeat(DEFAULT_BODY_LIMIT_BYTES)}"}`;
    const { res } = await send("PUT", "/v1/groups/edge-g/override", { token: ADMIN, headers: json, body: big });
    expect(res.status).toBe(413);
  });

  it("answers 400 malformed_json to invalid JSON", async () => {
    const { res, json: body } = await send("PUT", "/v1/groups/edge-h", { token: ADMIN, headers: json, body: '{"image": ' });
    expect(res.status).toBe(400);
    expect(body?.error.code).toBe("malformed_json");
  });

  it("answers 400 malformed_json to an empty body on a route that needs one", async () => {
    const { res, json: body } = await send("PUT", "/v1/groups/edge-h/override", { token: ADMIN, headers: json, body: "" });
    expect(res.status).toBe(400);
    expect(body?.error.code).toBe("malformed_json");
  });

  it("lists every invalid field of the rules with its path", async () => {
    const rules = { image: "cirros", flavor: "m1.tiny", min: 5, max: 2, schedules: [{ cron: "not a cron", desired: 1 }] };
    const { res, json: body } = await send("PUT", "/v1/groups/edge-i", { token: ADMIN, headers: json, body: JSON.stringify(rules) });
    expect(res.status).toBe(400);
    expect(body?.error.code).toBe("validation_failed");
    const paths = (body?.error.details as Array<{ path: string }>).map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(["body.schedules.0.cron"]));
  });

  it("reports the cross-field rule min <= max at the path of min", async () => {
    const { json: body } = await send("PUT", "/v1/groups/edge-i", { token: ADMIN, headers: json, body: JSON.stringify({ image: "c", flavor: "f", min: 5, max: 2 }) });
    expect((body?.error.details as Array<{ path: string }>).map((d) => d.path)).toContain("body.min");
  });

  it("rejects an override with both until and minutes", async () => {
    const override = { desired: 3, minutes: 10, until: "2030-01-01T00:00:00Z", reason: "launch" };
    const { res, json: body } = await send("PUT", "/v1/groups/edge-j/override", { token: OPERATOR, headers: json, body: JSON.stringify(override) });
    expect(res.status).toBe(400);
    expect((body?.error.details as Array<{ path: string }>)[0]?.path).toBe("body.until");
  });

  it("rejects an override with neither until nor minutes", async () => {
    const { res } = await send("PUT", "/v1/groups/edge-j/override", { token: OPERATOR, headers: json, body: JSON.stringify({ desired: 3, reason: "x" }) });
    expect(res.status).toBe(400);
  });

  it("rejects an override whose until has no offset", async () => {
    const override = { desired: 3, until: "2030-01-01T00:00:00", reason: "launch" };
    const { res } = await send("PUT", "/v1/groups/edge-j/override", { token: OPERATOR, headers: json, body: JSON.stringify(override) });
    expect(res.status).toBe(400);
  });

  it("rejects an override that ended already with 422", async () => {
    const override = { desired: 3, until: "2001-01-01T00:00:00Z", reason: "too late" };
    const { res, json: body } = await send("PUT", "/v1/groups/edge-j/override", { token: OPERATOR, headers: json, body: JSON.stringify(override) });
    expect(res.status).toBe(422);
    expect(body?.error.code).toBe("invalid_request");
  });

  it("rejects unknown fields in a pause body", async () => {
    const { res } = await send("POST", "/v1/groups/edge-k/pause", { token: OPERATOR, headers: json, body: JSON.stringify({ reason: "x", force: true }) });
    expect(res.status).toBe(400);
  });

  it("rejects a body on reconcile that is not JSON", async () => {
    const { res } = await send("POST", "/v1/groups/edge-k/reconcile", { token: OPERATOR, headers: { "Content-Type": "text/plain" }, body: "now" });
    expect(res.status).toBe(415);
  });

  it("does not reach the service on any rejected body", () => {
    expect(calls).toEqual([]);
  });
});

describe("names, queries and routing", () => {
  it("rejects a group name that cannot exist with 400 at params.name", async () => {
    const { res, json: body } = await send("GET", "/v1/groups/Not_Valid", { token: READER });
    expect(res.status).toBe(400);
    expect((body?.error.details as Array<{ path: string }>)[0]?.path).toBe("params.name");
  });

  it("rejects a timeline longer than the maximum", async () => {
    const { res } = await send("GET", "/v1/groups/edge-l/timeline?hours=100000", { token: READER });
    expect(res.status).toBe(400);
  });

  it("rejects an activity limit that is not a number", async () => {
    const { res, json: body } = await send("GET", "/v1/groups/edge-l/activity?limit=lots", { token: READER });
    expect(res.status).toBe(400);
    expect((body?.error.details as Array<{ path: string }>)[0]?.path).toBe("query.limit");
  });

  it("rejects a plan time that is not ISO-8601 with an offset", async () => {
    const { res } = await send("GET", "/v1/groups/edge-l/plan?at=tomorrow", { token: READER });
    expect(res.status).toBe(400);
  });

  it("rejects force values other than true/false on delete", async () => {
    const { res } = await send("DELETE", "/v1/groups/edge-l?force=yes", { token: ADMIN });
    expect(res.status).toBe(400);
  });

  it("answers 405 with Allow for a method the path does not have", async () => {
    const { res, json: body } = await send("POST", "/v1/groups/edge-m", { token: ADMIN, headers: json, body: "{}" });
    expect(res.status).toBe(405);
    expect(body?.error.code).toBe("method_not_allowed");
    expect(res.headers.get("Allow")).toBe("GET, HEAD, PUT, PATCH, DELETE");
  });

  it("answers 404 in the error shape for an unknown path outside /v1", async () => {
    const { res, json: body } = await send("GET", "/nope");
    expect(res.status).toBe(404);
    expect(body?.error.code).toBe("not_found");
  });

  it("answers /healthz without a token", async () => {
    const { res, text } = await send("GET", "/healthz");
    expect([res.status, JSON.parse(text)]).toEqual([200, { ok: true }]);
  });

  it("marks responses as not cacheable", async () => {
    const { res } = await send("GET", "/healthz");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });
});

describe("GET /openapi.json", () => {
  it("is served without a token as OpenAPI 3.1", async () => {
    const { res, text } = await send("GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect((JSON.parse(text) as { openapi: string }).openapi).toBe("3.1.0");
  });

  it("documents every route of the public contract", async () => {
    const doc = JSON.parse((await send("GET", "/openapi.json")).text) as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(routes).toEqual(
      expect.arrayContaining([
        "GET /healthz",
        "GET /v1/groups",
        "GET /v1/groups/{name}",
        "PUT /v1/groups/{name}",
        "DELETE /v1/groups/{name}",
        "PUT /v1/groups/{name}/override",
        "DELETE /v1/groups/{name}/override",
        "POST /v1/groups/{name}/pause",
        "POST /v1/groups/{name}/resume",
        "GET /v1/groups/{name}/plan",
        "POST /v1/groups/{name}/reconcile",
        "GET /v1/groups/{name}/timeline",
        "GET /v1/groups/{name}/activity",
        "GET /metrics",
        "POST /v1/groups/{name}/receivers",
        "GET /v1/groups/{name}/receivers",
        "DELETE /v1/groups/{name}/receivers/{id}",
        "POST /v1/signals/{id}",
      ]),
    );
  });

  it("documents signals in: POST /v1/signals/{id} without a token, its bodies, its 202 answer and its errors; the receivers' request and answer shapes", async () => {
    type Op = { security?: unknown[]; parameters?: Array<{ name: string; in: string }>; requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }; responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> };
    const doc = JSON.parse((await send("GET", "/openapi.json")).text) as { paths: Record<string, Record<string, Op>>; components: { schemas: Record<string, Record<string, unknown>> } };
    const resolve = (schema: Record<string, unknown> | undefined): Record<string, unknown> => {
      const ref = schema?.["$ref"];
      return typeof ref === "string" ? (doc.components.schemas[ref.replace("#/components/schemas/", "")] ?? {}) : (schema ?? {});
    };
    const signal = doc.paths["/v1/signals/{id}"]?.["post"];
    expect(signal?.security).toEqual([]);
    expect(signal?.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(["path:id", "header:Novascale-Signature"]);
    const bodies = resolve(signal?.requestBody?.content["application/json"]?.schema)["anyOf"] as Array<Record<string, unknown>>;
    expect(bodies.map((b) => Object.keys((resolve(b)["properties"] ?? {}) as object).sort())).toEqual([["key", "status"], ["alerts", "groupKey", "status", "version"], ["alarm_id", "current"]]);
    const accepted = resolve(signal?.responses["202"]?.content?.["application/json"]?.schema);
    expect(Object.keys(accepted["properties"] as object).sort()).toEqual(["accepted", "message", "outcome", "signal"]);
    expect(Object.keys(signal?.responses ?? {})).toEqual(expect.arrayContaining(["401", "404", "409", "413", "422", "429"]));

    const create = doc.paths["/v1/groups/{name}/receivers"]?.["post"];
    const created = resolve(create?.responses["201"]?.content?.["application/json"]?.schema);
    expect(Object.keys(created["properties"] as object).sort()).toEqual(["receiver", "secret", "url"]);
    const createBody = resolve(create?.requestBody?.content["application/json"]?.schema);
    expect(JSON.stringify(createBody)).toContain("durationMinutes");
    const revoke = doc.paths["/v1/groups/{name}/receivers/{id}"]?.["delete"];
    expect(revoke?.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(["path:name", "path:id"]);
  });

  it("describes the rules body with the schema that validates it (required fields, defaults)", async () => {
    const doc = JSON.parse((await send("GET", "/openapi.json")).text) as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[]; properties: Record<string, { default?: unknown }> } }> } }>>;
    };
    const schema = doc.paths["/v1/groups/{name}"]?.["put"]?.requestBody?.content["application/json"]?.schema;
    // image and flavor are required only for elastic groups (the schema says so in its refinement): max always.
    expect(schema?.required).toEqual(expect.arrayContaining(["max"]));
    expect(Object.keys(schema?.properties ?? {})).toEqual(expect.arrayContaining(["image", "flavor", "mode"]));
    expect(schema?.properties["min"]?.default).toBe(0);
  });

  it("keeps one component per schema: a suffixed twin exists only when its content differs", async () => {
    const doc = JSON.parse((await send("GET", "/openapi.json")).text) as { components: { schemas: Record<string, unknown> } };
    const schemas = doc.components.schemas;
    for (const [name, schema] of Object.entries(schemas)) {
      const base = name.replace(/(Input|Output)$/, "");
      if (base !== name && schemas[base] !== undefined) expect(JSON.stringify(schema), name).not.toBe(JSON.stringify(schemas[base]));
    }
  });

  it("leaves no reference dangling", async () => {
    const text = (await send("GET", "/openapi.json")).text;
    const doc = JSON.parse(text) as { components: { schemas: Record<string, unknown> } };
    const refs = [...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] ?? "");
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(doc.components.schemas, ref).toHaveProperty(ref);
  });
});

describe("errors thrown by the service", () => {
  /** A service whose every method fails with `error`: the API's mapping is what is tested here. */
  function failingWith(error: Error) {
    const service = new Proxy({} as GroupService, { get: () => () => Promise.reject(error) });
    return createApp({ service: () => service });
  }
  const read = { headers: { Authorization: `Bearer ${READER}` } };

  it("maps CloudUnavailableError to 503 cloud_unavailable, keeping its message", async () => {
    const res = await failingWith(new CloudUnavailableError("cannot list the group's servers: HTTP 502")).request("http://x/v1/groups/e1/plan", read, env);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect([res.status, body.error.code, body.error.message]).toEqual([503, "cloud_unavailable", "cannot list the group's servers: HTTP 502"]);
  });

  it("maps CorruptRecordError to 500 corrupt_record", async () => {
    const res = await failingWith(new CorruptRecordError("stored rules do not parse")).request("http://x/v1/groups/e2", read, env);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("corrupt_record");
  });

  it("passes a PreconditionFailedError's details (the current ETag) through", async () => {
    const app412 = failingWith(new PreconditionFailedError("changed", { etag: '"abc"' }));
    const res = await app412.request(
      "http://x/v1/groups/e3",
      { method: "PUT", headers: { Authorization: `Bearer ${ADMIN}`, "Content-Type": "application/json", "If-Match": '"old"' }, body: JSON.stringify({ image: "c", flavor: "f", max: 1 }) },
      env,
    );
    expect(res.status).toBe(412);
    expect(((await res.json()) as { error: { details: unknown } }).error.details).toEqual({ etag: '"abc"' });
  });

  it("hides the text of unexpected errors behind 500 internal", async () => {
    const res = await failingWith(new Error("boom at https://admin:hunter2@keystone.example")).request("http://x/v1/groups", read, env);
    const text = await res.text();
    expect(res.status).toBe(500);
    expect(JSON.parse(text)).toEqual({ error: { code: "internal", message: "internal error" } });
    expect(text).not.toContain("hunter2");
  });
});
