// The group's recorded history (desired and actual over time, for charts) and who the caller is (for the dashboard).
import { defineRoute, type AnyRouteSpec } from "../route.ts";
import { HistoryQuerySchema, HistorySchema, WhoAmISchema } from "../schemas.ts";

export const historyRoutes: AnyRouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/v1/groups/{name}/history",
    tag: "operations",
    summary: "Desired and actual servers over the past hours, a point per change",
    description:
      "Recorded by the group's Durable Object when a tick sees a different desired count or different servers by state " +
      "(a steady tick records nothing). Kept 14 days: every change for 6 h, then one point per 5 min, then per 30 min.",
    role: "read",
    query: HistoryQuerySchema,
    errors: [404],
    responses: { 200: { description: "points, oldest first", schema: HistorySchema } },
    async handle(c, { name, query, service, now }) {
      const from = new Date(now.getTime() - query.hours * 3_600_000);
      const points = await service.history(name, from);
      return c.json({
        from: from.toISOString(),
        hours: query.hours,
        points: points.map((p) => ({ at: new Date(p.at).toISOString(), desired: p.desired, actual: p.actual })),
      });
    },
  }),
  defineRoute({
    method: "get",
    path: "/v1/whoami",
    tag: "meta",
    summary: "The calling token's name and role",
    description: "Lets a client (the dashboard) offer only what the token may do.",
    role: "read",
    responses: { 200: { description: "name and role", schema: WhoAmISchema } },
    handle(c, { caller }) {
      return c.json({ name: caller.name, role: caller.role });
    },
  }),
];
