// Reading a Durable Object storage value through its schema: a value that does not parse reads as absent (and is logged), never thrown.
import type { z } from "zod";

export async function readParsed<T>(storage: DurableObjectStorage, key: string, schema: z.ZodType<T>, where: string): Promise<T | undefined> {
  const raw = await storage.get(key);
  if (raw === undefined) return undefined;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    console.error(`novascale: discarding unreadable '${key}' in ${where} storage`);
    return undefined;
  }
  return parsed.data;
}
