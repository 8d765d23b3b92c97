// Parking bookkeeping in a group's Durable Object: the ledger of parked spans and the resumes not settled yet.
import { parkedMembers } from "../../core/scaling/park-plan.ts";
import { ParkingLedgerSchema, ResumeRecordsSchema, resumeTimes, updateLedger, updateResumes, type ParkedSpan, type ResumeRecord } from "../../core/scaling/parking.ts";
import type { ObservedServer } from "../../core/model/types.ts";
import type { CoordinatorStore } from "../../store/coordinator.ts";
import type { StoredGroup, TickRecord } from "../shared/service.ts";

/** The storage slot parking keeps its ledger of parked spans in (for server-hours parked). */
const PARKING_SLOT = "parking";
/** The storage slot of the resumes novascale sent and that are not settled yet (see core/parking.ts). */
const RESUMES_SLOT = "resumes";

export async function parkingLedger(store: CoordinatorStore): Promise<ParkedSpan[]> {
  const parsed = ParkingLedgerSchema.safeParse(await store.getSlot(PARKING_SLOT));
  return parsed.success ? parsed.data : [];
}

export async function pendingResumes(store: CoordinatorStore): Promise<ResumeRecord[]> {
  const parsed = ResumeRecordsSchema.safeParse(await store.getSlot(RESUMES_SLOT));
  return parsed.success ? parsed.data : [];
}

/**
 * After a reconcile: records the resumes it sent (or may have: a lost answer) and settles older ones,
 * then opens and closes parked spans from what the listing showed. Each slot is written only on change.
 */
export async function followParking(store: CoordinatorStore, group: StoredGroup, members: readonly ObservedServer[], now: Date, resumes: ResumeRecord[], results: TickRecord["results"]): Promise<void> {
  const sent = results.flatMap((r) => (r.step.kind === "resume" && (r.outcome === "done" || r.outcome === "unknown") ? [r.step.serverId] : []));
  const nextResumes = resumes.length === 0 && sent.length === 0 ? resumes : updateResumes(resumes, members, sent, now);
  if (JSON.stringify(nextResumes) !== JSON.stringify(resumes)) await store.setSlot(RESUMES_SLOT, nextResumes);
  const parked = parkedMembers({ name: group.name, rules: group.rules }, members, now, resumeTimes(resumes)).map((c) => c.server);
  const ledger = await parkingLedger(store);
  if (ledger.length === 0 && parked.length === 0) return;
  const next = updateLedger(ledger, parked, now);
  if (JSON.stringify(next) !== JSON.stringify(ledger)) await store.setSlot(PARKING_SLOT, next);
}
