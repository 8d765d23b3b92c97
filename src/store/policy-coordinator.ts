// Durable Object storage of one snapshot policy: rules fence, operator pause, last run, createImage ledger, settled mark, activity log.
import { z } from "zod";
import type { SentSnapshot, SettledMark } from "../core/snapshots/policy-run.ts";
import type { PauseState, PolicyRunRecord } from "../core/records.ts";
import { ActivityLog } from "./activity-log.ts";
import { readParsed } from "./parsed.ts";
import { rulesFenceSchema, type RulesFenceOf } from "./rules.ts";
import { NewestSnapshotsSchema } from "./snapshot-ages.ts";
import type { NewestSnapshot } from "../core/snapshots/snapshot-ages.ts";

export type PolicyFence = RulesFenceOf<"snapshotPolicy">;

const KEY = { fence: "rules:snapshotPolicy", pause: "pause", lastRun: "lastRun", ledger: "ledger", settled: "settled", newest: "newestSnapshots" } as const;
const SettledSchema = z.object({ firing: z.string(), revision: z.number().int(), paused: z.boolean(), selected: z.string() });

const FenceSchema = rulesFenceSchema("snapshotPolicy");
const PauseStateSchema = z.object({ by: z.string(), reason: z.string().optional(), at: z.string() });
// Our own data written by this code: the inner shapes are checked loosely.
const RunRecordSchema = z
  .object({
    at: z.string(),
    trigger: z.enum(["cron", "manual"]),
    author: z.string(),
    rulesEtag: z.string(),
    rulesRevision: z.number(),
    status: z.object({ firing: z.string().nullable(), health: z.string(), servers: z.array(z.object({ serverId: z.string() }).loose()) }).loose().nullable(),
    steps: z.array(z.object({ kind: z.string() }).loose()),
    notices: z.array(z.object({ level: z.string(), code: z.string(), message: z.string() })),
    errors: z.array(z.object({ operation: z.string(), category: z.string(), message: z.string() }).loose()),
    deferred: z.object({ reason: z.enum(["subrequests", "deadline"]), steps: z.number().int(), message: z.string() }).optional(),
    lastSeenAt: z.string().optional(),
  })
  .loose();

/**
 * One createImage this object sent (or was about to send) for a server and a firing: while its image is
 * not in a listing yet, no second one is sent for the same pair (see policy-run.ts).
 */
const LedgerEntrySchema = z.object({ serverId: z.string(), firing: z.string(), at: z.string(), imageId: z.string().optional(), refused: z.literal(true).optional() });

/** Typed access to one policy's Durable Object storage; every read is parsed, a bad value reads as absent. */
export class PolicyStore {
  readonly #storage: DurableObjectStorage;
  readonly #log: ActivityLog;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    this.#log = new ActivityLog(storage.sql);
  }

  #read<T>(key: string, schema: z.ZodType<T>): Promise<T | undefined> {
    return readParsed(this.#storage, key, schema, "policy");
  }

  async #write(key: string, value: unknown): Promise<void> {
    if (value === undefined) await this.#storage.delete(key);
    else await this.#storage.put(key, value);
  }

  getFence(): Promise<PolicyFence | undefined> {
    return this.#read(KEY.fence, FenceSchema) as Promise<PolicyFence | undefined>;
  }
  setFence(value: PolicyFence): Promise<void> {
    return this.#write(KEY.fence, value);
  }

  getPause(): Promise<PauseState | undefined> {
    return this.#read(KEY.pause, PauseStateSchema);
  }
  setPause(value: PauseState | undefined): Promise<void> {
    return this.#write(KEY.pause, value);
  }

  async getLastRun(): Promise<PolicyRunRecord | undefined> {
    return (await this.#read(KEY.lastRun, RunRecordSchema)) as PolicyRunRecord | undefined;
  }
  setLastRun(value: PolicyRunRecord): Promise<void> {
    return this.#write(KEY.lastRun, value);
  }

  async getLedger(): Promise<SentSnapshot[]> {
    return ((await this.#read(KEY.ledger, z.array(LedgerEntrySchema))) ?? []) as SentSnapshot[];
  }
  setLedger(value: readonly SentSnapshot[]): Promise<void> {
    return this.#write(KEY.ledger, value.length === 0 ? undefined : value);
  }

  getSettled(): Promise<SettledMark | undefined> {
    return this.#read(KEY.settled, SettledSchema);
  }
  setSettled(value: SettledMark | undefined): Promise<void> {
    return this.#write(KEY.settled, value);
  }

  /** Each selected server's newest active snapshot of this policy, as of the last image listing (GET /metrics). */
  async getNewest(): Promise<NewestSnapshot[]> {
    return (await this.#read(KEY.newest, NewestSnapshotsSchema)) ?? [];
  }
  setNewest(value: readonly NewestSnapshot[]): Promise<void> {
    return this.#write(KEY.newest, value.length === 0 ? undefined : value);
  }

  appendActivity(entries: Parameters<ActivityLog["append"]>[0]): void {
    this.#log.append(entries);
  }
  readActivity(limit: number, only?: "changes"): ReturnType<ActivityLog["read"]> {
    return this.#log.read(limit, only);
  }

  /** Forgets the runtime state (the rules were deleted); the fence and the activity log stay. */
  async clearRuntime(): Promise<void> {
    await this.#storage.delete([KEY.pause, KEY.lastRun, KEY.ledger, KEY.settled, KEY.newest]);
  }
}
