// What the API calls for signals in: a group's receivers (create, list, revoke) and one signal, in the group's Durable Object.
import type { Env } from "../../config/env.ts";
import { RECEIVER_ID_PATTERN, type ReceiverCreate } from "../../config/signals.ts";
import { coordinatorStub } from "../groups/coordinator.ts";
import { UNKNOWN_RECEIVER, type ReceiverView, type SignalAnswer, type SignalRequest } from "../groups/coordinator-signals.ts";
import { findRules } from "../registry/rules-writes.ts";
import { ConflictError, InvalidRequestError, NotFoundError } from "../shared/service.ts";

export type { ReceiverView, SignalAnswer, SignalRequest } from "../groups/coordinator-signals.ts";

export interface SignalService {
  /** Throws NotFoundError (no group), InvalidRequestError (desired above max: details.field), ConflictError (name taken, too many). */
  createReceiver(group: string, input: ReceiverCreate, author: string, now: Date): Promise<{ receiver: ReceiverView; secret: string }>;
  listReceivers(group: string): Promise<ReceiverView[]>;
  /** Throws NotFoundError when the group or the receiver does not exist. */
  revokeReceiver(group: string, id: string, author: string, now: Date): Promise<ReceiverView>;
  /** Never throws for a caller's mistake: the answer says what to send back. */
  signal(receiverId: string, request: Omit<SignalRequest, "receiverId">): Promise<SignalAnswer>;
}

export function createSignalService(env: Env): SignalService {
  async function rulesOf(group: string) {
    const envelope = await findRules(env, "group", group);
    if (envelope === null) throw new NotFoundError(`no group named '${group}'`);
    return envelope.rules;
  }
  return {
    async createReceiver(group, input, author, now) {
      const rules = await rulesOf(group);
      const answer = await coordinatorStub(env, group).createReceiver(group, rules, input, author, now.toISOString());
      if (answer.ok) return { receiver: answer.receiver, secret: answer.secret };
      if (answer.status === 422) throw new InvalidRequestError(answer.message, { field: answer.path });
      throw new ConflictError(answer.message, { field: answer.path });
    },
    async listReceivers(group) {
      await rulesOf(group);
      return coordinatorStub(env, group).receivers();
    },
    async revokeReceiver(group, id, author, now) {
      await rulesOf(group);
      const gone = await coordinatorStub(env, group).revokeReceiver(group, id, author, now.toISOString());
      if (gone === null) throw new NotFoundError(`group '${group}' has no receiver '${id}'`);
      return gone;
    },
    async signal(receiverId, request) {
      // The id names its group; anything else is the same 404 as a revoked receiver (and reaches no object).
      const match = RECEIVER_ID_PATTERN.exec(receiverId);
      const group = match?.[1];
      if (group === undefined) return UNKNOWN_RECEIVER;
      return coordinatorStub(env, group).signal(group, { ...request, receiverId });
    },
  };
}
