// Property: any malformed request to any mutating route gets a 4xx JSON error and leaves stored state exactly as it was.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { roleAtLeast, type Role } from "../../src/api/auth.ts";
import { DEFAULT_BODY_LIMIT_BYTES } from "../../src/api/body.ts";
import type { AnyRouteSpec } from "../../src/api/route.ts";
import { allRoutes } from "../../src/api/routes/index.ts";
import { GROUP_NAME_PATTERN } from "../../src/config/group.ts";
import { createGroup, rules, send, TOKENS, type ApiErrorBody } from "./support.ts";

const BASE = "prop-base";
const mutating = allRoutes.filter((r) => r.method !== "get");

/** Everything a request could change: the group list, and the base group's rules, override, pause, records, activity. */
async function storedState(): Promise<unknown> {
  const groups = await send<{ groups: unknown[] }>("GET", "/v1/groups", { as: "read" });
  const status = await send<Record<string, unknown>>("GET", `/v1/groups/${BASE}`, { as: "read" });
  const activity = await send<{ entries: unknown[] }>("GET", `/v1/groups/${BASE}/activity?limit=500`, { as: "read" });
  const { rules: r, etag, override, pause, bootBlock, lastTick, updatedAt, updatedBy } = status.body;
  return { groups: groups.body.groups, base: { r, etag, override, pause, bootBlock, lastTick, updatedAt, updatedBy }, activity: activity.body.entries };
}

type Defect =
  | { kind: "no-token" }
  | { kind: "bad-authorization"; header: string }
  | { kind: "low-role" }
  | { kind: "bad-name"; name: string }
  | { kind: "missing-group" }
  | { kind: "bad-content-type"; contentType: string; body: string }
  | { kind: "malformed-json"; body: string }
  | { kind: "invalid-body"; value: unknown }
  | { kind: "too-large" }
  | { kind: "bad-query"; force: string };

function lowerRole(role: Role): Role | undefined {
  return role === "admin" ? "operate" : role === "operate" ? "read" : undefined;
}

const printable = fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/=:;,!*'() ".split("")), maxLength: 60 });
const validTokens = new Set<string>(Object.values(TOKENS));

function defectsFor(route: AnyRouteSpec): fc.Arbitrary<Defect> {
  const options: Array<fc.Arbitrary<Defect>> = [
    fc.constant({ kind: "no-token" }),
    fc
      .oneof(printable.map((t) => `Bearer ${t}`), printable, printable.map((t) => `Basic ${t}`), fc.constant("Bearer"), fc.constant("Bearer  "))
      .filter((h) => ![...validTokens].some((t) => h.trim() === `Bearer ${t}`))
      .map((header) => ({ kind: "bad-authorization", header })),
  ];
  // Names only matter to routes with a {name} (POST /v1/notifications/test has none).
  const named = route.path.includes("{name}");
  if (named) {
    options.push(
      fc
        .string({ minLength: 1, maxLength: 80 })
        .filter((n) => !GROUP_NAME_PATTERN.test(n) && n !== "." && n !== "..")
        .map((name) => ({ kind: "bad-name", name })),
    );
  }
  if (lowerRole(route.role) !== undefined) options.push(fc.constant({ kind: "low-role" }));
  // A valid name of a group that does not exist: refused with 404 by every route but PUT (which would create it).
  if (named && !(route.method === "put" && route.path === "/v1/groups/{name}")) options.push(fc.constant({ kind: "missing-group" }));
  if (route.body !== undefined) {
    const body = route.body;
    options.push(
      fc
        .record({
          contentType: fc.constantFrom("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "json", "application/xml"),
          body: fc.json().filter((s) => s.length > 0),
        })
        .map(({ contentType, body: text }) => ({ kind: "bad-content-type", contentType, body: text })),
      fc
        .oneof(
          fc.json().map((s) => s.slice(0, Math.max(0, s.length - 1)) + "{"),
          fc.constantFrom("{", "[1,", "{'a':1}", "nul", '{"desired": 3,}', "\u0000"),
          fc.string({ minLength: 1 }).filter((s) => {
            try {
              JSON.parse(s);
              return false;
            } catch {
              return s.trim() !== "";
            }
          }),
        )
        .map((text) => ({ kind: "malformed-json", body: text })),
      fc
        .oneof(
          fc.jsonValue(),
          fc.dictionary(fc.constantFrom("desired", "until", "minutes", "reason", "image", "flavor", "min", "max", "schedules", "force"), fc.jsonValue()),
        )
        .filter((v) => !body.safeParse(v).success)
        .map((value) => ({ kind: "invalid-body", value })),
      fc.constant({ kind: "too-large" }),
    );
  }
  if (route.query !== undefined && route.method === "delete") {
    options.push(
      printable.filter((f) => !["true", "false", "1", "0", ""].includes(f)).map((force) => ({ kind: "bad-query", force })),
    );
  }
  return fc.oneof(...options);
}

/** Headers that should not matter to a refused request. */
const noiseHeaders = fc.dictionary(
  fc.constantFrom("If-Match", "If-None-Match", "X-Forwarded-For", "Accept", "X-Junk", "Origin"),
  printable,
  { maxKeys: 3 },
);

// Cases name their route ("PUT /v1/groups/{name}") so a counterexample prints short.
const byKey = new Map(mutating.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r]));
const cases = fc.constantFrom(...byKey.keys()).chain((key) => fc.record({ route: fc.constant(key), defect: defectsFor(byKey.get(key) as AnyRouteSpec), noise: noiseHeaders }));

