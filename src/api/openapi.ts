// /openapi.json: an OpenAPI 3.1 document built from the route specs and the very zod schemas that validate requests.
import { z } from "zod";
import { ErrorBodySchema } from "./errors.ts";
import { nameKind, type AnyRouteSpec } from "./route.ts";
import { GroupNameParamSchema, HealthSchema, ReadinessSchema } from "./schemas.ts";
import { SignalBodySchema } from "../config/signals.ts";
import { SIGNATURE_HEADER } from "../core/notify/signature.ts";
import { SignalAcceptedSchema } from "./routes/receivers.ts";

type JsonSchema = Record<string, unknown>;

const COMMON_ERRORS: Record<number, string> = {
  400: "malformed JSON, or validation failed (details: field paths)",
  401: "missing, malformed or unknown bearer token",
  403: "the token's role is not enough",
  404: "no such group or snapshot policy",
  405: "method not allowed on this path",
  409: "conflicts with the resource's state",
  412: "If-Match / If-None-Match did not hold",
  413: "request body too large",
  415: "request body is not JSON",
  422: "well-formed but not acceptable (PATCH: the merged rules are invalid; details: field paths)",
  428: "the request must be conditional: send If-Match with the ETag you read",
  503: "the cloud could not be reached, or auth is misconfigured",
};

/** Collects named ($defs) schemas into components; converts inline ones. Input and output forms may differ. */
class SchemaBook {
  readonly components: Record<string, JsonSchema> = {};

  convert(schema: z.ZodType, io: "input" | "output"): JsonSchema {
    const json = z.toJSONSchema(schema, { io, unrepresentable: "any", reused: "inline" }) as JsonSchema;
    const defs = (json["$defs"] ?? {}) as Record<string, JsonSchema>;
    delete json["$defs"];
    delete json["$schema"];
    const names = new Map<string, string>(Object.keys(defs).map((id) => [id, id]));
    const rewrite = (value: JsonSchema): JsonSchema =>
      JSON.parse(JSON.stringify(value).replace(/"#\/\$defs\/([^"]+)"/g, (_m, id: string) => JSON.stringify(`#/components/schemas/${names.get(id) ?? id}`)));
    // A name already taken by a different schema (e.g. the input form of one with defaults) gets a suffix.
    for (const [id, def] of Object.entries(defs)) {
      const existing = this.components[id];
      if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(rewrite(def))) names.set(id, `${id}${io === "input" ? "Input" : "Output"}`);
    }
    for (const [id, def] of Object.entries(defs)) this.components[names.get(id) ?? id] = rewrite(def);
    return rewrite(json);
  }
}

function queryParameters(book: SchemaBook, query: z.ZodType | undefined): JsonSchema[] {
  if (query === undefined) return [];
  const json = book.convert(query, "input");
  const properties = (json["properties"] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json["required"] ?? []) as string[]);
  return Object.entries(properties).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: "query", required: required.has(name), ...(description === undefined ? {} : { description }), schema: rest };
  });
}

