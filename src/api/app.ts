// The HTTP API as a Hono app: /healthz, /readyz, /metrics, /openapi.json, and the authenticated /v1 routes over the GroupService.
import { Hono } from "hono";
import type { Env } from "../config/env.ts";
import type { Readiness } from "../reconcile/services/readiness.ts";
import type { PolicyService } from "../reconcile/services/policy-service.ts";
import type { GroupService } from "../reconcile/shared/service.ts";
import { bearerAuth, requireRole, type BearerAuthOptions } from "./auth.ts";
import type { ApiEnv } from "./context.ts";
import { errorResponse, onApiError, onNotFound } from "./errors.ts";
import { buildOpenApi } from "./openapi.ts";
import { mountRoutes, type AnyRouteSpec } from "./route.ts";
import { allRoutes } from "./routes/index.ts";
import { mountSignalEndpoint } from "./routes/receivers.ts";

export const API_VERSION = "1.0.0";

export interface ApiDeps {
  /** The application service for this request's environment (the composition root passes createGroupService). */
  service: (env: Env) => GroupService;
  /** Snapshot policies (the composition root passes createPolicyService); without it their routes answer 503. */
  policies?: (env: Env) => PolicyService;
  /** GET /readyz (the composition root passes checkReadiness); without it the route is not mounted. */
  ready?: (env: Env) => Promise<Readiness>;
  /** GET /metrics, Prometheus text (the composition root passes collectMetrics); without it the route is not mounted. */
  metrics?: (env: Env) => Promise<string>;
  /** The request's `now`; defaults to the clock. */
  now?: () => Date;
  /** Where the tokens come from; defaults to NOVASCALE_TOKENS and NOVASCALE_TOKEN. */
  tokens?: BearerAuthOptions["tokens"];
  /** The /v1 routes; defaults to all of them. */
  routes?: readonly AnyRouteSpec[];
}

export function createApp(deps: ApiDeps): Hono<ApiEnv> {
  const routes = deps.routes ?? allRoutes;
  const app = new Hono<ApiEnv>();
  app.onError(onApiError);
  app.notFound(onNotFound);

  app.use("*", async function noStoreHeaders(c, next) {
    await next();
    c.res.headers.set("Cache-Control", "no-store");
    c.res.headers.set("X-Content-Type-Options", "nosniff");
  });

  app.get("/healthz", (c) => c.json({ ok: true as const }));
  const ready = deps.ready;
  if (ready !== undefined) {
    app.get("/readyz", async (c) => {
      const readiness = await ready(c.env);
      return c.json(readiness, readiness.ready ? 200 : 503);
    });
  }

  // Static assets (the dashboard) answer `/` before the Worker runs; this is reached only when it was not built.
  app.get("/", (c) =>
    errorResponse(c, 404, "dashboard_not_built", "the dashboard is not built: run `npm run build:dashboard` (npm start, npm test and npm run deploy do it)"),
  );

  let openapi: Record<string, unknown> | undefined;
  app.get("/openapi.json", (c) => {
    openapi ??= buildOpenApi(routes, { version: API_VERSION });
    return c.json(openapi);
  });

  const metrics = deps.metrics;
  if (metrics !== undefined) {
    // A scrape needs a token of the read role (Prometheus: `authorization: {credentials: <token>}`).
    app.get("/metrics", bearerAuth(deps.tokens === undefined ? {} : { tokens: deps.tokens }), requireRole("read"), async (c) =>
      c.body(await metrics(c.env), 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }),
    );
  }

  // Signals carry no API token: the receiver authenticates them (signature or its own secret), so this comes first.
  mountSignalEndpoint(app, deps.now ?? (() => new Date()));
  app.use("/v1/*", bearerAuth(deps.tokens === undefined ? {} : { tokens: deps.tokens }));
  mountRoutes(app, routes, { service: deps.service, policies: deps.policies, now: deps.now ?? (() => new Date()) });
  return app;
}
