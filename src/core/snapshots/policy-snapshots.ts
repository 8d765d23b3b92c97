// Pure planner of a snapshot policy (nightly snapshots of any selected servers): what to take, what to prune, what is stale.
import { IMAGE_FIRING_KEY, IMAGE_MADE_BY_KEY, IMAGE_MADE_BY_VALUE, IMAGE_SOURCE_SERVER_KEY, isMember } from "../model/membership.ts";
import type { PolicySelect, SnapshotPolicyRules } from "../model/rules.ts";
import { decideRetention, isImageInProgress, isStuckUpload, type RetentionDecision, type RetentionGuard } from "./retention.ts";
import { latestCronFiring } from "../schedule/schedule.ts";
import { imageFiring, snapshotImageName, statusOf } from "./snapshot-images.ts";
import type { Notice, ObservedImage, ObservedServer } from "../model/types.ts";

/** Image property: the snapshot policy that made it (in place of a group's `novascale:group`). */
export const IMAGE_POLICY_KEY = "novascale:policy";

/** At most this many deleteImage steps per tick per policy; the rest follow next tick. */
export const MAX_POLICY_DELETES_PER_TICK = 10;

export type PolicyStep =
  | { kind: "snapshot"; policy: string; serverId: string; serverName: string; imageName: string; firing: string; attempt: number; reason: string }
  | { kind: "deleteImage"; policy: string; imageId: string; imageName: string; reason: string };

export type PolicyServerPhase =
  | "done" // the latest firing's snapshot is active
  | "in-progress" // it is queued/saving
  | "due" // a snapshot step is planned this tick
  | "waiting" // due, but maxConcurrent snapshots are in flight: a later tick takes it
  | "busy" // not ACTIVE/SHUTOFF, or a task under way: a later tick tries again
  | "exhausted" // maxAttempts snapshots of this firing failed
  | "missed" // the grace period ended without an active snapshot
  | "not-due"; // the schedule has not fired yet

export interface PolicyServerStatus {
  serverId: string;
  serverName: string;
  phase: PolicyServerPhase;
  /** The firing of its newest active snapshot, or null. */
  newest: string | null;
  /** Its newest active snapshot is older than two firings (or it has none and existed two firings ago). */
  stale: boolean;
}

export interface PolicyStatus {
  firing: string | null;
  graceUntil: string | null;
  /** "stale" when any selected server's newest snapshot is older than two firings. */
  health: "ok" | "stale" | "paused";
  servers: PolicyServerStatus[];
  /** Uploads in flight against maxConcurrent (stuck ones excluded). */
  inFlight: number;
  maxConcurrent: number;
  /** Uploads of an earlier firing still queued/saving after graceHours: not counted, reported, cleaned up by retention. */
  stuck: StuckUpload[];
}

export interface StuckUpload {
  imageId: string;
  imageName: string;
  serverId: string | null;
  status: string;
  /** When the upload started (the image's created time). */
  since: string;
  firing: string | null;
}

export interface PolicyPlanInput {
  name: string;
  rules: SnapshotPolicyRules;
  /** The project's servers (the tick's listing); the policy selects from them. */
  servers: readonly ObservedServer[];
  /** Images carrying this policy's marks (others are ignored all the same). */
  images: readonly ObservedImage[];
  now: Date;
  guard: RetentionGuard | undefined;
  /**
   * createImage calls already sent per server for the latest firing (the policy object's ledger), refused
   * ones included: attempts are the larger of these and the firing's images. Absent: images only.
   */
  calls?: Readonly<Record<string, number>>;
}

export interface PolicyPlan {
  steps: PolicyStep[];
  notices: Notice[];
  status: PolicyStatus;
  /** Every snapshot of the policy, keep or delete with the reason, newest first (the preview's answer). */
  retention: RetentionDecision[];
}

/** The properties on a policy's snapshot of `serverId` for `firing`: four, as the book's clouds allow five. */
export function policySnapshotProperties(policy: string, serverId: string, firing: string): Record<string, string> {
  return { [IMAGE_MADE_BY_KEY]: IMAGE_MADE_BY_VALUE, [IMAGE_POLICY_KEY]: policy, [IMAGE_SOURCE_SERVER_KEY]: serverId, [IMAGE_FIRING_KEY]: firing };
}

/** The Glance filter that lists a policy's own snapshots. */
export function policySnapshotFilter(policy: string): Record<string, string> {
  return { [IMAGE_MADE_BY_KEY]: IMAGE_MADE_BY_VALUE, [IMAGE_POLICY_KEY]: policy };
}

