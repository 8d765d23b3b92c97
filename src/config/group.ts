// The public rules format of a scaling group (stored in KV, sent over the API), as zod schemas.
import { CloudNameSchema, RegionNameSchema } from "./placement.ts";
import { z } from "zod";
import { keepWithinProblem } from "../core/snapshots/retention.ts";
import { parseDate } from "../core/schedule/calendar.ts";
import { ICS_MAX_BYTES, parseIcs } from "../core/schedule/ics.ts";
import { cronProblem } from "../core/schedule/schedule.ts";
import type * as Core from "../core/model/rules.ts";
import { ownServerMetadataKeys, parks, poolMax, scaleInAction } from "../core/model/rules.ts";
import { parseWindow } from "../core/schedule/windows.ts";

/** Metadata keys novascale itself writes on servers and images; users may not set them. */
export const RESERVED_METADATA_PREFIX = "novascale:";
/** The parking helpers live in core (which decides with them); callers of the rules format get them here too. */
export { parks, poolMax, scaleInAction };
/** Nova's modern default for metadata items per server; a cloud may allow fewer (the book's: 5). */
export const DEFAULT_MAX_SERVER_METADATA = 128;

export const GROUP_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const GroupNameSchema = z
  .string()
  .regex(GROUP_NAME_PATTERN, "lower-case letters, digits and '-', starting with a letter or digit, at most 63 characters");

/**
 * Answers per zone name, remembered: building an Intl.DateTimeFormat costs milliseconds (ICU loads
 * the zone), and rules are parsed on every read route and every tick, twice per schedule entry (the
 * zone, then the cron in that zone). 50 entries in one zone cost ~200 ms a parse before this.
 */
const zoneAnswers = new Map<string, boolean>();
const ZONE_ANSWERS_KEPT = 1_000;

export function isValidTimeZone(zone: string): boolean {
  const known = zoneAnswers.get(zone);
  if (known !== undefined) return known;
  let valid: boolean;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    valid = true;
  } catch {
    valid = false;
  }
  if (zoneAnswers.size >= ZONE_ANSWERS_KEPT) zoneAnswers.clear(); // bounded: arbitrary invalid names cannot grow it
  zoneAnswers.set(zone, valid);
  return valid;
}

export const TimeZoneSchema = z.string().refine(isValidTimeZone, { message: "unknown IANA time zone" });
export const CronSchema = z.string().min(1).max(200);

/**
 * Checks an entry's cron pattern in the entry's own zone (a pattern can be fine in UTC and never
 * fire in Berlin). Validation reads the clock: "fires within the coming years" is about now.
 */
export function checkCronInZone(entry: { cron: string; timezone: string }, ctx: z.RefinementCtx): void {
  if (!isValidTimeZone(entry.timezone)) return;
  const problem = cronProblem(entry.cron, entry.timezone, new Date());
  if (problem !== undefined) ctx.addIssue({ code: "custom", path: ["cron"], message: `invalid cron expression: ${problem}` });
}

const AT_PATTERN = /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
/** An ISO-8601 date-time with an offset; seconds optional ("2026-12-24T18:00+01:00"). */
export const AtSchema = z.string().refine((v) => {
  const m = AT_PATTERN.exec(v);
  return m !== null && parseDate(m[1] ?? "") !== undefined && !Number.isNaN(Date.parse(v));
}, { message: "ISO-8601 date-time with an offset, e.g. 2026-12-24T18:00+01:00 (seconds optional)" });

const Count = z.number().int().min(0).max(10_000);

// ---- Nova's own input rules (nova/api/openstack/compute/schemas): what the API accepts, Nova accepts too ----

/** Nova's metadata key pattern (parameter_types.metadata): anything else is a 400 at boot time. */
export const NOVA_METADATA_KEY = /^[a-zA-Z0-9-_:. ]{1,255}$/;
/** Nova's limit on user_data, counted after base64 encoding. */
export const MAX_USER_DATA_BASE64 = 65_535;
/** oslo's is_uuid_like, as Nova checks `uuid` and `port`: 32 hex digits, dashes optional, any case. */
export const UUID_LIKE = /^(?:urn:uuid:)?\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i;
/** C0 and C1 control characters (NUL, ESC, newlines, DEL, ...): text shown in logs and terminals carries none. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** Bytes of `text` once base64-encoded (UTF-8 first, as the client encodes it). */
export function base64Length(text: string): number {
  return 4 * Math.ceil(new TextEncoder().encode(text).byteLength / 3);
}

