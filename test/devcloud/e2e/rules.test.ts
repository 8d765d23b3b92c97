// End to end on the real cloud: rule changes made through the API (conditional, revisioned) act on the very next cron tick, checked on Nova.
import { describe, expect, it } from "vitest";
import { testName, waitFor, type NovaServer } from "../support/devcloud.ts";
import { useE2eWorker } from "../support/e2e.ts";

const GROUP_KEY = "novascale:group";
const group = testName("rules");
const e2e = useE2eWorker({ tokenName: "rules-admin", groups: () => [group] });
const { api } = e2e;
const minute = 60_000;
const base = new Date(Math.floor(Date.now() / minute) * minute);
const at = (minutes: number) => new Date(base.getTime() + minutes * minute);

interface Stored {
  etag: string;
  revision: number;
}

function rules(desired: number) {
  return { image: "cirros-fake", flavor: "m1.tiny", min: 0, max: 3, default: desired, networks: "none", namePrefix: group };
}

async function members(): Promise<NovaServer[]> {
  return e2e.cloud.liveServersWithMetadata(GROUP_KEY, group);
}

async function expectActiveMembers(count: number): Promise<void> {
  try {
    await waitFor(`${count} ACTIVE servers in group ${group}`, async () => {
      const now = await members();
      return now.length === count && now.every((s) => s.status === "ACTIVE") ? true : undefined;
    }, 60_000);
  } catch (e) {
    const onNova = (await members()).map((s) => `${s.name} ${s.status}`).join(", ") || "none";
    throw new Error(`${(e as Error).message}\non Nova: ${onNova}\nworker output (tail):\n${e2e.worker?.output().slice(-3000)}`);
  }
}

async function put(desired: number, headers: Record<string, string>): Promise<{ status: number; body: Stored }> {
  const res = await api(`/v1/groups/${group}`, { method: "PUT", body: JSON.stringify(rules(desired)), headers });
  return { status: res.status, body: (await res.json()) as Stored };
}

describe("rule changes through the API on the real cloud", () => {
  it("each accepted change (a new revision) acts on the next tick; a stale If-Match is refused and changes nothing; the log survives a delete", async () => {
    const created = await put(1, { "If-None-Match": "*" });
    expect([created.status, created.body.revision]).toEqual([201, 1]);
    await e2e.worker!.fireCron(at(0));
    await expectActiveMembers(1);

    const grown = await put(2, { "If-Match": created.body.etag });
    expect([grown.status, grown.body.revision]).toEqual([200, 2]);
    const stale = await put(3, { "If-Match": created.body.etag });
    expect(stale.status).toBe(412);
    await e2e.worker!.fireCron(at(1)); // the very next tick, not a later repair
    await expectActiveMembers(2);

    const emptied = await put(0, { "If-Match": grown.body.etag });
    expect(emptied.body.revision).toBe(3);
    await e2e.worker!.fireCron(at(2));
    await expectActiveMembers(0);

    // Refused (409) while Nova still lists the servers being deleted; accepted once they are gone.
    const removed = await waitFor("the group's delete to be accepted", async () => {
      const res = await api(`/v1/groups/${group}`, { method: "DELETE" });
      return res.status === 200 ? ((await res.json()) as { revision: number }) : undefined;
    }, 60_000, 1_000);
    expect(removed.revision).toBe(4);
    // The log is merged by time, and this file's ticks run at chosen (later) minutes: the deletion ends the changes list.
    const changes = (await e2e.apiJson(`/v1/groups/${group}/activity?only=changes&limit=50`)) as { entries: Array<{ kind: string; author: string }> };
    expect(changes.entries[0]).toMatchObject({ kind: "group-deleted", author: "rules-admin" });
    const log = (await e2e.apiJson(`/v1/groups/${group}/activity?limit=50`)) as { entries: Array<{ kind: string; author: string }> };
    expect(log.entries.filter((e) => e.kind === "boot").length).toBeGreaterThanOrEqual(2);
    await e2e.worker!.fireCron(at(3));
    expect(await members()).toHaveLength(0);
  });
});
