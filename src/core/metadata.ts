// Whether a group's server metadata fits the cloud's real per-server limit (checked at tick time, from /limits).
import { OWN_SERVER_METADATA_KEYS, type GroupRules } from "./rules.ts";

/**
 * A readable problem when the group's metadata plus novascale's own keys exceed the cloud's
 * maxServerMeta (the book's clouds allow 5), else undefined. null means the cloud sets no limit.
 */
export function checkMetadataFits(rules: Pick<GroupRules, "metadata">, maxServerMeta: number | null): string | undefined {
  if (maxServerMeta === null || maxServerMeta < 0) return undefined;
  const own = Object.keys(rules.metadata).length;
  const total = own + OWN_SERVER_METADATA_KEYS;
  if (total <= maxServerMeta) return undefined;
  return `metadata: ${own} key(s) of the group + ${OWN_SERVER_METADATA_KEYS} of novascale = ${total}, but this cloud allows ${maxServerMeta} per server; remove ${total - maxServerMeta} key(s)`;
}
