// Routes as data: one spec gives the path, role, body/query schemas and docs; mounting and /openapi.json both read it.
import type { Context, Hono } from "hono";
import type { z } from "zod";
import { GroupNameSchema } from "../config/group.ts";
import type { PolicyService } from "../reconcile/services/policy-service.ts";
import { ServiceError, type GroupService } from "../reconcile/shared/service.ts";
import { requireRole, type Caller, type Role } from "./auth.ts";
import { readJsonBody, readQuery } from "./body.ts";
import type { ApiEnv } from "./context.ts";
import { ApiError, validationError } from "./errors.ts";

export type Method = "get" | "put" | "patch" | "post" | "delete";

export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
  /** Response headers worth documenting, name -> description. */
  headers?: Record<string, string>;
}

/** What a handler gets: validated input, the caller, the service and the request's `now`. */
export interface RouteInput<B, Q> {
  /** The `{name}` path parameter, validated as a group name ("" on routes without one). */
  name: string;
  params: Record<string, string>;
  body: B;
  query: Q;
  caller: Caller;
  service: GroupService;
  /** Snapshot policies (/v1/snapshot-policies). */
  policies: PolicyService;
  now: Date;
}

export interface RouteSpec<B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined> {
  method: Method;
  /** OpenAPI style: `/v1/groups/{name}/override`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** The least role that may call it. Every spec is under /v1 and authenticated. */
  role: Role;
  body?: B;
  /** An absent body reads as `{}` (POST actions whose fields are all optional). */
  bodyOptional?: boolean;
  /** The one media type the body must be sent as (415 otherwise); absent: any JSON type. */
  mediaType?: string;
  /** A larger body limit than the default (96 KiB), e.g. group rules that carry pasted calendars. */
  bodyLimitBytes?: number;
  query?: Q;
  /** Success responses by status. */
  responses: Record<number, ResponseDoc>;
  /** Error statuses this route can answer besides the common ones (400, 401, 403). */
  errors?: number[];
  handle(c: Context<ApiEnv>, input: RouteInput<z.output<B>, z.output<Q>>): Promise<Response> | Response;
}

// The mount and the docs only read specs, so the body/query types can be forgotten here.
export type AnyRouteSpec = RouteSpec<any, any>;

/** A conditional write's preconditions from the request headers (absent ones left out). */
export function writeConditions(c: Context<ApiEnv>): { ifMatch?: string; ifNoneMatch?: string } {
  const ifMatch = c.req.header("If-Match");
  const ifNoneMatch = c.req.header("If-None-Match");
  return { ...(ifMatch === undefined ? {} : { ifMatch }), ...(ifNoneMatch === undefined ? {} : { ifNoneMatch }) };
}

/** Keeps a spec's body and query types attached to its handler. */
export function defineRoute<B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined>(spec: RouteSpec<B, Q>): AnyRouteSpec {
  return spec as AnyRouteSpec;
}

/** The policy service of an app built without one: every call answers 503. */
const NO_POLICIES = new Proxy({} as PolicyService, {
  get: () => () => Promise.reject(new ServiceError("cloud_unavailable", 503, "snapshot policies are not wired into this app")),
});

function honoPath(path: string): string {
  return path.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ":$1");
}

export interface MountOptions {
  service: (env: ApiEnv["Bindings"]) => GroupService;
  /** Absent in apps built without policies (some tests): their routes answer 503. */
  policies?: ((env: ApiEnv["Bindings"]) => PolicyService) | undefined;
  now: () => Date;
}

/** Registers every spec, plus a 405 with `Allow` for the other methods on each path. */
export function mountRoutes(app: Hono<ApiEnv>, specs: readonly AnyRouteSpec[], options: MountOptions): void {
  const methodsByPath = new Map<string, Method[]>();
  for (const spec of specs) {
    methodsByPath.set(spec.path, [...(methodsByPath.get(spec.path) ?? []), spec.method]);
    const usesName = spec.path.includes("{name}");
    app.on(spec.method.toUpperCase(), honoPath(spec.path), requireRole(spec.role), async function routeHandler(c) {
      const params = c.req.param() as Record<string, string>;
      let name = "";
      if (usesName) {
        const parsed = GroupNameSchema.safeParse(params["name"]);
        if (!parsed.success) throw validationError(`${nameKind(spec.path)} name`, parsed.error, ["params", "name"]);
        name = parsed.data;
      }
      const query = spec.query === undefined ? undefined : readQuery(c, spec.query);
      const body = spec.body === undefined ? undefined : await readJsonBody(c, spec.body, { optional: spec.bodyOptional === true, ...(spec.mediaType === undefined ? {} : { mediaType: spec.mediaType }), ...(spec.bodyLimitBytes === undefined ? {} : { limit: spec.bodyLimitBytes }) });
      return spec.handle(c, { name, params, body, query, caller: c.get("caller"), service: options.service(c.env), policies: options.policies?.(c.env) ?? NO_POLICIES, now: options.now() });
    });
  }
  for (const [path, methods] of methodsByPath) {
    const allow = [...new Set(methods.flatMap((m) => (m === "get" ? ["GET", "HEAD"] : [m.toUpperCase()])))].join(", ");
    app.all(honoPath(path), function methodNotAllowed() {
      throw new ApiError(405, "method_not_allowed", `allowed methods: ${allow}`, { allow: allow.split(", ") }, { Allow: allow });
    });
  }
}

/** What `{name}` in a route's path names: a snapshot policy or a group (error messages and OpenAPI ids say which). */
export function nameKind(path: string): "policy" | "group" {
  return path.startsWith("/v1/snapshot-policies") ? "policy" : "group";
}