function validBodyFor(route: AnyRouteSpec): unknown {
  if (route.path === "/v1/groups/{name}") return rules({ max: 9 });
  if (route.path.endsWith("/override")) return { desired: 2, minutes: 10, reason: "property test" };
  return {};
}

describe("malformed requests to mutating routes", () => {
  beforeAll(async () => {
    await createGroup(BASE, rules({ default: 1, schedules: [{ cron: "0 8 * * *", desired: 3 }] }));
    // An override and a pause in place, so a DELETE override or resume that slipped through would show.
    await send("PUT", `/v1/groups/${BASE}/override`, { as: "operate", json: { desired: 2, minutes: 600, reason: "held for the property test" } });
    await send("POST", `/v1/groups/${BASE}/pause`, { as: "operate", json: { reason: "held for the property test" } });
  });

  it("covers every mutating route of the API", () => {
    expect(mutating.map((r) => `${r.method.toUpperCase()} ${r.path}`)).toEqual(
      expect.arrayContaining([
        "PUT /v1/groups/{name}",
        "DELETE /v1/groups/{name}",
        "PUT /v1/groups/{name}/override",
        "DELETE /v1/groups/{name}/override",
        "POST /v1/groups/{name}/pause",
        "POST /v1/groups/{name}/resume",
        "POST /v1/groups/{name}/reconcile",
      ]),
    );
  });

  it("answers each with a 4xx JSON error and changes nothing", async () => {
    const initial = await storedState();
    let missingCounter = 0;
    await fc.assert(
      fc.asyncProperty(cases, async ({ route: key, defect, noise }) => {
        const route = byKey.get(key) as AnyRouteSpec;
        const headers: Record<string, string> = { ...noise };
        let as: Role | null = route.role;
        let name = BASE;
        let body: string | undefined;
        let query = "";
        if (route.body !== undefined) {
          body = JSON.stringify(validBodyFor(route));
          headers["Content-Type"] = "application/json";
        }
        switch (defect.kind) {
          case "no-token":
            as = null;
            break;
          case "bad-authorization":
            as = null;
            headers["Authorization"] = defect.header;
            break;
          case "low-role":
            as = lowerRole(route.role) ?? null;
            break;
          case "bad-name":
            name = encodeURIComponent(defect.name);
            break;
          case "missing-group":
            missingCounter += 1;
            name = `prop-missing-${missingCounter}`;
            break;
          case "bad-content-type":
            headers["Content-Type"] = defect.contentType;
            body = defect.body;
            break;
          case "malformed-json":
            body = defect.body;
            break;
          case "invalid-body":
            body = JSON.stringify(defect.value);
            break;
          case "too-large":
            body = JSON.stringify({ reason: "x".repeat(DEFAULT_BODY_LIMIT_BYTES) });
            break;
          case "bad-query":
            query = `?force=${encodeURIComponent(defect.force)}`;
            break;
        }
        if (as !== null && !roleAtLeast(as, "read")) as = null;
        const path = route.path.replace("{name}", name) + query;
        const res = await send<ApiErrorBody>(route.method.toUpperCase(), path, { as, headers, ...(body === undefined ? {} : { body }) });
        const what = `${route.method.toUpperCase()} ${path.slice(0, 80)} (${defect.kind}) -> ${res.status} ${res.text.slice(0, 200)}`;
        expect(res.status, what).toBeGreaterThanOrEqual(400);
        expect(res.status, what).toBeLessThan(500);
        expect(res.headers.get("Content-Type"), what).toMatch(/^application\/json/);
        expect(typeof res.body.error.code, what).toBe("string");
        expect(typeof res.body.error.message, what).toBe("string");
        expect(await storedState(), what).toEqual(initial);
      }),
      { numRuns: 120 },
    );
  });
});