/** An image novascale made for this policy (both marks present); nothing else is ever decided on. */
export function isPolicySnapshot(image: ObservedImage, policy: string): boolean {
  return image.properties[IMAGE_MADE_BY_KEY] === IMAGE_MADE_BY_VALUE && image.properties[IMAGE_POLICY_KEY] === policy;
}

/** The servers a policy selects: every metadata pair matches, or members of the group. Servers going away are not selected. */
export function selectServers(select: PolicySelect, servers: readonly ObservedServer[]): ObservedServer[] {
  const going = (s: ObservedServer) => s.status === "DELETED" || s.status === "SOFT_DELETED" || s.taskState === "deleting";
  const matches =
    "group" in select
      ? (s: ObservedServer) => isMember(s, select.group)
      : (s: ObservedServer) => Object.entries(select.metadata).every(([k, v]) => s.metadata[k] === v);
  return servers.filter((s) => matches(s) && !going(s)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Nova snapshots a running or a stopped server, never one with a task under way. */
function snapshottable(s: ObservedServer): boolean {
  return (s.status === "ACTIVE" || s.status === "SHUTOFF") && (s.taskState === undefined || s.taskState === null || s.taskState === "");
}

/** The firing `n` firings before `firing` (n = 0: itself). */
function firingsBefore(rules: SnapshotPolicyRules, firing: Date, n: number): Date | undefined {
  let f: Date | undefined = firing;
  for (let i = 0; i < n && f !== undefined; i++) f = latestCronFiring(rules.cron, rules.timezone, new Date(f.getTime() - 1));
  return f;
}

/** Plans one tick of a snapshot policy: one snapshot per selected server per firing, at most maxConcurrent in flight; retention per server. */
export function planPolicySnapshots(input: PolicyPlanInput): PolicyPlan {
  const { name, rules, now } = input;
  const own = input.images.filter((image) => isPolicySnapshot(image, name));
  const firingDate = latestCronFiring(rules.cron, rules.timezone, now);
  const firing = firingDate?.toISOString() ?? null;
  const graceUntil = firingDate === undefined ? null : new Date(firingDate.getTime() + rules.graceHours * 3_600_000);
  const withinGrace = graceUntil !== null && now.getTime() <= graceUntil.getTime();
  const twoBack = firingDate === undefined ? undefined : firingsBefore(rules, firingDate, 2);
  const selected = selectServers(rules.select, input.servers);
  // An upload stuck from an earlier night no longer holds a maxConcurrent slot (issue 24 item 5).
  const stuckAfterMs = rules.graceHours * 3_600_000;
  const stuckImages = own.filter((image) => isStuckUpload(image, imageFiring(image) ?? image.created, firing, now, stuckAfterMs));
  const stuck = stuckImages.map((image): StuckUpload => ({
    imageId: image.id,
    imageName: image.name,
    serverId: image.properties[IMAGE_SOURCE_SERVER_KEY] ?? null,
    status: image.status,
    since: image.created,
    firing: imageFiring(image) ?? null,
  }));
  const inFlight = own.filter((image) => isImageInProgress(image.status) && !stuckImages.includes(image)).length;
  const steps: PolicyStep[] = [];
  const notices: Notice[] = [];
  let slots = rules.paused ? 0 : Math.max(0, rules.maxConcurrent - inFlight);

  const bySource = new Map<string, ObservedImage[]>();
  for (const image of own) {
    const source = image.properties[IMAGE_SOURCE_SERVER_KEY] ?? "";
    const list = bySource.get(source);
    if (list === undefined) bySource.set(source, [image]);
    else list.push(image);
  }
  const servers = selected.map((server): PolicyServerStatus => {
    const mine = bySource.get(server.id) ?? [];
    const active = mine.filter((image) => statusOf(image) === "active").map((image) => imageFiring(image) ?? image.created).sort();
    const newest = active.at(-1) ?? null;
    const since = newest ?? server.created;
    const stale = twoBack !== undefined && since !== "" && Date.parse(since) < twoBack.getTime();
    const base = { serverId: server.id, serverName: server.name, newest, stale };
    if (firing === null) return { ...base, phase: "not-due" };
    const forFiring = mine.filter((image) => imageFiring(image) === firing);
    if (forFiring.some((image) => statusOf(image) === "active")) return { ...base, phase: "done" };
    if (forFiring.some((image) => isImageInProgress(image.status))) return { ...base, phase: "in-progress" };
    // Every createImage call counts (one Nova refused outright too), and every image of the firing (the ledger may be younger than they are).
    const calls = input.calls !== undefined && Object.hasOwn(input.calls, server.id) ? input.calls[server.id]! : 0;
    const failed = Math.max(forFiring.length, calls);
    if (failed >= rules.maxAttempts) {
      notices.push({ level: "error", code: "snapshot-attempts-exhausted", message: `all ${rules.maxAttempts} attempts to snapshot server '${server.name}' for ${firing} failed (createImage refused or the image failed); the next firing tries again` });
      return { ...base, phase: "exhausted" };
    }
    if (!withinGrace) {
      if (failed > 0) notices.push({ level: "warning", code: "snapshot-missed", message: `no active snapshot of server '${server.name}' for ${firing}; the grace period ended` });
      return { ...base, phase: "missed" };
    }
    if (!snapshottable(server)) return { ...base, phase: "busy" };
    if (slots === 0) return { ...base, phase: "waiting" };
    slots--;
    const attempt = failed + 1;
    steps.push({
      kind: "snapshot",
      policy: name,
      serverId: server.id,
      serverName: server.name,
      // e.g. "nightly-db-1-20261129T0130Z": the policy (or its namePrefix), the server, the firing.
      imageName: snapshotImageName(name, { namePrefix: `${rules.namePrefix ?? name}-${server.name}` }, firing),
      firing,
      attempt,
      reason: `snapshot policy '${name}' ('${rules.cron}' ${rules.timezone}) fired at ${firing} and server '${server.name}' has no snapshot for it; attempt ${attempt} of ${rules.maxAttempts}`,
    });
    return { ...base, phase: "due" };
  });

  if (selected.length === 0) {
    const what = "group" in rules.select ? `members of group '${rules.select.group}'` : `servers with ${Object.entries(rules.select.metadata).map(([k, v]) => `${k}=${v}`).join(", ")}`;
    notices.push({ level: "warning", code: "selects-nothing", message: `snapshot policy '${name}' selects no server: no ${what} in the listing` });
  }
  const waiting = servers.filter((s) => s.phase === "waiting").length;
  if (waiting > 0) notices.push({ level: "info", code: "snapshots-waiting", message: `${waiting} server(s) wait for a free slot (maxConcurrent ${rules.maxConcurrent}, ${inFlight} in flight)` });
  if (stuck.length > 0) {
    const list = stuck.map((u) => `'${u.imageName}' (server ${u.serverId ?? "unknown"}, '${u.status}' since ${u.since})`).join(", ");
    notices.push({ level: "warning", code: "snapshot-stuck", message: `${stuck.length} upload(s) of an earlier firing never finished and no longer count against maxConcurrent; retention deletes them: ${list}` });
  }
  const stale = servers.filter((s) => s.stale);
  if (stale.length > 0) {
    notices.push({ level: "warning", code: "snapshots-stale", message: `newest snapshot older than two firings: ${stale.map((s) => `'${s.serverName}'`).join(", ")}` });
  }

  const retention = decideRetention({
    snapshots: own.map((image) => ({ image, at: imageFiring(image) ?? image.created, manual: false, source: image.properties[IMAGE_SOURCE_SERVER_KEY] ?? null })),
    rules: rules.retention,
    keepManual: 0,
    timezone: rules.timezone,
    now,
    latestFiring: firing,
    perSource: true,
    // A selected server's older snapshots wait for its own snapshot of this firing (not another server's).
    presentSources: selected.map((server) => server.id),
    guard: input.guard,
    stuckAfterMs,
  });
  const held = retention.filter((d) => d.volumeBacked === true);
  if (held.length > 0) notices.push({ level: "warning", code: "snapshot-volume-backed", message: `${held.length} volume-backed snapshot(s) past retention are not pruned: ${held.map((d) => `'${d.image.name}'`).join(", ")}` });
  if (!rules.paused && firing !== null) {
    for (const d of retention.filter((x) => x.action === "delete").reverse().slice(0, MAX_POLICY_DELETES_PER_TICK)) {
      steps.push({ kind: "deleteImage", policy: name, imageId: d.image.id, imageName: d.image.name, reason: `retention of policy '${name}' for server ${d.source ?? "unknown"}: ${d.reason} (snapshot of ${d.at})` });
    }
  }
  if (rules.paused && (servers.some((s) => s.phase === "waiting") || retention.some((d) => d.action === "delete"))) {
    notices.push({ level: "info", code: "snapshots-paused", message: `policy '${name}' is paused: nothing is taken or deleted` });
  }

  return {
    steps,
    notices,
    retention,
    status: {
      firing,
      graceUntil: graceUntil?.toISOString() ?? null,
      health: rules.paused ? "paused" : stale.length > 0 ? "stale" : "ok",
      servers,
      inFlight,
      maxConcurrent: rules.maxConcurrent,
      stuck,
    },
  };
}
