// Data the pure core works on: observed servers and images, decisions, and steps (plans are data).

/** A server as the planner sees it (parsed from Nova's /servers/detail at the edge). */
export interface ObservedServer {
  id: string;
  name: string;
  /** Nova status, upper case: ACTIVE, BUILD, ERROR, SHUTOFF, REBOOT, DELETED, ... */
  status: string;
  /** OS-EXT-STS:task_state when the cloud reports it (e.g. "deleting"). */
  taskState?: string | null;
  /** ISO-8601 creation time. */
  created: string;
  metadata: Record<string, string>;
  /** The server's flavor size when the listing embeds it (2.47+): what an unshelve takes from the quota. */
  flavor?: { vcpus: number; ramMB: number };
  /** The flavor's name when the listing embeds it (2.47+: original_name): which of a group's flavors it runs. */
  flavorName?: string;
  /** The flavor's id when the listing gives it (before 2.47): matched against the resolved preferences. */
  flavorId?: string;
  /** The image it was booted from (absent for a volume-backed server): retention never deletes an image in use. */
  imageId?: string;
  /** Every IP address Nova lists for it (fixed and floating, all networks); absent when the listing gave none. */
  addresses?: string[];
  /** Nova's `fault` on an ERROR server (message masked and clipped at the edge): why it failed, kept in the delete's reason. */
  fault?: { code?: number; message: string; created?: string };
}

/** An image as the snapshot planner sees it (Glance v2, or Nova's image proxy on old clouds). */
export interface ObservedImage {
  id: string;
  name: string;
  /** Glance status: queued, saving, active, killed, deleted, pending_delete, ... */
  status: string;
  created: string;
  /** Image properties (Glance v2) or metadata (Nova proxy). */
  properties: Record<string, string>;
}

/** The desired count for a moment and the rule that set it. */
export interface Desired {
  value: number;
  /** Human-readable: "schedule 'office hours' (0 8 * * 1-5 Europe/Berlin) fired 2026-11-26T08:00+01:00". */
  reason: string;
  /** Which kind of rule decided. */
  source: "paused" | "override" | "signal" | "exception" | "window" | "schedule" | "default" | "min";
  /** When clamping to [min, max] changed the value, the value before clamping. */
  unclamped?: number;
  /** ISO-8601: since when the deciding rule holds (a schedule firing, an override's creation, a window's opening; for a point entry, the default or min also the last close of a window or exception above them); absent for a default/min that nothing above ever preceded. */
  since?: string;
}

/** What the planner does with a server in a given state (Otter's "destiny"). */
export type Destiny =
  | "count" // ACTIVE: counts toward capacity
  | "build" // BUILD: counts, replaced after the build timeout
  | "replace" // ERROR (and SHUTOFF by policy): deleted and replaced
  | "wait" // transitional (REBOOT, RESIZE, ...): counts, left alone
  | "gone" // deleting / DELETED / SOFT_DELETED: does not count
  | "unknown" // an unknown status: counts, left alone, reported
  | "parked" // stopped or shelved by novascale (park mark): does not count, resumed first on scale-out
  | "parking" // on its way to parked (powering-off, shelving...): does not count, left alone
  | "resuming" // novascale resumed it (the group's resume record) and it is coming back: counts, left alone until the build timeout
  | "woken" // parked by novascale, then started by someone else: counts (see manualChanges)
  | "held" // stopped/shelved by someone else in a power group with manualChanges respect: does not count, left alone
  | "report"; // broken in a power group (ERROR, did not come back): does not count, left alone, reported

/** How a parked server is brought back: unshelve (SHELVED, SHELVED_OFFLOADED) or os-start (SHUTOFF). */
export type ResumeAction = "unshelve" | "start";

export type Step =
  | { kind: "boot"; group: string; count: number; reason: string }
  | { kind: "delete"; group: string; serverId: string; serverName: string; reason: string }
  | { kind: "park"; group: string; serverId: string; serverName: string; action: "shelve" | "stop"; reason: string }
  | {
      kind: "resume";
      group: string;
      serverId: string;
      serverName: string;
      action: ResumeAction;
      /** True for SHELVED_OFFLOADED: unshelving takes cores and RAM from the quota again, so it is checked like a boot. */
      takesQuota: boolean;
      /** The server's size when the listing said it (else the group's flavor is assumed). */
      flavor?: { vcpus: number; ramMB: number };
      reason: string;
    }
  | { kind: "unmark"; group: string; serverId: string; serverName: string; reason: string }
  | {
      kind: "snapshot";
      group: string;
      serverId: string;
      serverName: string;
      imageName: string;
      /** The scheduled firing it serves, or the request time of a manual one. */
      firing: string;
      attempt: number;
      reason: string;
      /** Taken on request: marked `novascale:kind=manual`, never the nightly one. */
      manual?: boolean;
    }
  | { kind: "deleteImage"; group: string; imageId: string; imageName: string; reason: string };

export type StepKind = Step["kind"];

/** Something the plan wants the operator to see that is not an action. */
export interface Notice {
  level: "info" | "warning" | "error";
  code: string;
  message: string;
}

/** Absolute limits from GET /limits, as the quota check needs them (null: unlimited or unknown). */
export interface QuotaHeadroom {
  instances: number | null;
  cores: number | null;
  ramMB: number | null;
}
