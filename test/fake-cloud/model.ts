// The fake cloud's state (projects, users, tokens, flavors, servers, images, quotas) and its options.
import { z } from "zod";
import { FaultSpecSchema, PatternSchema } from "./faults.ts";
import { FlavorCapacitySchema, HostPoolSchema } from "./capacity.ts";

export interface FakeProject {
  id: string;
  name: string;
  domainId: string;
}

export interface FakeUser {
  id: string;
  name: string;
  password: string;
  domainId: string;
  /** Project the user works in (book-era clients name none). */
  projectId: string;
  roles: string[];
}

export interface FakeAppCredential {
  id: string;
  name: string;
  secret: string;
  userId: string;
  projectId: string;
}

export interface FakeToken {
  id: string;
  userId: string;
  projectId: string | null;
  methods: string[];
  roles: string[];
  issuedAt: number;
  expiresAt: number;
  auditId: string;
  revoked: boolean;
  appCredentialId?: string;
}

export interface FakeFlavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
}

export interface FakeAddress {
  network: string;
  addr: string;
  mac: string;
}

export interface FakeServer {
  id: string;
  /** Book-era (v1.1) integer id. */
  numericId: number;
  name: string;
  hostname: string;
  projectId: string;
  userId: string;
  status: string;
  vmState: string;
  taskState: string | null;
  powerState: number;
  imageId: string;
  flavorId: string;
  /** The flavor before a resize, until it is confirmed or reverted. */
  previousFlavorId: string | null;
  metadata: Record<string, string>;
  tags: string[];
  created: number;
  updated: number;
  launchedAt: number | null;
  reservationId: string;
  adminPass: string;
  keyName: string | null;
  description: string | null;
  availabilityZone: string;
  addresses: FakeAddress[];
  personality: Array<{ path: string; contents: string }>;
  /** What boot, PUT /servers/{id} or rebuild set ("" when never set, as Nova shows it). */
  accessIPv4: string;
  accessIPv6: string;
  locked: boolean;
  fault: { code: number; message: string; created: number } | null;
  /** Set when a stuckBuild fault holds the server in BUILD. */
  stuck: boolean;
  /** Set when a noValidHost fault failed it at scheduling: buried in cell0, its fault is not in listings. */
  cell0?: boolean;
  /** Virtual ms before which Nova's API does not show the server yet (a lateRegistration fault). */
  listedFrom?: number;
  /** The compute host the scheduler placed it on (capacity.ts); absent when none had room (NoValidHost). */
  host?: string;
}

export interface FakeImage {
  id: string;
  numericId: number;
  name: string;
  status: string;
  visibility: "public" | "private" | "shared" | "community";
  ownerProjectId: string;
  created: number;
  updated: number;
  /** Custom properties (Glance v2 shows them at the top level). */
  properties: Record<string, string>;
  size: number | null;
  minDisk: number;
  minRam: number;
  diskFormat: string | null;
  containerFormat: string | null;
  protected: boolean;
  tags: string[];
  checksum: string | null;
}

export interface Quotas {
  instances: number;
  cores: number;
  ram: number;
  metadata_items: number;
  injected_files: number;
  injected_file_content_bytes: number;
  injected_file_path_bytes: number;
  key_pairs: number;
  server_groups: number;
  server_group_members: number;
}

export const MODERN_QUOTAS: Quotas = {
  instances: 10,
  cores: 20,
  ram: 51200,
  metadata_items: 128,
  injected_files: 5,
  injected_file_content_bytes: 10240,
  injected_file_path_bytes: 255,
  key_pairs: 100,
  server_groups: 10,
  server_group_members: 10,
};

/** The book's cloud: 5 metadata items per server and per image, 5 personality files of 10 KiB. */
export const BOOK_QUOTAS: Quotas = { ...MODERN_QUOTAS, metadata_items: 5 };

export const SEED_FLAVORS: readonly FakeFlavor[] = [
  { id: "1", name: "m1.tiny", vcpus: 1, ram: 512, disk: 1 },
  { id: "2", name: "m1.small", vcpus: 1, ram: 2048, disk: 20 },
  { id: "3", name: "m1.medium", vcpus: 2, ram: 4096, disk: 40 },
  { id: "4", name: "m1.large", vcpus: 4, ram: 8192, disk: 80 },
];

const UserSeedSchema = z.object({
  name: z.string().min(1),
  password: z.string().min(1),
  project: z.string().min(1),
  domain: z.string().default("Default"),
  roles: z.array(z.string()).default(["member", "reader"]),
  applicationCredentials: z.array(z.object({ id: z.string().min(1), secret: z.string().min(1), name: z.string().optional() })).default([]),
});

