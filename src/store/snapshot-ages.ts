// The stored shape of each server's newest snapshot (group and policy objects keep one list each, for GET /metrics).
import { z } from "zod";
import type { NewestSnapshot } from "../core/snapshots/snapshot-ages.ts";

const NewestSnapshotSchema = z.object({
  serverId: z.string(),
  serverName: z.string(),
  group: z.string(),
  imageId: z.string(),
  imageName: z.string(),
  created: z.string(),
});

/** A list of NewestSnapshot as read back from Durable Object storage (a value that does not parse reads as none). */
export const NewestSnapshotsSchema: z.ZodType<NewestSnapshot[]> = z.array(NewestSnapshotSchema);