export function buildOpenApi(specs: readonly AnyRouteSpec[], info: { version: string }): JsonSchema {
  const book = new SchemaBook();
  const errorSchema = book.convert(ErrorBodySchema, "output");
  const errorResponse = (description: string) => ({ description, content: { "application/json": { schema: errorSchema } } });
  const nameParam = { name: "name", in: "path", required: true, schema: book.convert(GroupNameParamSchema, "input") };
  const policyNameParam = { ...nameParam, description: "snapshot policy name (the same rules as group names)" };

  const paths: Record<string, Record<string, unknown>> = {
    "/healthz": {
      get: {
        summary: "Liveness (no auth)",
        tags: ["meta"],
        security: [],
        responses: { 200: { description: "alive", content: { "application/json": { schema: book.convert(HealthSchema, "output") } } } },
      },
    },
    "/readyz": {
      get: {
        summary: "Readiness (no auth): Keystone gives a token for the configured credentials and the rules registry answers",
        tags: ["meta"],
        security: [],
        responses: {
          200: { description: "ready", content: { "application/json": { schema: book.convert(ReadinessSchema, "output") } } },
          503: { description: "not ready: the failing check says why", content: { "application/json": { schema: book.convert(ReadinessSchema, "output") } } },
        },
      },
    },
    "/metrics": {
      get: {
        summary: "Prometheus text exposition (format 0.0.4) of what the ticks stored; a scrape makes no cloud call (docs/metrics.md)",
        tags: ["meta"],
        "x-required-role": "read",
        responses: {
          200: { description: "the metric families", content: { "text/plain; version=0.0.4": { schema: { type: "string" } } } },
          401: errorResponse(COMMON_ERRORS[401] ?? "error"),
          403: errorResponse(COMMON_ERRORS[403] ?? "error"),
        },
      },
    },
    "/v1/signals/{id}": {
      post: {
        operationId: "postSignal",
        summary: "Send a signal to a receiver (no API token: the receiver's signature or bearer secret authenticates it)",
        description:
          "Raises the receiver's group to at least its `desired` for its `durationMinutes` (a repeat extends), or ends signals (`status: resolved`, a clear receiver). " +
          "desired = clamp(max(schedule, live signals), min, max); an override wins; an expired signal falls back to the schedule. " +
          `Auth: \`${SIGNATURE_HEADER}: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>\` within ±5 min, each signature once; or \`Authorization: Bearer <secret>\` for a receiver made with auth "bearer". ` +
          "At most 20 accepted signals a minute per receiver. See docs/signals.md.",
        tags: ["signals"],
        security: [],
        parameters: [
          { name: "id", in: "path", required: true, description: "the receiver id, `<group>.<24 hex>` (the capability in its URL)", schema: { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,62}\\.[0-9a-f]{24}$" } },
          { name: SIGNATURE_HEADER, in: "header", required: false, description: "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>", schema: { type: "string" } },
        ],
        requestBody: { required: false, content: { "application/json": { schema: book.convert(SignalBodySchema, "input") } } },
        responses: {
          202: { description: "accepted: what the signal did", content: { "application/json": { schema: book.convert(SignalAcceptedSchema, "output") } } },
          400: errorResponse("the body could not be read, is not UTF-8 or not JSON"),
          401: errorResponse("signature_required, signature_malformed, signature_mismatch, signature_expired, or a wrong bearer secret"),
          404: errorResponse("no such receiver (the same answer for an unknown id, a revoked receiver or a deleted group)"),
          405: errorResponse(COMMON_ERRORS[405] ?? "error"),
          409: errorResponse("replayed (a signature seen before), or too_many_signals (100 live signals per group)"),
          413: errorResponse("body over 64 KiB"),
          422: errorResponse("invalid_signal: the body is JSON but none of the accepted shapes (details: field paths)"),
          429: { ...errorResponse("rate_limited: 20 signals a minute per receiver"), headers: { "Retry-After": { description: "seconds", schema: { type: "string" } } } },
        },
      },
    },
    "/openapi.json": {
      get: { summary: "This document (no auth)", tags: ["meta"], security: [], responses: { 200: { description: "OpenAPI 3.1" } } },
    },
  };

  for (const spec of specs) {
    const responses: Record<string, unknown> = {};
    for (const [status, doc] of Object.entries(spec.responses)) {
      responses[status] = {
        description: doc.description,
        ...(doc.headers === undefined
          ? {}
          : { headers: Object.fromEntries(Object.entries(doc.headers).map(([h, d]) => [h, { description: d, schema: { type: "string" } }])) }),
        ...(doc.schema === undefined ? {} : { content: { "application/json": { schema: book.convert(doc.schema, "output") } } }),
      };
    }
    const errorStatuses = new Set([400, 401, 403, ...(spec.errors ?? [])]);
    for (const status of [...errorStatuses].sort()) responses[String(status)] = errorResponse(COMMON_ERRORS[status] ?? "error");
    const isPolicy = nameKind(spec.path) === "policy";
    const operation: Record<string, unknown> = {
      operationId: `${spec.method}${spec.path.replace(/\{name\}/g, isPolicy ? "Policy" : "Group").replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? "").toUpperCase())}`,
      summary: spec.summary,
      ...(spec.description === undefined ? {} : { description: spec.description }),
      tags: [spec.tag],
      "x-required-role": spec.role,
      parameters: [
        ...(spec.path.includes("{name}") ? [isPolicy ? policyNameParam : nameParam] : []),
        // Any other path parameter ({id} of a receiver): a string, named as in the path.
        ...[...spec.path.matchAll(/\{([A-Za-z]+)\}/g)].flatMap(([, p]) => (p === "name" || p === undefined ? [] : [{ name: p, in: "path", required: true, schema: { type: "string" } }])),
        ...queryParameters(book, spec.query),
      ],
      ...(spec.body === undefined
        ? {}
        : { requestBody: { required: spec.bodyOptional !== true, content: { [spec.mediaType ?? "application/json"]: { schema: book.convert(spec.body, "input") } } } }),
      responses,
    };
    paths[spec.path] = { ...(paths[spec.path] ?? {}), [spec.method]: operation };
  }

  return {
    openapi: "3.1.0",
    info: {
      title: "novascale",
      version: info.version,
      description:
        "Time-based autoscaling for OpenStack. Bearer tokens with roles: read < operate (overrides, pause, reconcile, snapshots) < admin (rules). " +
        "Errors: `{ error: { code, message, details? } }`.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    paths,
    components: { schemas: book.components, securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
  };
}
