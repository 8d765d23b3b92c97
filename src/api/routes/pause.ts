// POST .../pause and .../resume for a resource with an operator pause (groups, snapshot policies): one spec, two services.
import { defineRoute, type AnyRouteSpec, type RouteInput } from "../route.ts";
import { EmptyRequestSchema, PauseRequestSchema, PauseStateSchema, ResumeResultSchema } from "../schemas.ts";

export interface PauseRoutesOptions {
  /** e.g. "/v1/groups/{name}". */
  base: string;
  tag: string;
  /** What a pause stops, for the summary: "no boots, no deletes". */
  stops: string;
  pause(input: RouteInput<unknown, unknown>, reason: string | undefined): Promise<unknown>;
  resume(input: RouteInput<unknown, unknown>): Promise<{ resumed: boolean }>;
}

export function pauseRoutes(o: PauseRoutesOptions): AnyRouteSpec[] {
  return [
    defineRoute({
      method: "post",
      path: `${o.base}/pause`,
      tag: o.tag,
      summary: `Pause: ${o.stops} until resumed`,
      role: "operate",
      body: PauseRequestSchema,
      bodyOptional: true,
      errors: [404, 413, 415],
      responses: { 200: { description: "the pause", schema: PauseStateSchema } },
      async handle(c, input) {
        return c.json(await o.pause(input, input.body.reason));
      },
    }),
    defineRoute({
      method: "post",
      path: `${o.base}/resume`,
      tag: o.tag,
      summary: "Resume after an operator pause",
      description: "A pause written in the rules (`paused: true`) stays until the rules change.",
      role: "operate",
      body: EmptyRequestSchema,
      bodyOptional: true,
      errors: [404, 413, 415],
      responses: { 200: { description: "`resumed: false` when it was not paused by an operator", schema: ResumeResultSchema } },
      async handle(c, input) {
        return c.json(await o.resume(input));
      },
    }),
  ];
}
