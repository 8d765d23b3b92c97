// What a group is told to do and has, for the dashboard and operators: a rules preview (any rules, before saving), the members, server-hours.
import { GroupRulesSchema } from "../../config/group.ts";
import { isProtected } from "../../core/model/membership.ts";
import type { ObservedServer } from "../../core/model/types.ts";
import { parkMarkOf } from "../../core/scaling/parking.ts";
import { flavorDrift, flavorLabel, flavorPreferences, flavorWhy, type FlavorMark } from "../../core/scaling/flavors.ts";
import type { ResourceRef } from "../../core/model/rules.ts";
import type { MembersListing } from "../../reconcile/shared/service.ts";
import { serverHours } from "../../core/scaling/server-hours.ts";
import { ruleOccurrences } from "../../core/schedule/occurrences.ts";
import { changePoints } from "../../core/schedule/timeline.ts";
import { defineRoute, type AnyRouteSpec } from "../route.ts";
import { MembersSchema, PreviewQuerySchema, RulesPreviewSchema, ServerHoursSchema } from "../view-schemas.ts";

const TAG = "views";
const DAY_MS = 86_400_000;

/** The server's page in the cloud's own dashboard: NOVASCALE_SERVER_LINK with `{id}` (and `{name}`) filled in, or null. */
export function serverLink(template: string | undefined, server: Pick<ObservedServer, "id" | "name">): string | null {
  if (template === undefined || template.trim() === "" || !/^https?:\/\//.test(template.trim())) return null;
  return template.trim().replaceAll("{id}", encodeURIComponent(server.id)).replaceAll("{name}", encodeURIComponent(server.name));
}

/** What the member view needs to say which flavor a member runs and why. */
interface FlavorContext {
  preferences: ResourceRef[];
  /** Preference label -> resolved id (a listing before 2.47 gives servers' flavors by id only). */
  ids: Record<string, string>;
  /** Resolved id -> name, for a flavor the rules no longer name. */
  names: Record<string, string>;
  marks: FlavorMark[];
  now: Date;
  /** The group has a rolling refresh: the only thing that moves a member off a fallback. */
  refreshes: boolean;
}

function flavorContext(listing: MembersListing, preferences: ResourceRef[], now: Date, refreshes: boolean): FlavorContext {
  const ids: Record<string, string> = {};
  const names: Record<string, string> = {};
  listing.flavors.forEach((r, i) => {
    const ref = preferences[i];
    if (ref === undefined || !("id" in r)) return;
    ids[flavorLabel(ref)] = r.id;
    names[r.id] = r.name;
  });
  return { preferences, ids, names, marks: listing.flavorMarks, now, refreshes };
}

function memberFlavor(server: ObservedServer, context: FlavorContext) {
  const drift = flavorDrift(server, context.preferences, context.ids);
  const flavor = drift.why === "not-in-rules" && server.flavorName === undefined && server.flavorId !== undefined ? (context.names[server.flavorId] ?? drift.flavor) : drift.flavor;
  return { flavor, flavorWhy: drift.why, flavorReason: flavorWhy({ ...drift, flavor }, context.preferences, context.marks, context.now, context.refreshes) };
}

function memberView(server: ObservedServer, linkTemplate: string | undefined, flavors: FlavorContext) {
  return {
    id: server.id,
    name: server.name,
    status: server.status,
    taskState: server.taskState ?? null,
    created: server.created,
    addresses: server.addresses ?? [],
    imageId: server.imageId ?? null,
    ...memberFlavor(server, flavors),
    protected: isProtected(server),
    parkedSince: parkMarkOf(server)?.at.toISOString() ?? null,
    fault: server.fault?.message ?? null,
    link: serverLink(linkTemplate, server),
  };
}

export const viewRoutes: AnyRouteSpec[] = [
  defineRoute({
    method: "post",
    path: "/v1/groups/{name}/preview",
    tag: TAG,
    summary: "Validate rules and preview them: desired counts ahead and each rule's next occurrences",
    description:
      "Takes a rules document (the PUT body; the group need not exist) and validates it with the same schema as PUT: " +
      "errors name the field (400, `details[].path`), nothing is stored. Answers the desired count the rules alone would " +
      "give over the next `hours` (no override, no pause) as change points, and each schedule entry's next firings or " +
      "window openings and each exception's next days with their holiday names.",
    role: "read",
    body: GroupRulesSchema,
    query: PreviewQuerySchema,
    errors: [413, 415],
    responses: { 200: { description: "the rules' timeline and occurrences", schema: RulesPreviewSchema } },
    handle(c, { body, query, now }) {
      const { points, truncated, through } = changePoints(body, undefined, now, query.hours);
      return c.json({ from: now.toISOString(), hours: query.hours, points, truncated, through, occurrences: ruleOccurrences(body, now, query.count) });
    },
  }),
  defineRoute({
    method: "get",
    path: "/v1/groups/{name}/members",
    tag: TAG,
    summary: "The group's servers now, and what its image and flavor resolve to",
    description:
      "Lists the project's servers live (one listing, all pages) and keeps those tagged with the group. Per server: " +
      "status, task, creation time, addresses, its flavor and why (the preferred one, a fallback while the preferred " +
      "had no room or hit quota, or one the rules no longer name), protection, since when it is parked, Nova's fault, and a link to the " +
      "cloud's own dashboard when `NOVASCALE_SERVER_LINK` is set. A failed listing answers 200 with `servers: null` and the error.",
    role: "read",
    errors: [404],
    responses: { 200: { description: "members, image and flavor", schema: MembersSchema } },
    async handle(c, { name, service, now }) {
      const [listing, group] = await Promise.all([service.members(name), service.getGroup(name)]);
      const template = (c.env as { NOVASCALE_SERVER_LINK?: string } | undefined)?.NOVASCALE_SERVER_LINK;
      const flavors = flavorContext(listing, flavorPreferences(group?.rules.flavor), now, group?.rules.refresh !== undefined);
      return c.json({ ...listing, servers: listing.servers === null ? null : listing.servers.map((s) => memberView(s, template, flavors)) });
    },
  }),
  defineRoute({
    method: "get",
    path: "/v1/groups/{name}/server-hours",
    tag: TAG,
    summary: "Server-hours run and saved over the last 7 and 30 days",
    description:
      "From the group's recorded history (a point per change of desired or of servers by state, kept 31 days and thinned " +
      "to one point per 30 min past 2 days): `run` integrates the servers in a running state (not SHUTOFF, SHELVED, " +
      "SHELVED_OFFLOADED, SUSPENDED, PAUSED, DELETED), `saved` is the current `max` times the hours covered minus `run`. " +
      "Time before the first recorded tick is not counted (`coveredHours`). No cloud call.",
    role: "read",
    errors: [404],
    responses: { 200: { description: "server-hours by span", schema: ServerHoursSchema } },
    async handle(c, { name, service, now }) {
      const to = now.getTime();
      const [group, points] = await Promise.all([service.getGroup(name), service.history(name, new Date(to - 30 * DAY_MS))]);
      const max = group?.rules.max ?? 0;
      return c.json({
        at: now.toISOString(),
        max,
        last7Days: serverHours(points, to - 7 * DAY_MS, to, max),
        last30Days: serverHours(points, to - 30 * DAY_MS, to, max),
      });
    },
  }),
];
