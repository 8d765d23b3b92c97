// Watching one group's servers on the real Nova across ticks: wait until they settle, check the ACTIVE floor on every listing, and describe the state for a failure message.
import { waitFor, type NovaServer } from "./devcloud.ts";
import type { E2e } from "./e2e.ts";

const GROUP_KEY = "novascale:group";

export interface GroupWatch {
  /** The group's servers on Nova that still count (not being deleted). */
  members(): Promise<NovaServer[]>;
  /**
   * Waits until Nova has settled after a tick: no member in BUILD, none on its way out (so a delete the tick
   * made has finished). Every listing seen on the way must hold at least `minActive` ACTIVE members.
   */
  settle(minActive: number): Promise<NovaServer[]>;
  /** What Nova and the Worker say, for a failure message; `describe` renders one server. */
  context(): Promise<string>;
}

export const activeCount = (servers: readonly NovaServer[]): number => servers.filter((s) => s.status === "ACTIVE").length;

export function watchGroup(e2e: E2e, group: string, describe: (s: NovaServer) => string): GroupWatch {
  const members = (): Promise<NovaServer[]> => e2e.cloud.liveServersWithMetadata(GROUP_KEY, group);

  async function context(): Promise<string> {
    const onNova = (await members()).map((s) => `${s.name} ${s.status} ${describe(s)}`).join(", ") || "none";
    const status = await e2e.api(`/v1/groups/${group}`).then((r) => r.text()).catch((err: unknown) => String(err));
    return `on Nova: ${onNova}\nGET /v1/groups/${group}: ${status.slice(0, 3000)}\nworker output (tail):\n${e2e.worker?.output().slice(-3000)}`;
  }

  async function settle(minActive: number): Promise<NovaServer[]> {
    let low: string | undefined;
    const settled = await waitFor(`group ${group} settled`, async () => {
      const all = await e2e.cloud.serversWithMetadata(GROUP_KEY, group);
      const live = all.filter((s) => s.status !== "DELETED" && s.status !== "SOFT_DELETED" && s["OS-EXT-STS:task_state"] !== "deleting");
      if (activeCount(live) < minActive) low ??= live.map((s) => `${s.name} ${s.status}`).join(", ");
      const busy = all.some((s) => s["OS-EXT-STS:task_state"] === "deleting" || (s.status !== "ACTIVE" && s.status !== "ERROR"));
      return busy ? undefined : live;
    }, 60_000);
    if (low !== undefined) throw new Error(`fewer than ${minActive} ACTIVE members seen: ${low}\n${await context()}`);
    return settled;
  }

  return { members, settle, context };
}
