// End to end on the real cloud: a server Nova puts in ERROR (no valid host for its flavor) leaves Nova's fault message in the activity log before it is deleted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Devcloud, testName, waitFor, type NovaServer } from "../support/devcloud.ts";
import { useE2eWorker } from "../support/e2e.ts";
import { adminUser } from "../support/identity.ts";

const GROUP_KEY = "novascale:group";
const group = testName("fault");
/**
 * A flavor no host can take: the fake virt host reports 600,000 GB of disk (placement: DISK_GB max_unit
 * 600000, allocation ratio 1.0), and Nova has no disk quota, so the boot is accepted (202) and the
 * scheduler answers NoValidHost: the server goes ERROR in cell0 with the fault "No valid host was found.".
 * Cores and RAM stay small: a flavor over the project's core or RAM quota would be a 403 at the API instead.
 */
const flavorName = testName("huge");
let flavorId: string | undefined;
let admin: Devcloud;

const e2e = useE2eWorker({ tokenName: "e2e-faults", groups: () => [group] });
const { api, apiJson } = e2e;

beforeAll(async () => {
  admin = await Devcloud.login(await adminUser());
  const made = await admin.call("POST", "/flavors", { flavor: { name: flavorName, ram: 64, vcpus: 1, disk: 700_000, "os-flavor-access:is_public": true } });
  if (made.status !== 200) throw new Error(`create flavor ${flavorName} -> ${made.status}: ${JSON.stringify(made.body)}`);
  flavorId = (made.body as { flavor: { id: string } }).flavor.id;
});

afterAll(async () => {
  // Runs before useE2eWorker's sweep (after-hooks run in reverse order): Nova deletes a flavor still in use
  // (each instance keeps its own copy), and the sweep then deletes the servers.
  if (flavorId !== undefined) await admin?.call("DELETE", `/flavors/${flavorId}`);
});

interface Entry {
  kind: string;
  reason?: string;
  serverIds?: string[];
  error?: { message: string };
}

const members = (): Promise<NovaServer[]> => e2e.cloud.liveServersWithMetadata(GROUP_KEY, group);

describe("Nova's fault on the real cloud", () => {
  let errored: NovaServer;
  let deleteEntry: Entry | undefined;

  it("a boot with a flavor no host can take is accepted and the server goes ERROR with Nova's fault 'No valid host was found'", async () => {
    const put = await api(`/v1/groups/${group}`, {
      method: "PUT",
      body: JSON.stringify({ image: "cirros-fake", flavor: flavorName, min: 0, max: 1, default: 1, networks: "none", namePrefix: group }),
    });
    expect(put.status, await put.clone().text()).toBe(201);
    await apiJson(`/v1/groups/${group}/reconcile`, { method: "POST" });
    errored = await waitFor(`a member of ${group} in ERROR`, async () => (await members()).find((s) => s.status === "ERROR"), 60_000);
    const shown = await e2e.cloud.server(errored.id);
    expect((shown?.fault as { message?: string } | undefined)?.message).toMatch(/^No valid host was found/);
  });

  it("the next reconcile deletes it and its activity entry carries Nova's fault message", async () => {
    const record = (await apiJson(`/v1/groups/${group}/reconcile`, { method: "POST" })) as { results: Array<{ step: { kind: string; serverId?: string }; outcome: string }> };
    expect(record.results.filter((r) => r.step.kind === "delete").map((r) => [r.step.serverId, r.outcome])).toEqual([[errored.id, "done"]]);
    await e2e.cloud.waitServerGone(errored.id, 60_000);
    const activity = (await apiJson(`/v1/groups/${group}/activity?limit=100`)) as { entries: Entry[] };
    deleteEntry = activity.entries.find((e) => e.kind === "delete" && e.serverIds?.includes(errored.id));
    expect(deleteEntry?.reason).toContain("No valid host was found.");
  });

  it("when the replacement fails the same way, the boot backoff's entry names Nova's fault as the cause", async () => {
    const again = await waitFor("the replacement in ERROR", async () => (await members()).find((s) => s.status === "ERROR" && s.id !== errored.id), 60_000);
    await apiJson(`/v1/groups/${group}/reconcile`, { method: "POST" });
    const activity = (await apiJson(`/v1/groups/${group}/activity?limit=100`)) as { entries: Entry[] };
    const backoff = activity.entries.find((e) => e.kind === "boot-backoff");
    expect(backoff?.reason).toContain(`server ${again.name} went to ERROR: No valid host was found.`);
  });

  it("nothing secret is in the activity log: no password, no token, no traceback", async () => {
    expect(deleteEntry, "the delete entry (previous test)").toBeDefined();
    const text = JSON.stringify(((await apiJson(`/v1/groups/${group}/activity?limit=100`)) as { entries: Entry[] }).entries);
    for (const secret of [process.env.OS_PASSWORD!, e2e.cloud.token, admin.token, "devcloud-admin", "devcloud-service"]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/Traceback|X-Auth-Token|Bearer /i);
  });
});
