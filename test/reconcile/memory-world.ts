// The in-memory cloud, a group service and a tick that share one clock: each tick moves the cloud's and the service's clock to its time.
import { env } from "cloudflare:workers";
import { createGroupService } from "../../src/reconcile/services/group-service.ts";
import { runTick } from "../../src/reconcile/tick/tick.ts";
import { MemoryCloud } from "./memory-cloud.ts";

export function memoryWorld(now: string) {
  const cloud = new MemoryCloud();
  let clock = new Date(now);
  const service = createGroupService(env, { cloudFactory: () => cloud, clock: () => clock });
  const tick = (at: string) => {
    cloud.clock = new Date(at);
    clock = new Date(at);
    return runTick(env, new Date(at), { cloudFactory: () => cloud });
  };
  return { cloud, service, tick };
}
