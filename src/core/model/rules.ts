// A group's rules as plain types, the shape the core decides on. The zod schemas that parse them live at
// the edge (src/config/group.ts), which checks at compile time that its parsed output is exactly these
// types: core/ never imports config/ (config/ imports core's pure helpers), so a schema change is
// mirrored here.

/** Server metadata keys novascale adds at boot (group membership + boot intent). */
export const OWN_SERVER_METADATA_KEYS = 2;
/** One more key on a group that parks: the park mark (novascale:park), written when a server is parked. */
export const PARK_METADATA_KEYS = 1;

/** An image or flavor: by name (resolved each tick) or by id. */
export type ResourceRef = string | { id: string };

/** A group's flavor: one, or a non-empty list in order of preference (core/scaling/flavors.ts chooses). */
export type FlavorRules = ResourceRef | ResourceRef[];

export interface CronSchedule {
  cron: string;
  timezone: string;
  desired: number;
  name?: string;
}

export interface OneShotSchedule {
  /** ISO-8601 with an offset. */
  at: string;
  desired: number;
  name?: string;
}

export interface WindowSchedule {
  /** Days and wall-clock times, e.g. "Mon-Fri 08:00-20:00" (see core/windows.ts). */
  window: string;
  timezone: string;
  desired: number;
  name?: string;
}

export type ScheduleEntry = CronSchedule | OneShotSchedule | WindowSchedule;
/** Entries that fire at instants (cron, one-shot), as opposed to windows that hold over spans. */
export type PointEntry = CronSchedule | OneShotSchedule;

/** An exception calendar: on its days (whole local days in `timezone`) `desired` applies. */
export interface ExceptionEntry {
  name: string;
  dates?: string[];
  ics?: string;
  timezone: string;
  desired: number;
}

export type Networks = "auto" | "none" | { uuid?: string; port?: string; fixedIp?: string }[];

export type SnapshotSource = "oldest" | "newest" | { metadata: Record<string, string> };

/** Calendar retention (restic's forget rules). */
export interface RetentionRules {
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  keepWithin?: string;
}

export interface SnapshotPolicy extends RetentionRules {
  cron: string;
  timezone: string;
  /** The older name of keepLast. */
  keep?: number;
  keepManual: number;
  source: SnapshotSource;
  namePrefix?: string;
  graceHours: number;
  maxAttempts: number;
}

/** Which servers a snapshot policy backs up: all whose metadata matches every pair, or a group's members. */
export type PolicySelect = { metadata: Record<string, string> } | { group: string };

/** A snapshot policy's rules after parsing (src/config/snapshot-policy.ts). */
export interface SnapshotPolicyRules {
  select: PolicySelect;
  cron: string;
  timezone: string;
  retention: RetentionRules;
  namePrefix?: string;
  maxConcurrent: number;
  graceHours: number;
  maxAttempts: number;
  paused: boolean;
  /** The cloud (config/clouds.ts) and region whose servers it selects; absent: `default` and that cloud's first region. */
  cloud?: string;
  region?: string;
}

/** An HTTP health check of a new server: healthy when `url` ({ip}: the server's address) answers 2xx. */
export interface RefreshHealthCheck {
  url: string;
  /** How long after the server turns ACTIVE a failing check is still waited for (not a failure yet). */
  graceSeconds: number;
  /** One probe's timeout. */
  timeoutMs: number;
}

/** How members on an old image (or flavor) are replaced: surge first, inside the disruption windows. */
export interface RefreshRules {
  /** New servers booted ahead of the old ones they replace, at most, at a time. */
  maxSurge: number;
  /** ACTIVE healthy members kept at least during a refresh; absent: the desired count (a group of 1 always surges). */
  minInService?: number;
  /** Disruption windows ("Mon-Fri 02:00-05:00") in `timezone`; empty: any time. */
  windows: string[];
  timezone: string;
  healthCheck?: RefreshHealthCheck;
  /** New servers that fail (ERROR, or unhealthy past the grace) before the refresh halts and rolls back. */
  failureThreshold: number;
}

/** Rules after parsing: defaults filled in, trusted inside. */
export interface GroupRules {
  /** "elastic": novascale boots and removes servers; "power": it only parks and resumes servers an operator tagged. */
  mode: "elastic" | "power";
  /** Required for elastic groups (the schema says so); a power group has none. */
  image?: ResourceRef;
  flavor?: FlavorRules;
  min: number;
  max: number;
  default?: number;
  schedules: ScheduleEntry[];
  exceptions: ExceptionEntry[];
  networks: Networks;
  metadata: Record<string, string>;
  keyName?: string;
  userData?: string;
  securityGroups?: string[];
  availabilityZone?: string;
  namePrefix?: string;
  scaleIn: { order: "oldest-first" | "newest-first"; action?: "delete" | "shelve" | "stop" };
  /** Parked members kept at most (elastic groups that park); see poolMax. */
  pool?: { max?: number };
  manualChanges: "enforce" | "respect";
  replaceShutoff: boolean;
  limits: { maxBootsPerTick: number; maxDeletesPerTick: number; buildTimeoutMinutes: number };
  snapshots?: SnapshotPolicy;
  /** Rolling refresh of members on an old image or flavor; absent: drift is never replaced. */
  refresh?: RefreshRules;
  paused: boolean;
  /** The cloud (a NOVASCALE_CLOUDS entry, or `default`: OS_*) and region it runs in; absent: `default` and that cloud's first region. */
  cloud?: string;
  region?: string;
}

/** What scale-in does to a server: the group's scaleIn.action, else delete (elastic) or stop (power). */
export function scaleInAction(rules: Pick<GroupRules, "mode" | "scaleIn">): "delete" | "shelve" | "stop" {
  return rules.scaleIn.action ?? (rules.mode === "power" ? "stop" : "delete");
}

/** Whether the group parks servers (shelve or stop) instead of deleting them. */
export function parks(rules: Pick<GroupRules, "mode" | "scaleIn">): boolean {
  return scaleInAction(rules) !== "delete";
}

/** Parked members an elastic group keeps at most: pool.max, default max - min; 0 when it deletes on scale-in. */
export function poolMax(rules: Pick<GroupRules, "mode" | "scaleIn" | "pool" | "min" | "max">): number {
  if (!parks(rules)) return 0;
  return rules.pool?.max ?? Math.max(0, rules.max - rules.min);
}

/** Metadata keys novascale itself writes on one of the group's servers (group + boot intent, + the park mark when it parks). */
export function ownServerMetadataKeys(rules: Pick<GroupRules, "mode" | "scaleIn">): number {
  return OWN_SERVER_METADATA_KEYS + (parks(rules) ? PARK_METADATA_KEYS : 0);
}

/** A group: its name plus its rules. */
export interface Group {
  name: string;
  rules: GroupRules;
}

/** A manual override of the desired count, held in the group's Durable Object. */
export interface Override {
  desired: number;
  until: string;
  reason: string;
  author: string;
  createdAt: string;
}
