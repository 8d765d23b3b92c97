// Whether a group's server metadata fits the cloud's real per-server limit (checked at tick time, from /limits).
import { ownServerMetadataKeys, type GroupRules } from "./rules.ts";

/**
 * A readable problem when the group's metadata plus novascale's own keys exceed the cloud's
 * maxServerMeta (the book's clouds allow 5), else undefined. null means the cloud sets no limit.
 * A group that parks needs one key more (the park mark), written when a server is parked.
 */
export function checkMetadataFits(rules: Pick<GroupRules, "metadata" | "mode" | "scaleIn">, maxServerMeta: number | null): string | undefined {
  if (maxServerMeta === null || maxServerMeta < 0) return undefined;
  const own = Object.keys(rules.metadata).length;
  const ours = ownServerMetadataKeys(rules);
  const total = own + ours;
  if (total <= maxServerMeta) return undefined;
  return `metadata: ${own} key(s) of the group + ${ours} of novascale = ${total}, but this cloud allows ${maxServerMeta} per server; remove ${total - maxServerMeta} key(s)`;
}
