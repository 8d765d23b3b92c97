// The rules fence every follower applies (a group's and a policy's Durable Object): which rules a run acts on, what a registry message does.
import type { Notice } from "../../core/model/types.ts";
import type { RulesEnvelope } from "../../store/rules.ts";
import type { FollowAnswer, FollowUpdate } from "./registry-engine.ts";

/** Named rules as the registry accepted them (a StoredGroup, a StoredPolicy). */
export interface StoredRules<R> {
  name: string;
  rules: R;
  revision: number;
  etag: string;
  updatedAt: string;
  updatedBy: string;
}

/** What a follower holds: the newest revision it was told about, with a copy; `envelope: null` once deleted at it. */
export interface Fence<R> {
  revision: number;
  envelope: RulesEnvelope<R> | null;
}

/** What a run acts on: the newest rules this object knows, or "deleted". */
export type Fenced<R> = { entry: StoredRules<R>; notice?: Notice } | { deleted: number };

export function storedFrom<R>(name: string, envelope: RulesEnvelope<R>): StoredRules<R> {
  const { rules, revision, etag, updatedAt, updatedBy } = envelope;
  return { name, rules, revision, etag, updatedAt, updatedBy };
}

/**
 * The fence applied to the rules a run was handed: newer than anything known -> adopted (`adopt` is the
 * fence to store; the registry's message may still be on its way); older -> the newest known copy is used
 * instead (a stale KV read never undoes a newer change); deleted at a newer revision -> nothing may act.
 */
export function applyFence<R>(known: Fence<R> | null, offered: StoredRules<R>): { fenced: Fenced<R>; adopt?: Fence<R> } {
  if (known === null || offered.revision > known.revision) {
    const { rules, revision, etag, updatedAt, updatedBy } = offered;
    return { fenced: { entry: offered }, adopt: { revision, envelope: { rules, revision, etag, updatedAt, updatedBy } } };
  }
  if (known.envelope === null) return { fenced: { deleted: known.revision } };
  if (offered.revision === known.revision) return { fenced: { entry: offered } };
  const message = `this run was handed revision ${offered.revision} of the rules (a stale read); it acts on revision ${known.revision}, the newest accepted`;
  return { fenced: { entry: storedFrom(offered.name, known.envelope), notice: { level: "info", code: "rules-newer", message } } };
}

/**
 * What a registry message does to a follower holding `known`: answered at once (a revision already
 * taken: the same message again is fine, a different one is not and the registry renumbers), a delete,
 * or new rules to store.
 */
export function adoptDecision(known: Fence<unknown> | null, update: FollowUpdate): { answer: FollowAnswer } | { retire: true } | { store: true } {
  if (known !== null && update.revision <= known.revision) {
    const same = update.revision === known.revision && (known.envelope?.etag ?? null) === (update.envelope?.etag ?? null);
    return { answer: { accepted: same, revision: known.revision } };
  }
  return update.envelope === null ? { retire: true } : { store: true };
}

/** The activity line of adopted rules: created, re-created or changed. */
export function rulesChangedReason(what: string, known: Fence<unknown> | null, update: FollowUpdate, etag: string): string {
  if (known === null || known.envelope === null) return `${what} ${known === null ? "created" : "re-created"} (revision ${update.revision}, ${etag})`;
  return `rules changed from ${update.previousEtag ?? known.envelope.etag} to ${etag} (revision ${update.revision})`;
}

/** A delete's guard answer when the follower already holds `revision` or newer (undefined: go on and decide). */
export function retireAnswer(known: Fence<unknown> | null, revision: number): { ok: true } | { ok: false; behind: number } | undefined {
  if (known === null || known.revision < revision) return undefined;
  if (known.revision === revision && known.envelope === null) return { ok: true };
  return { ok: false, behind: known.revision };
}

/** Where a fence lives, and what to forget when new rules follow a delete. */
export interface FenceStorage<R> {
  read(): Promise<Fence<R> | undefined>;
  write(fence: Fence<R>): Promise<void>;
  recreated(): Promise<void>;
}

/** A follower's fence: read once from its storage, written through. */
export class FenceCell<R> {
  #value: Fence<R> | null | undefined;
  readonly #io: FenceStorage<R>;

  constructor(io: FenceStorage<R>) {
    this.#io = io;
  }

  async get(): Promise<Fence<R> | null> {
    if (this.#value === undefined) this.#value = (await this.#io.read()) ?? null;
    return this.#value;
  }

  /** The rules a run acts on (applyFence); newer rules than any known become the fence. */
  async apply(offered: StoredRules<R>): Promise<Fenced<R>> {
    const { fenced, adopt } = applyFence(await this.get(), offered);
    if (adopt !== undefined) await this.set(adopt);
    return fenced;
  }

  async set(fence: Fence<R>): Promise<void> {
    // Re-created after a delete: whatever reached the old entry after its delete (a pause, an override racing it) goes.
    if (this.#value?.envelope === null && fence.envelope !== null) await this.#io.recreated();
    this.#value = fence;
    await this.#io.write(fence);
  }
}
