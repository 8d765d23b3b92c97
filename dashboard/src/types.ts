// The API's JSON as the dashboard reads it. Loose on purpose: unknown fields, states, kinds and reasons are shown as they come.

export interface Desired {
  value: number;
  reason: string;
  source: string;
}
export interface Override {
  desired: number;
  until: string;
  reason: string;
  author: string;
  createdAt?: string;
}
export interface Notice {
  level: string;
  code: string;
  message: string;
}
export interface ErrorInfo {
  operation: string;
  category: string;
  message: string;
  requestId?: string;
}
export interface Step {
  kind: string;
  reason: string;
  [field: string]: unknown;
}
export interface TickRecord {
  at: string;
  trigger: string;
  author?: string;
  health: string;
  steps: Step[];
  results?: { step: Step; outcome: string; error?: ErrorInfo }[];
  notices: Notice[];
  errors: ErrorInfo[];
  lastSeenAt?: string;
}
export interface ChangePoint {
  at: string;
  value: number;
  reason: string;
  source: string;
}
export interface GroupStatus {
  name: string;
  /** Where it runs (absent from servers before many clouds): the cloud, and its region (null: the cloud names none). */
  cloud?: string;
  region?: string | null;
  rules: Record<string, unknown>;
  updatedAt: string;
  updatedBy: string;
  desired: Desired;
  health: string;
  actualByStatus: Record<string, number> | null;
  override: Override | null;
  pause: { by: string; reason?: string; at: string } | null;
  bootBlock: { reason: string; at: string } | null;
  /** Repeated boot failures while boots wait; absent from servers before it existed. */
  bootBackoff?: { failures: number; until: string; cause: string } | null;
  /** Why boots are stopped, in a sentence; null when they are not. */
  bootsBlocked?: string | null;
  lastTick: TickRecord | null;
  /** Parked servers (shelved or stopped by scale-in) and the server-hours they spent parked; null when the group does not park. */
  parking?: { parked: { id: string; name: string; since: string }[]; serverHoursParked: { last7Days: number; last30Days: number } } | null;
  /** Work the last tick's budget left for the next tick; null: nothing. */
  deferred?: { reason: string; steps: number; message: string } | null;
  /** Which flavor new boots take and why (flavor fallback); null without a flavor, absent from servers before it existed. */
  flavors?: { preferences: string[]; bootsWith: string; fallback: boolean; reason: string } | null;
  /** The rolling refresh (issue 31): null when none ever started; absent from servers before it existed. */
  refresh?: RefreshView | null;
  /** A manual start the next tick takes up; null: none waiting. */
  refreshRequest?: { author: string; at: string; ignoreWindow: boolean } | null;
  nextChanges: ChangePoint[];
}
/** The last tick's count of a refresh's members (present while the refresh is open or halted). */
export interface RefreshProgress {
  old: number;
  oldParked: number;
  newReady: number;
  newPending: number;
  failed: number;
  replaced: number;
  inService: number;
  minInService: number;
  inWindow: boolean;
  nextWindowAt?: string;
}
/** GET /v1/groups/{name} `refresh`: the image id pinned at its start, how far it got, why it halted. */
export interface RefreshView {
  targetImageId: string;
  startedAt: string;
  trigger: string;
  ignoreWindow: boolean;
  replaced: number;
  failed: number;
  halted?: { reason: string; at: string };
  completedAt?: string;
  progress?: RefreshProgress;
}
export interface ActivityEntry {
  at: string;
  kind: string;
  author: string;
  reason: string;
  [field: string]: unknown;
}
export interface PlanPreview {
  at: string;
  desired: Desired;
  actualByStatus: Record<string, number>;
  steps: Step[];
  notices: Notice[];
  errors: ErrorInfo[];
  /** Why fewer servers boot than are missing, one per cause (absent from older servers). */
  noBootReasons?: Array<{ code: string; message: string }>;
}
/** GET /v1/groups/{name}/snapshots: rendered by shape (fields may grow with snapshot policies). */
export type SnapshotListing = Record<string, unknown>;

