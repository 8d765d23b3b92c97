// A group's rules as plain types, the shape the core decides on. The zod schemas that parse them live at
// the edge (src/config/group.ts), which checks at compile time that its parsed output is exactly these
// types: core/ never imports config/ (config/ imports core's pure helpers), so a schema change is
// mirrored here.

/** Server metadata keys novascale adds at boot (group membership + boot intent). */
export const OWN_SERVER_METADATA_KEYS = 2;

/** An image or flavor: by name (resolved each tick) or by id. */
export type ResourceRef = string | { id: string };

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
}

/** Rules after parsing: defaults filled in, trusted inside. */
export interface GroupRules {
  image: ResourceRef;
  flavor: ResourceRef;
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
  scaleIn: { order: "oldest-first" | "newest-first" };
  replaceShutoff: boolean;
  limits: { maxBootsPerTick: number; maxDeletesPerTick: number; buildTimeoutMinutes: number };
  snapshots?: SnapshotPolicy;
  paused: boolean;
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
