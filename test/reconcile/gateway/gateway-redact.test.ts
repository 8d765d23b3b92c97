// Every gateway call's error passes the same last gate: the cloud's secrets masked, the tick's request id attached.
import { describe, expect, it } from "vitest";
import type { ComputeCloud } from "../../../src/openstack/cloud.ts";
import { CloudGateway, type Outcome } from "../../../src/reconcile/gateway/gateway.ts";

const SECRET = "hunter2-very-secret";

/** A cloud whose every call fails with a message that carries the secret (as a careless error text could). */
function leakyCloud(): ComputeCloud {
  const fail = async (): Promise<never> => {
    throw new Error(`refused for password ${SECRET}`);
  };
  const cloud = { requestId: "req-novascale-tick-1", redact: (text: string) => text.replaceAll(SECRET, "***") };
  return new Proxy(cloud, { get: (target, key) => (key in target ? target[key as keyof typeof target] : fail) }) as unknown as ComputeCloud;
}

describe("gateway errors", () => {
  const calls: Array<[string, (g: CloudGateway) => Promise<Outcome<unknown>>]> = [
    ["listServers", (g) => g.listServers()],
    ["serverAction", (g) => g.serverAction("s1", "shelve")],
    ["mergeServerMetadata", (g) => g.mergeServerMetadata("s1", { k: "v" })],
    ["deleteServerMetadataItem", (g) => g.deleteServerMetadataItem("s1", "k")],
  ];
  for (const [name, call] of calls) {
    it(`${name}: the secret is masked and the tick's request id is attached`, async () => {
      const outcome = await call(new CloudGateway(leakyCloud()));
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      expect(outcome.error.message).not.toContain(SECRET);
      expect(outcome.error.tickRequestId).toBe("req-novascale-tick-1");
    });
  }
});
