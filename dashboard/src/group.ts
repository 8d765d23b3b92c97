// A group's page: status, the rolling refresh, rules (with the week view), members (old/new image during a refresh), actions by role, the step chart, server-hours, activity, signals, snapshots, the dry-run plan; refreshes itself.
import { actionsCard } from "./actions.ts";
import { call, groupPath, type Session } from "./api.ts";
import { membersBody, rulesCard, serverHoursBody } from "./rules-view.ts";
import { createChart, type Chart } from "./chart.ts";
import { h, replace } from "./dom.ts";
import { activityCard, chartTable, planBody, snapshotsBody, statusCard } from "./group-sections.ts";
import { receiversSection } from "./receivers.ts";
import { hasRefreshRules, refreshSummary, targetImage } from "./refresh-state.ts";
import { refreshCard } from "./refresh-view.ts";
import { chartData, groupZone, type ChangePointJson, type HistoryPointJson } from "./series.ts";
import type { ActivityEntry, GroupStatus, MembersListing, PlanPreview, RulesPreview, ServerHours, SnapshotListing } from "./types.ts";
import { errorBox, loading, section } from "./widgets.ts";

/** How often the pages refresh themselves (each refresh reads Durable Objects only, no cloud call). */
export const REFRESH_MS = 15_000;
/** Chart windows (hours before and after now) the page offers; 15 minutes shows the demo's 2-minute schedule. */
export const WINDOWS = [0.25, 1, 6, 24, 48] as const;

function windowLabel(hours: number): string {
  return hours < 1 ? `${Math.round(hours * 60)} min before and after now` : `${hours} h before and after now`;
}

export interface PageHandle {
  dispose(): void;
}

