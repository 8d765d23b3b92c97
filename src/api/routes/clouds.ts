// GET /v1/clouds: each configured cloud-region (settings without secrets), what the last ticks saw of it, and the groups and policies on it.
import { z } from "zod";
import { readClouds } from "../../reconcile/services/cloud-status.ts";
import { defineRoute, type AnyRouteSpec } from "../route.ts";

const TAG = "clouds";

const CloudViewSchema = z.object({
  name: z.string(),
  region: z.string().nullable().meta({ description: "null: the cloud names no region (the catalog's first endpoint of each service)" }),
  source: z.enum(["NOVASCALE_CLOUDS", "OS_*", "rules"]).meta({ description: "rules: named by a group or policy but not configured" }),
  authUrl: z.string().optional().meta({ description: "Keystone, without user info or query" }),
  identityVersion: z.enum(["3", "2.0"]).optional(),
  interface: z.string().optional(),
  authKind: z.string().optional(),
  problem: z.string().optional().meta({ description: "why the cloud cannot be used (names the field, never a value)" }),
  notes: z.array(z.string()),
  state: z.enum(["up", "down", "unknown"]).meta({ description: "the last tick's listing: complete (up), failed (down), none yet (unknown)" }),
  seenAt: z.string().optional().meta({ description: "the last tick that listed it: the facts below are as of then" }),
  servers: z.number().optional(),
  tokenExpiresAt: z.string().optional(),
  discovery: z
    .object({ computeEndpoint: z.string().optional(), imageEndpoint: z.string().optional(), computeMicroversion: z.string().optional(), fallback: z.string().optional(), images: z.string().optional() })
    .optional(),
  limits: z.object({ at: z.string(), value: z.record(z.string(), z.number().nullable()) }).optional().meta({ description: "Nova's absolute limits as last read (a tick reads them only when a group boots)" }),
  lastError: z.object({ at: z.string(), operation: z.string(), category: z.string(), message: z.string() }).optional(),
  lastSuccessAt: z.string().optional(),
  groups: z.array(z.string()),
  policies: z.array(z.string()),
});

export const cloudRoutes: AnyRouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/v1/clouds",
    tag: TAG,
    summary: "Each cloud-region: settings (no secrets), token expiry, discovery, limits, last error and success, its groups and policies",
    description:
      "Served from what the last cron ticks recorded (no cloud call: `seenAt` says when), the clouds' settings " +
      "(NOVASCALE_CLOUDS and OS_* as `default`) and the rules index. A cloud-region no tick has listed yet is `unknown`.",
    role: "read",
    responses: { 200: { description: "every cloud-region, sorted by cloud then region", schema: z.object({ clouds: z.array(CloudViewSchema), tickAt: z.string().nullable() }) } },
    async handle(c) {
      return c.json(await readClouds(c.env));
    },
  }),
];
