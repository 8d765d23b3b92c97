// The group's flavor marks in its Durable Object storage (slot "flavorMarks"): read parsed, written only on change.
import { z } from "zod";
import type { FlavorMark } from "../../core/scaling/flavors.ts";
import type { CoordinatorStore } from "../../store/coordinator.ts";

const SLOT = "flavorMarks";

const FlavorMarkSchema = z.object({
  flavor: z.string(),
  cause: z.string(),
  at: z.string(),
  until: z.string(),
  strikes: z.number().int().min(1),
  servers: z.array(z.string()),
});

/** The stored marks; an unreadable value reads as none (the next refusal marks again). */
export async function readFlavorMarks(store: Pick<CoordinatorStore, "getSlot">): Promise<FlavorMark[]> {
  const parsed = z.array(FlavorMarkSchema).safeParse(await store.getSlot(SLOT));
  return parsed.success ? parsed.data : [];
}

export async function writeFlavorMarks(store: Pick<CoordinatorStore, "setSlot">, marks: readonly FlavorMark[]): Promise<void> {
  await store.setSlot(SLOT, marks.length === 0 ? undefined : marks);
}