export function groupPage(root: HTMLElement, session: Session, name: string, hours: number): PageHandle {
  let disposed = false;
  let chart: Chart | undefined;
  let timer: number | undefined;
  const activityFilter = { kind: "" };

  const title = h("h1", {}, "Group ", h("span", { class: "name" }, name));
  const updated = h("p", { class: "muted", role: "status", "aria-live": "polite" });
  const autoRefresh = h("input", { type: "checkbox", id: "auto-refresh", checked: true });
  const windowSelect = h(
    "select",
    { id: "chart-window" },
    WINDOWS.map((w) => h("option", { value: String(w), selected: w === hours }, windowLabel(w))),
  );
  windowSelect.addEventListener("change", () => {
    location.hash = `#/groups/${encodeURIComponent(name)}?hours=${windowSelect.value}`;
  });
  const refreshButton = h("button", { type: "button", class: "secondary", onclick: () => void refresh() }, "Refresh");

  const statusSlot = h("div", {}, loading("status"));
  const refreshSlot = h("div", {});
  const actionsSlot = h("div", {});
  const chartBox = h("div", { class: "chart", id: "chart" });
  const chartNote = h("p", { class: "muted" });
  const chartTableSlot = h("div", {});
  const chartError = h("div", {});
  const activitySlot = h("div", {}, loading("activity"));
  const snapshotsSlot = h("div", {}, loading("snapshots"));
  const planSlot = h("div", {}, loading("the dry-run plan"));
  const rulesSlot = h("div", {}, loading("the rules"));
  const membersSlot = h("div", {}, loading("members"));
  const hoursSlot = h("div", {}, loading("server-hours"));
  const signalsSlot = h("div", {}, loading("receivers"));
  let rulesShown: { etag: string; rules: Record<string, unknown> } | undefined;
  let preview: RulesPreview | Error | undefined;
  let members: MembersListing | Error | undefined;
  let snapshotsSeen: SnapshotListing | undefined;
  let statusSeen: GroupStatus | undefined;
  const drawRules = () => {
    if (rulesShown !== undefined) replace(rulesSlot, rulesCard(rulesShown.rules, preview, members, zoneNow));
  };
  const drawMembers = () => {
    if (members === undefined) return;
    if (members instanceof Error) return void replace(membersSlot, errorBox(members));
    // Members are marked old/new only where a refresh applies (rules or a record of one).
    const marks = statusSeen !== undefined && (hasRefreshRules(statusSeen.rules) || (statusSeen.refresh ?? null) !== null);
    const resolved = members.image !== null && "id" in members.image ? members.image.id : null;
    replace(membersSlot, membersBody(members, zoneNow, snapshotsSeen, marks ? targetImage(statusSeen?.refresh, resolved) : null));
  };
  /** The rules' preview (timeline and occurrences) is asked only when the rules changed (a POST that writes nothing). */
  const loadPreview = async (rules: Record<string, unknown>) => {
    try {
      preview = await call<RulesPreview>(session.token, "POST", groupPath(name, "/preview?hours=168"), rules);
    } catch (e) {
      preview = e instanceof Error ? e : new Error(String(e));
    }
    drawRules();
  };
  const loadMembers = async () => {
    replace(membersSlot, loading("members"));
    try {
      members = await call<MembersListing>(session.token, "GET", groupPath(name, "/members"));
    } catch (e) {
      members = e instanceof Error ? e : new Error(String(e));
    }
    drawMembers();
    drawRules();
  };
  const loadHours = async () => {
    try {
      replace(hoursSlot, serverHoursBody(await call<ServerHours>(session.token, "GET", groupPath(name, "/server-hours"))));
    } catch (e) {
      replace(hoursSlot, errorBox(e));
    }
  };

  /** Loads one cloud-backed section (these list servers or images live, so they load once and on demand). */
  const loadInto = <T>(slot: HTMLElement, label: string, path: string, render: (value: T) => HTMLElement) => async () => {
    replace(slot, loading(label));
    try {
      replace(slot, render(await call<T>(session.token, "GET", groupPath(name, path))));
    } catch (e) {
      replace(slot, errorBox(e));
    }
  };
  const loadPlan = loadInto<PlanPreview>(planSlot, "the dry-run plan", "/plan", (plan) => planBody(plan, zoneNow));
  const loadSnapshots = loadInto<SnapshotListing>(snapshotsSlot, "snapshots", "/snapshots", (listing) => {
    snapshotsSeen = listing;
    drawMembers();
    return snapshotsBody(listing, zoneNow);
  });

  replace(
    root,
    h("p", {}, h("a", { href: "#/" }, "← All groups")),
    title,
    h(
      "div",
      { class: "toolbar" },
      h("label", { for: autoRefresh.id }, autoRefresh, " Auto refresh"),
      refreshButton,
      session.role === "admin" ? h("a", { href: `#/groups/${encodeURIComponent(name)}/edit`, class: "button-link", id: "edit-rules" }, "Edit rules") : null,
      updated,
    ),
    statusSlot,
    refreshSlot,
    section(
      "Desired and actual",
      "chart-card",
      h("div", { class: "toolbar" }, h("label", { for: windowSelect.id }, "Window"), windowSelect),
      chartError,
      chartBox,
      chartNote,
      chartTableSlot,
    ),
    actionsSlot,
    rulesSlot,
    section("Members", "members", membersSlot, h("button", { type: "button", class: "secondary", onclick: () => void loadMembers() }, "List again")),
    section("Server-hours", "server-hours", hoursSlot),
    activitySlot,
    section("Signals", "signals", signalsSlot),
    section("Snapshots", "snapshots", snapshotsSlot, h("button", { type: "button", class: "secondary", onclick: () => void loadSnapshots() }, "Refresh snapshots")),
    section("Dry run: what a tick would do now", "plan", planSlot, h("button", { type: "button", class: "secondary", onclick: () => void loadPlan() }, "Plan again")),
  );

  let zoneNow = "UTC";
  const loadReceivers = receiversSection(signalsSlot, session, name, () => zoneNow);
  let actionsKey = "";
  /** What of the refresh changes members: a change lists them again (one cloud call per change, not per refresh). */
  let refreshKey: string | undefined;
  /** Outlives rebuilds of the actions card: the last action's answer stays in view. */
  const actionResult = h("div", { class: "result", role: "status", "aria-live": "polite" });
  let firstLoad = true;

  // The API counts whole hours; the chart cuts the window to what was asked.
  const apiHours = Math.max(1, Math.ceil(hours));

  /** Reloads what is cheap (no cloud calls); `live` also reloads the snapshots and the plan (first load, after an action). */
  async function refresh(live = false): Promise<void> {
    if (disposed) return;
    const [status, timeline, history, activity] = await Promise.allSettled([
      call<GroupStatus>(session.token, "GET", groupPath(name)),
      call<{ points: ChangePointJson[] }>(session.token, "GET", groupPath(name, `/timeline?hours=${apiHours}`)),
      call<{ points: HistoryPointJson[] }>(session.token, "GET", groupPath(name, `/history?hours=${apiHours}`)),
      call<{ entries: ActivityEntry[] }>(session.token, "GET", groupPath(name, "/activity?limit=200")),
    ]);
    if (disposed) return;
    if (status.status === "rejected") {
      replace(statusSlot, errorBox(status.reason));
      replace(refreshSlot);
      replace(actionsSlot);
      actionsKey = "";
    } else {
      zoneNow = groupZone(status.value.rules);
      replace(statusSlot, statusCard(status.value, zoneNow));
      statusSeen = status.value;
      replace(refreshSlot, refreshCard(status.value, zoneNow));
      const r = status.value.refresh ?? null;
      const key = JSON.stringify([r?.targetImageId, r?.replaced, r?.failed, r?.halted, r?.completedAt, r?.progress?.newPending, r?.progress?.newReady]);
      if (refreshKey !== undefined && key !== refreshKey && !firstLoad && !live) void loadMembers();
      refreshKey = key;
      const etag = String((status.value as unknown as { etag?: string }).etag ?? "");
      if (rulesShown?.etag !== etag) {
        rulesShown = { etag, rules: status.value.rules };
        preview = undefined;
        drawRules();
        void loadPreview(status.value.rules);
      }
      // Rebuilt only when what it offers changes, so an auto refresh never wipes a half-typed override.
      const offers = JSON.stringify([status.value.override, status.value.pause, zoneNow, hasRefreshRules(status.value.rules), refreshSummary(status.value).cancellable]);
      if (offers !== actionsKey) {
        actionsKey = offers;
        replace(actionsSlot, actionsCard(session, status.value, zoneNow, actionResult, () => void refresh(true)));
      }
    }
    if (timeline.status === "fulfilled" && history.status === "fulfilled") {
      const data = chartData(history.value.points, timeline.value.points, Date.now(), hours, hours);
      replace(chartError);
      if (chart === undefined) chart = createChart(chartBox, data, zoneNow);
      else chart.update(data, zoneNow);
      replace(chartNote, `Times in ${zoneNow}. Drag across the chart to zoom; double-click to zoom out. Desired ahead of now follows the schedule and the override; the past is what the group's ticks recorded.`);
      replace(chartTableSlot, chartTable(data, zoneNow));
    } else {
      replace(chartError, errorBox(timeline.status === "rejected" ? timeline.reason : history.status === "rejected" ? history.reason : "chart data missing"));
    }
    replace(activitySlot, activity.status === "fulfilled" ? activityCard(activity.value.entries, zoneNow, activityFilter) : section("Activity", "activity", errorBox(activity.reason)));
    replace(updated, `Updated ${new Date().toLocaleTimeString()}`);
    if (firstLoad || live) {
      firstLoad = false;
      document.title = `${name} · novascale`;
      void loadSnapshots();
      void loadPlan();
      void loadMembers();
      void loadHours();
      void loadReceivers();
    }
  }

  const tick = () => {
    if (!disposed && autoRefresh.checked && document.visibilityState === "visible") void refresh();
  };
  void refresh();
  timer = window.setInterval(tick, REFRESH_MS);

  return {
    dispose() {
      disposed = true;
      if (timer !== undefined) window.clearInterval(timer);
      chart?.destroy();
    },
  };
}
