// Composition root: wires the HTTP API, the cron handler and the per-group Durable Object together.
import type { Env } from "./config/env.ts";

export default {
  async fetch(request: Request, _env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return Response.json({ ok: true });
    return Response.json({ error: { code: "not_found", message: "no such route" } }, { status: 404 });
  },
  async scheduled(_controller: ScheduledController, _env: Env, _ctx: ExecutionContext): Promise<void> {},
} satisfies ExportedHandler<Env>;

export class GroupCoordinator implements DurableObject {
  constructor(_state: DurableObjectState, _env: Env) {}
  async fetch(): Promise<Response> {
    return new Response("not implemented", { status: 501 });
  }
}