const RateLimitSchema = z.object({
  verb: z.enum(["GET", "POST", "PUT", "DELETE"]),
  /** Display form, e.g. "*" or "*\/servers" (as old Nova printed it). */
  uri: z.string().default("*"),
  /** Regular expression on the path below the compute prefix. */
  regex: PatternSchema.default(".*"),
  value: z.number().int().positive(),
  unit: z.enum(["SECOND", "MINUTE", "HOUR", "DAY"]).default("MINUTE"),
});
export type RateLimit = z.output<typeof RateLimitSchema>;

export const FakeCloudOptionsSchema = z.object({
  /** "manual": time moves only when told (tests). "real": wall clock, still advanceable (standalone). */
  clock: z.enum(["manual", "real"]).default("manual"),
  /** Start instant for the manual clock (ms since epoch or ISO); default: now. */
  startAt: z.union([z.number(), z.string()]).optional(),
  /** Seed for ids, passwords and fault rates: the same seed repeats a run. */
  seed: z.number().int().default(1),
  /** "book": the cloud of "Programming OpenStack Compute API" (5 metadata items, personality limits). */
  mode: z.enum(["modern", "book"]).default("modern"),
  buildMs: z.number().int().min(0).default(5_000),
  deleteMs: z.number().int().min(0).default(2_000),
  actionMs: z.number().int().min(0).default(3_000),
  /** Nova's shelved_offload_time in ms: 0 offloads a shelved server at once (Nova's default), -1 never. */
  shelvedOffloadMs: z.number().int().min(-1).default(0),
  snapshotMs: z.number().int().min(0).default(10_000),
  tokenTtlMs: z.number().int().positive().default(3_600_000),
  /** Highest compute microversion offered (the real Zed: 2.93). */
  maxMicroversion: z.string().regex(/^2\.\d+$/).default("2.93"),
  /** Keystone v2.0 answers (modern Keystone has removed it: then 404). */
  keystoneV2: z.boolean().default(true),
  /** v2.0 body: "auto" answers the book's body to a book-style request and `access` otherwise. */
  keystoneV2Style: z.enum(["auto", "book", "access"]).default("auto"),
  /** networks: "auto" works (a cloud with auto-allocated topology); false mimics devstack without it. */
  autoAllocateNetwork: z.boolean().default(true),
  /** Per-project quota overrides on top of the mode's defaults. */
  quotas: z.record(z.string(), z.number().int()).optional(),
  users: z.array(UserSeedSchema).optional(),
  /** Rate limits (enforced, shown in /limits `rate`); real modern clouds show []. */
  rateLimits: z.array(RateLimitSchema).default([]),
  region: z.string().default("RegionOne"),
  /** Nova's osapi_max_limit: the largest page. */
  maxPageSize: z.number().int().positive().default(1000),
  /** Key pair names that exist; when given, a boot naming another answers 400 like Nova. Default: any name is accepted. */
  keypairs: z.array(z.string()).optional(),
  /** Servers of a flavor (name or id) that hold a host at once, e.g. `{ "m1.large": 2 }`; a boot beyond goes to ERROR (NoValidHost). */
  capacity: FlavorCapacitySchema.optional(),
  /** A pool of identical hosts, e.g. `{ count: 2, vcpus: 8, ramMB: 16384 }`: a server fits where its flavor's size fits. Default: room without end. */
  hosts: HostPoolSchema.optional(),
  /** Faults for the whole run (also set again by reset); tests usually add theirs with addFault. */
  faults: z.array(FaultSpecSchema).default([]),
});

export type FakeCloudOptions = z.input<typeof FakeCloudOptionsSchema>;
export type ResolvedOptions = z.output<typeof FakeCloudOptionsSchema>;
export type UserSeed = z.output<typeof UserSeedSchema>;

export const DEFAULT_USERS: UserSeed[] = [
  {
    name: "demo",
    password: "demo-password",
    project: "demo",
    domain: "Default",
    roles: ["member", "reader"],
    applicationCredentials: [{ id: "demo-app-cred", secret: "demo-app-cred-secret", name: "novascale" }],
  },
  { name: "admin", password: "admin-password", project: "admin", domain: "Default", roles: ["admin", "member", "reader"], applicationCredentials: [] },
];

export function quotasFor(options: ResolvedOptions): Quotas {
  const base = options.mode === "book" ? BOOK_QUOTAS : MODERN_QUOTAS;
  const merged: Quotas = { ...base };
  for (const [key, value] of Object.entries(options.quotas ?? {})) {
    if (key in merged) merged[key as keyof Quotas] = value;
  }
  return merged;
}

/** Nova reports a server's status from its vm_state and task_state; the fake keeps `status` explicit. */
export interface ServerUsage {
  instances: number;
  cores: number;
  ram: number;
}