/** GET /v1/snapshot-policies/{name}: the rules, the last run's status, pause and deferral. */
export interface PolicyView {
  name: string;
  /** Where it runs, as for a group (absent from servers before many clouds). */
  cloud?: string;
  region?: string | null;
  /** The selected group runs in another cloud-region, and what to set (absent from older servers). */
  groupElsewhere?: string | null;
  revision: number;
  updatedAt: string;
  updatedBy: string;
  rules: Record<string, unknown>;
  status: PolicyStatus | null;
  pause: { by: string; reason?: string; at: string } | null;
  lastRun: { at: string; lastSeenAt?: string; trigger: string; notices: { level: string; message: string }[]; errors: { operation: string; message: string }[] } | null;
  deferred: { message: string } | null;
}
export interface PolicyStatus {
  firing: string | null;
  graceUntil: string | null;
  health: string;
  servers: { serverId: string; serverName: string; phase: string; newest: string | null; stale: boolean }[];
  inFlight: number;
  maxConcurrent: number;
}
/** GET /v1/snapshot-policies/{name}/retention: each snapshot, keep or delete, and why. */
export interface RetentionPreview {
  at: string;
  firing: string | null;
  paused: boolean;
  guard: string;
  images: { id: string; name: string; status: string; sourceServer: string | null; firing: string; action: string; reason: string; heldBack?: true }[];
}

/** POST /v1/groups/{name}/preview: the rules' own timeline and each rule's next occurrences. */
export interface RulesPreview {
  from: string;
  hours: number;
  points: ChangePoint[];
  truncated: boolean;
  through: string;
  occurrences: {
    schedules: { index: number; kind: "cron" | "at" | "window"; next: { at: string; until?: string }[] }[];
    exceptions: { index: number; name: string; next: { date: string; from: string; until: string; names: string[] }[] }[];
  };
}

export type Resolved = { id: string; name: string } | { error: ErrorInfo } | null;

export interface Member {
  id: string;
  name: string;
  status: string;
  taskState: string | null;
  created: string;
  addresses: string[];
  imageId: string | null;
  /** The flavor it runs and why (flavor fallback): the preferred one, a fallback, or one the rules no longer name. */
  flavor: string | null;
  flavorWhy: "preferred" | "fallback" | "not-in-rules" | "unknown";
  flavorReason: string;
  protected: boolean;
  parkedSince: string | null;
  fault: string | null;
  link: string | null;
}

/** GET /v1/groups/{name}/members. */
export interface MembersListing {
  listedAt: string;
  servers: Member[] | null;
  error: ErrorInfo | null;
  image: Resolved;
  flavor: Resolved;
  flavors: Resolved[];
}

export interface ServerHoursSpan {
  coveredHours: number;
  run: number;
  saved: number;
  desired: number;
}
/** GET /v1/groups/{name}/server-hours. */
export interface ServerHours {
  at: string;
  max: number;
  last7Days: ServerHoursSpan;
  last30Days: ServerHoursSpan;
}

/** GET /v1/clouds: one cloud-region, its settings (no secrets) and what the last ticks saw of it (as of `seenAt`). */
export interface CloudView {
  name: string;
  /** null: the cloud names no region (the catalog's first endpoint of each service). */
  region: string | null;
  source: string;
  authUrl?: string;
  identityVersion?: string;
  interface?: string;
  authKind?: string;
  /** Why the cloud cannot be used (a configuration problem, naming the field). */
  problem?: string;
  notes: string[];
  /** up: the last tick's listing was complete; down: it failed; unknown: no tick has listed it yet. */
  state: string;
  seenAt?: string;
  servers?: number;
  tokenExpiresAt?: string;
  discovery?: { computeEndpoint?: string; imageEndpoint?: string; computeMicroversion?: string; fallback?: string; images?: string; [field: string]: unknown };
  limits?: { at: string; value: Record<string, number | null> };
  lastError?: { at: string; operation: string; category: string; message: string };
  lastSuccessAt?: string;
  groups: string[];
  policies: string[];
}
export interface CloudsListing {
  clouds: CloudView[];
  tickAt: string | null;
}
