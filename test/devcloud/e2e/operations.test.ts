// End to end on the real cloud: an operator's day through the Worker's API (dry run, override, apply now, pause), checked on Nova.
import { describe, expect, it } from "vitest";
import { testName, waitFor, type NovaServer } from "../support/devcloud.ts";
import { useE2eWorker } from "../support/e2e.ts";

const GROUP_KEY = "novascale:group";
const PROTECTED_KEY = "novascale:protected";
const group = testName("ops");
/** A server of the project that belongs to no group: novascale must never touch it. */
let strangerId: string;
/** A member the operator protected: it counts, but is never a scale-in victim. */
let protectedId: string;

const e2e = useE2eWorker({
  tokenName: "e2e-operator",
  groups: () => [group],
  beforeStart: async () => {
    [strangerId, protectedId] = await Promise.all([
      bootDirectly(`${group}-stranger`, { owner: "someone else" }),
      bootDirectly(`${group}-protected`, { [GROUP_KEY]: group, [PROTECTED_KEY]: "true" }),
    ]);
  },
});
const { api, apiJson } = e2e;

async function members(): Promise<NovaServer[]> {
  return e2e.cloud.liveServersWithMetadata(GROUP_KEY, group);
}

async function expectActiveMembers(count: number): Promise<NovaServer[]> {
  try {
    return await waitFor(`${count} ACTIVE servers in ${group}`, async () => {
      const now = await members();
      return now.length === count && now.every((s) => s.status === "ACTIVE") ? now : undefined;
    }, 60_000);
  } catch (e) {
    const onNova = (await members()).map((s) => `${s.name} ${s.status}`).join(", ") || "none";
    throw new Error(`${(e as Error).message}\non Nova: ${onNova}\nworker output (tail):\n${e2e.worker?.output().slice(-3000)}`);
  }
}

/** Boots a server directly on Nova (not through novascale) and waits until it is ACTIVE. */
function bootDirectly(name: string, metadata: Record<string, string>): Promise<string> {
  return e2e.cloud.bootActive(name, metadata);
}

describe("operating a group on the real cloud through the API", () => {
  it("dry run, override + apply now, override cleared, pause: Nova follows, the protected member and the stranger survive", async () => {
    const put = await api(`/v1/groups/${group}`, {
      method: "PUT",
      body: JSON.stringify({ image: "cirros-fake", flavor: "m1.tiny", min: 0, max: 4, default: 2, networks: "none", namePrefix: group }),
    });
    expect(put.status, await put.clone().text()).toBe(201);

    // Dry run: the plan wants one more server (the protected member counts) and Nova is left as it is.
    const plan = (await apiJson(`/v1/groups/${group}/plan`)) as { steps: Array<{ kind: string; count?: number }> };
    expect(plan.steps.filter((s) => s.kind === "boot").reduce((n, s) => n + (s.count ?? 0), 0)).toBe(1);
    expect((await members()).map((s) => s.id)).toEqual([protectedId]);

    // Override to 3 and apply now (no cron tick): two boots.
    await apiJson(`/v1/groups/${group}/override`, { method: "PUT", body: JSON.stringify({ desired: 3, minutes: 30, reason: "launch" }) });
    await apiJson(`/v1/groups/${group}/reconcile`, { method: "POST" });
    const three = await expectActiveMembers(3);
    expect(three.map((s) => s.id)).toContain(protectedId);

    // Clear the override: back to the default of 2, and the victim is not the protected member.
    await apiJson(`/v1/groups/${group}/override`, { method: "DELETE" });
    await apiJson(`/v1/groups/${group}/reconcile`, { method: "POST" });
    const two = await expectActiveMembers(2);
    expect(two.map((s) => s.id)).toContain(protectedId);

    // Paused: an override to 0 applied now changes nothing on Nova.
    await apiJson(`/v1/groups/${group}/pause`, { method: "POST", body: JSON.stringify({ reason: "incident" }) });
    await apiJson(`/v1/groups/${group}/override`, { method: "PUT", body: JSON.stringify({ desired: 0, minutes: 30, reason: "drain" }) });
    await apiJson(`/v1/groups/${group}/reconcile`, { method: "POST" });
    expect((await members()).map((s) => s.id).sort()).toEqual(two.map((s) => s.id).sort());

    // The server outside the group was never touched.
    const stranger = await e2e.cloud.server(strangerId);
    expect(stranger?.status).toBe("ACTIVE");
    expect(stranger?.metadata).toEqual({ owner: "someone else" });
  });
});