/** Why Nova would refuse this metadata key, or undefined. */
export function metadataKeyProblem(key: string): string | undefined {
  if (NOVA_METADATA_KEY.test(key)) return undefined;
  return `${JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}…` : key)}: Nova accepts metadata keys of 1-255 letters, digits, spaces and '-', '_', ':', '.'`;
}

/** A reason (override, pause): one line of printable text, since it is shown in logs, status and terminals. */
export const ReasonSchema = z
  .string()
  .trim()
  .min(1)
  .max(500)
  .refine((text) => !CONTROL_CHARACTERS.test(text), { message: "must not contain control characters (NUL, ESC, line breaks, ...)" });

/** Metadata as Nova takes it: keys by Nova's pattern (each bad key named), values up to 255 characters. */
const NovaMetadataSchema = z.record(z.string(), z.string().max(255)).superRefine((metadata, ctx) => {
  for (const key of Object.keys(metadata)) {
    const problem = metadataKeyProblem(key);
    if (problem !== undefined) ctx.addIssue({ code: "custom", path: [key], message: problem });
  }
});

/** An image or flavor: by name (resolved each tick) or by id. */
export const ResourceRefSchema = z.union([
  z.string().min(1).max(255),
  z.object({ id: z.string().min(1).max(255) }).strict(),
]);
export type ResourceRef = z.infer<typeof ResourceRefSchema>;

/** Flavors a list may name at most: each is a fallback step, and a rules write looks each one up. */
export const MAX_FLAVOR_PREFERENCES = 5;
/**
 * A group's flavor: one name (or id), or a list in order of preference; a capacity or quota refusal of
 * one marks it unavailable for a while and boots take the next (core/scaling/flavors.ts).
 */
export const FlavorRulesSchema = z
  .union([
    ResourceRefSchema,
    z
      .array(ResourceRefSchema)
      .min(1, "a list of flavors needs at least one name")
      .max(MAX_FLAVOR_PREFERENCES, `at most ${MAX_FLAVOR_PREFERENCES} flavors`)
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((ref, i) => {
          const key = typeof ref === "string" ? ref : `id:${ref.id}`;
          if (seen.has(key)) ctx.addIssue({ code: "custom", path: [i], message: `${typeof ref === "string" ? ref : `id ${ref.id}`} is named twice` });
          seen.add(key);
        });
      }),
  ])
  .meta({ description: "a flavor name (or {id}), or a list of them in order of preference: the next one boots while a flavor has no room (NoValidHost) or hits quota" });
export type FlavorRules = z.infer<typeof FlavorRulesSchema>;

export const CronScheduleSchema = z
  .object({ cron: CronSchema, timezone: TimeZoneSchema.default("UTC"), desired: Count, name: z.string().max(100).optional() })
  .strict()
  .superRefine(checkCronInZone);
export const OneShotScheduleSchema = z
  .object({ at: AtSchema, desired: Count, name: z.string().max(100).optional() })
  .strict();
const WindowSpecSchema = z
  .string()
  .min(1)
  .max(200)
  .superRefine((spec, ctx) => {
    const parsed = parseWindow(spec);
    if ("error" in parsed) ctx.addIssue({ code: "custom", message: `invalid window: ${parsed.error}` });
  });
export const WindowScheduleSchema = z
  .object({
    window: WindowSpecSchema.meta({
      description: "days and wall-clock times: 'Mon-Fri 08:00-20:00', 'Mon,Wed 08:00-12:00,13:00-20:00', 'Fri-Mon 22:00-06:00', 'Fri 22:00-Mon 06:00', '08:00-20:00' (every day)",
    }),
    timezone: TimeZoneSchema.default("UTC"),
    desired: Count,
    name: z.string().max(100).optional(),
  })
  .strict()
  .meta({ description: "a window: `desired` applies while it is open (over point entries and the default; under exceptions and overrides)" });
export const ScheduleEntrySchema = z.union([CronScheduleSchema, OneShotScheduleSchema, WindowScheduleSchema]);
export type CronSchedule = z.infer<typeof CronScheduleSchema>;
export type OneShotSchedule = z.infer<typeof OneShotScheduleSchema>;
export type WindowSchedule = z.infer<typeof WindowScheduleSchema>;
export type ScheduleEntry = z.infer<typeof ScheduleEntrySchema>;
/** Entries that fire at instants (cron, one-shot), as opposed to windows that hold over spans. */
export type PointEntry = CronSchedule | OneShotSchedule;

/** The UTF-8 size of a text: the calendar bound counts bytes, as the docs say (a character can be up to 4). */
const utf8Bytes = (text: string): number => new TextEncoder().encode(text).byteLength;
export const ExceptionSchema = z
  .object({
    name: z.string().min(1).max(100),
    dates: z
      .array(z.string().refine((d) => parseDate(d) !== undefined, { message: "a calendar date YYYY-MM-DD" }))
      .max(1000)
      .optional(),
    ics: z
      .string()
      .meta({ description: `iCalendar text (at most ${ICS_MAX_BYTES} bytes as UTF-8) whose events become the local days they cover` })
      .superRefine((text, ctx) => {
        // Bytes, not characters: Mozilla's Persian calendar is 263,000 characters and 374,000 bytes.
        const bytes = utf8Bytes(text);
        if (bytes > ICS_MAX_BYTES) {
          ctx.addIssue({ code: "custom", message: `the iCalendar text is ${bytes} bytes (at most ${ICS_MAX_BYTES})` });
          return;
        }
        const parsed = parseIcs(text);
        if ("error" in parsed) ctx.addIssue({ code: "custom", message: `invalid iCalendar: ${parsed.error}` });
      })
      .optional(),
    timezone: TimeZoneSchema.default("UTC"),
    desired: Count,
  })
  .strict()
  .refine((e) => (e.dates?.length ?? 0) > 0 || e.ics !== undefined, { message: "an exception needs `dates` or `ics`", path: ["dates"] })
  .meta({ description: "an exception calendar: on its days (whole local days in `timezone`) `desired` applies over windows and schedule entries" });
export type ExceptionEntry = z.infer<typeof ExceptionSchema>;

const IPV4 = z.ipv4();
const IPV6 = z.ipv6();
function isIpAddress(text: string): boolean {
  return IPV4.safeParse(text).success || IPV6.safeParse(text).success;
}

const UuidLike = (what: string) => z.string().regex(UUID_LIKE, `${what} must be a UUID (Nova refuses anything else)`);

export const NetworksSchema = z.union([
  z.enum(["auto", "none"]),
  z
    .array(
      z
        .object({
          uuid: UuidLike("the network's uuid").optional(),
          port: UuidLike("the port").optional(),
          fixedIp: z.string().refine(isIpAddress, "fixedIp must be an IPv4 or IPv6 address").optional(),
        })
        .strict()
        .refine((n) => n.uuid !== undefined || n.port !== undefined, { message: "a network needs uuid or port" }),
    )
    .min(1),
]);

export const SnapshotSourceSchema = z.union([
  z.enum(["oldest", "newest"]),
  z.object({ metadata: NovaMetadataSchema }).strict(),
]);

const KeepCount = z.number().int().min(1).max(1000).optional();

/** Calendar retention (restic's forget rules), shared by a group's snapshots and snapshot policies. */
export const RetentionRulesShape = {
  keepLast: KeepCount,
  keepDaily: KeepCount,
  keepWeekly: KeepCount,
  keepMonthly: KeepCount,
  keepYearly: KeepCount,
  keepWithin: z
    .string()
    .max(40)
    .superRefine((d, ctx) => {
      const problem = keepWithinProblem(d);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
};
export const RETENTION_RULE_KEYS = ["keepLast", "keepDaily", "keepWeekly", "keepMonthly", "keepYearly", "keepWithin"] as const;

export const SnapshotPolicySchema = z
  .object({
    cron: CronSchema,
    timezone: TimeZoneSchema.default("UTC"),
    /** The older name of keepLast. */
    keep: z.number().int().min(1).max(100).optional(),
    ...RetentionRulesShape,
    keepManual: z.number().int().min(0).max(100).default(5),
    source: SnapshotSourceSchema.default("oldest"),
    namePrefix: z.string().min(1).max(100).optional(),
    graceHours: z.number().min(0.25).max(48).default(6),
    maxAttempts: z.number().int().min(1).max(10).default(3),
  })
  .strict()
  .superRefine((p, ctx) => {
    checkCronInZone(p, ctx);
    if (p.keep !== undefined && p.keepLast !== undefined) {
      ctx.addIssue({ code: "custom", path: ["keep"], message: "give keepLast or keep (its older name), not both" });
    }
    if (p.keep === undefined && RETENTION_RULE_KEYS.every((k) => p[k] === undefined)) {
      ctx.addIssue({ code: "custom", path: ["keepLast"], message: `a snapshot policy needs a retention rule: keep or one of ${RETENTION_RULE_KEYS.join(", ")}` });
    }
  });
export type SnapshotPolicy = z.infer<typeof SnapshotPolicySchema>;

/** A new server's HTTP health check during a refresh (the Worker fetches it: the server must be reachable from it). */
export const RefreshHealthCheckSchema = z
  .object({
    url: z
      .string()
      .max(2000)
      .refine((u) => URL.canParse(u.replaceAll("{ip}", "192.0.2.1")) && /^https?:/i.test(u), {
        message: "an http(s) URL; {ip} stands for the server's address, e.g. http://{ip}:8080/healthz",
      }),
    graceSeconds: z.number().int().min(0).max(3600).default(300),
    timeoutMs: z.number().int().min(100).max(10_000).default(2000),
  })
  .strict();

/** A rolling refresh: members on an old image or flavor are replaced, new ones first. */
export const RefreshRulesSchema = z
  .object({
    maxSurge: z.number().int().min(1).max(100).default(1),
    /** Absent: the desired count (a group of 1 always surges). */
    minInService: Count.optional(),
    windows: z
      .array(WindowSpecSchema)
      .max(20)
      .default([])
      .meta({ description: "disruption windows in `timezone` ('Mon-Fri 02:00-05:00'); empty: any time" }),
    timezone: TimeZoneSchema.default("UTC"),
    healthCheck: RefreshHealthCheckSchema.optional(),
    failureThreshold: z.number().int().min(1).max(100).default(2),
  })
  .strict();
export type RefreshRules = z.infer<typeof RefreshRulesSchema>;

// Keys are checked in a superRefine (NovaMetadataSchema, reserved keys in the group's): a refined record
// key only yields zod's generic "Invalid key in record", and users need to be told which key and why.
export const GroupRulesSchema = z
  .object({
    /** "elastic" (default): novascale boots and removes servers. "power": novascale only parks and resumes servers an operator tagged. */
    mode: z.enum(["elastic", "power"]).default("elastic"),
    /** Required for elastic groups; a power group has none (it never boots). */
    image: ResourceRefSchema.optional(),
    flavor: FlavorRulesSchema.optional(),
    min: Count.default(0),
    max: Count,
    default: Count.optional(),
    schedules: z.array(ScheduleEntrySchema).max(50).default([]),
    exceptions: z.array(ExceptionSchema).max(20).default([]),
    networks: NetworksSchema.default("auto"),
    metadata: NovaMetadataSchema.default({}),
    keyName: z.string().min(1).max(255).optional(),
    userData: z
      .string()
      .superRefine((text, ctx) => {
        const encoded = base64Length(text);
        if (encoded > MAX_USER_DATA_BASE64) {
          ctx.addIssue({ code: "custom", message: `${encoded} bytes once base64-encoded; Nova takes at most ${MAX_USER_DATA_BASE64} (about 48 KiB of text)` });
        }
      })
      .optional(),
    securityGroups: z.array(z.string().min(1).max(255)).max(20).optional(),
    availabilityZone: z.string().min(1).max(255).optional(),
    namePrefix: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$/, "letters, digits, '.', '_' and '-', at most 41 characters").optional(),
    scaleIn: z
      .object({
        order: z.enum(["oldest-first", "newest-first"]).default("oldest-first"),
        /** What scale-in does: delete (elastic default), shelve or stop (park; power default stop). See scaleInAction(). */
        action: z.enum(["delete", "shelve", "stop"]).optional(),
      })
      .strict()
      .default({ order: "oldest-first" }),
    /** Parked members kept at most (elastic groups that park); default max - min. Excess parked members are deleted, oldest first. */
    pool: z.object({ max: Count.optional() }).strict().optional(),
    /** A hand change to a parked/resumed server: "enforce" re-asserts every tick, "respect" leaves it until the next change of desired. */
    manualChanges: z.enum(["enforce", "respect"]).default("enforce"),
    replaceShutoff: z.boolean().default(true),
    limits: z
      .object({
        maxBootsPerTick: z.number().int().min(1).max(500).default(10),
        maxDeletesPerTick: z.number().int().min(1).max(500).default(10),
        buildTimeoutMinutes: z.number().int().min(1).max(1440).default(30),
      })
      .strict()
      .default({ maxBootsPerTick: 10, maxDeletesPerTick: 10, buildTimeoutMinutes: 30 }),
    snapshots: SnapshotPolicySchema.optional(),
    /** Rolling refresh to a new image or flavor; absent: members on an old one are left as they are. */
    refresh: RefreshRulesSchema.optional(),
    paused: z.boolean().default(false),
    /** The named cloud (NOVASCALE_CLOUDS, or `default`: OS_*) and its region; checked against the deployment's clouds when written (422). */
    cloud: CloudNameSchema.optional(),
    region: RegionNameSchema.optional(),
  })
  .strict()
  .superRefine((g, ctx) => {
    modeProblems(g).forEach(([path, message]) => ctx.addIssue({ code: "custom", path, message }));
    if (g.min > g.max) ctx.addIssue({ code: "custom", path: ["min"], message: `min (${g.min}) is greater than max (${g.max})` });
    if (g.default !== undefined && (g.default < g.min || g.default > g.max)) {
      ctx.addIssue({ code: "custom", path: ["default"], message: `default (${g.default}) is outside [min, max] = [${g.min}, ${g.max}]` });
    }
    for (const key of Object.keys(g.metadata)) {
      if (key.startsWith(RESERVED_METADATA_PREFIX)) {
        ctx.addIssue({ code: "custom", path: ["metadata", key], message: `'${key}': keys starting with '${RESERVED_METADATA_PREFIX}' are reserved for novascale` });
      }
    }
    const own = ownServerMetadataKeys(g);
    const room = DEFAULT_MAX_SERVER_METADATA - own;
    if (Object.keys(g.metadata).length > room) {
      ctx.addIssue({ code: "custom", path: ["metadata"], message: `at most ${room} keys (Nova allows ${DEFAULT_MAX_SERVER_METADATA}, novascale uses ${own})` });
    }
  });

/** Fields that only make sense when novascale boots: a power group may not set them. */
const BOOT_ONLY_FIELDS = ["image", "flavor", "keyName", "userData", "securityGroups", "availabilityZone", "namePrefix", "pool", "refresh"] as const;

/** What is wrong with the mode-dependent fields (path, message), empty when nothing is. */
function modeProblems(g: {
  mode: "elastic" | "power";
  image?: unknown;
  flavor?: unknown;
  scaleIn: { action?: string | undefined };
  metadata: Record<string, string>;
  pool?: { max?: number | undefined } | undefined;
  [key: string]: unknown;
}): Array<[Array<string>, string]> {
  const out: Array<[Array<string>, string]> = [];
  if (g.mode === "elastic") {
    if (g.image === undefined) out.push([["image"], "required for an elastic group (the image its servers boot from)"]);
    if (g.flavor === undefined) out.push([["flavor"], "required for an elastic group (the flavor its servers boot with)"]);
    return out;
  }
  for (const field of BOOT_ONLY_FIELDS) {
    if (g[field] !== undefined) out.push([[field], `a power group never boots: remove '${field}' (its members are the servers tagged novascale:group)`]);
  }
  if (Object.keys(g.metadata).length > 0) out.push([["metadata"], "a power group never boots, so it writes no boot metadata: remove 'metadata'"]);
  if (g.scaleIn.action === "delete") out.push([["scaleIn", "action"], "a power group never deletes: use 'stop' or 'shelve'"]);
  return out;
}

/** Rules as the user writes them (defaults optional). */
export type GroupRulesInput = z.input<typeof GroupRulesSchema>;
/** Rules after parsing: defaults filled in, trusted inside. */
export type GroupRules = z.output<typeof GroupRulesSchema>;
/** A group: its name plus its rules. */
export interface Group {
  name: string;
  rules: GroupRules;
}

/** A manual override of the desired count, held in the group's Durable Object. */
export const OverrideSchema = z
  .object({
    desired: Count,
    until: z.iso.datetime({ offset: true }),
    reason: ReasonSchema,
    author: z.string().min(1).max(100),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .strict();
export type Override = z.infer<typeof OverrideSchema>;

// The core decides on plain types of its own (src/core/rules.ts: core never imports this edge). The
// parsed shapes must be exactly those types: when a schema above changes, mirror it there.
export type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export type MirroredInCore<T extends true> = T;
export type ParsedShapesMatchCore = [
  MirroredInCore<Exactly<GroupRules, Core.GroupRules>>,
  MirroredInCore<Exactly<ScheduleEntry, Core.ScheduleEntry>>,
  MirroredInCore<Exactly<ExceptionEntry, Core.ExceptionEntry>>,
  MirroredInCore<Exactly<SnapshotPolicy, Core.SnapshotPolicy>>,
  MirroredInCore<Exactly<ResourceRef, Core.ResourceRef>>,
  MirroredInCore<Exactly<FlavorRules, Core.FlavorRules>>,
  MirroredInCore<Exactly<Override, Core.Override>>,
  MirroredInCore<Exactly<RefreshRules, Core.RefreshRules>>,
];
