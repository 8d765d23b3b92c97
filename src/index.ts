// Composition root: wires the HTTP API, the cron handler and the Durable Objects (groups, policies, registry, notifier) together.
import { createApp } from "./api/app.ts";
import type { Env } from "./config/env.ts";
import { createGroupService } from "./reconcile/services/group-service.ts";
import { createPolicyService } from "./reconcile/services/policy-service.ts";
import { collectMetrics } from "./reconcile/services/metrics.ts";
import { checkReadiness } from "./reconcile/services/readiness.ts";
import { runTick } from "./reconcile/tick/tick.ts";

export { GroupCoordinator } from "./reconcile/groups/coordinator.ts";
export { PolicyCoordinator } from "./reconcile/policies/policy-coordinator.ts";
export { RulesRegistry } from "./reconcile/registry/registry.ts";
export { Notifier } from "./reconcile/notify/notifier.ts";

const app = createApp({ service: (env) => createGroupService(env), policies: (env) => createPolicyService(env), ready: checkReadiness, metrics: collectMetrics });

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    return app.fetch(request, env, ctx);
  },
  async scheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
    // The tick's `now` is the scheduled time, not the clock: a late or repeated invocation plans the same.
    await runTick(env, new Date(controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
