// End to end on the real cloud: a group created over the API is scaled up and down by cron ticks of the real Worker, checked on Nova.
import { describe, expect, it } from "vitest";
import { testName, waitFor, type NovaServer } from "../support/devcloud.ts";
import { useE2eWorker } from "../support/e2e.ts";

const GROUP_KEY = "novascale:group";
const group = testName("e2e");
const e2e = useE2eWorker({ tokenName: "e2e-admin", groups: () => [group] });
const { api } = e2e;
const minute = 60_000;
// Ticks are fired at explicit times around the real clock (servers' ages then make sense to the build timeout).
const base = new Date(Math.floor(Date.now() / minute) * minute);
const at = (minutes: number) => new Date(base.getTime() + minutes * minute);

/** The group's servers on Nova that still count (not being deleted). */
async function members(): Promise<NovaServer[]> {
  return e2e.cloud.liveServersWithMetadata(GROUP_KEY, group);
}

/** Waits until Nova shows exactly `count` members, all ACTIVE; on timeout the error carries what Nova and the Worker said. */
async function expectActiveMembers(count: number): Promise<NovaServer[]> {
  try {
    return await waitFor(`${count} ACTIVE servers in group ${group}`, async () => {
      const now = await members();
      return now.length === count && now.every((s) => s.status === "ACTIVE") ? now : undefined;
    }, 60_000);
  } catch (e) {
    const onNova = (await members()).map((s) => `${s.name} ${s.status}`).join(", ") || "none";
    const status = await api(`/v1/groups/${group}`).then((r) => r.text()).catch((err: unknown) => String(err));
    throw new Error(`${(e as Error).message}\non Nova: ${onNova}\nGET /v1/groups/${group}: ${status.slice(0, 3000)}\nworker output (tail):\n${e2e.worker?.output().slice(-3000)}`);
  }
}

describe("autoscaling a group on the real cloud through wrangler dev", () => {
  it("boots up to the scheduled count, does not boot again on the next tick, and deletes down when the schedule drops", async () => {
    const rules = {
      image: "cirros-fake",
      flavor: "m1.tiny",
      min: 0,
      max: 3,
      default: 0,
      networks: "none",
      namePrefix: group,
      schedules: [
        { at: at(-10).toISOString(), desired: 2, name: "launch" },
        { at: at(60).toISOString(), desired: 1, name: "evening" },
      ],
    };
    const put = await api(`/v1/groups/${group}`, { method: "PUT", body: JSON.stringify(rules) });
    expect(put.status, await put.clone().text()).toBe(201);

    await e2e.worker!.fireCron(at(0));
    const up = await expectActiveMembers(2);

    // A second tick a minute later sees both servers and boots nothing more.
    await e2e.worker!.fireCron(at(1));
    expect((await members()).map((s) => s.id).sort()).toEqual(up.map((s) => s.id).sort());

    // After the "evening" entry fires the group is scaled in to one, the older server going first.
    await e2e.worker!.fireCron(at(61));
    const down = await expectActiveMembers(1);
    const newest = [...up].sort((a, b) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id)).at(-1);
    expect(up.map((s) => s.id)).toContain(down[0]!.id);
    expect(down[0]!.created >= newest!.created).toBe(true);
  });
});
