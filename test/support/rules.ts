// Test helpers around the rules registry: remove every group and policy between tests, reach its table for corrupt rows.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createGroupService } from "../../src/reconcile/services/group-service.ts";
import { createPolicyService } from "../../src/reconcile/services/policy-service.ts";
import { REGISTRY_NAME } from "../../src/reconcile/registry/registry.ts";
import { MemoryCloud } from "../reconcile/memory-cloud.ts";

/** The registry's own stub (for runInDurableObject). */
export function registryObject(): DurableObjectStub {
  return env.REGISTRY.get(env.REGISTRY.idFromName(REGISTRY_NAME));
}

/**
 * Deletes every group through the service (force: their servers, if any, are another test's cloud's),
 * so the next test's ticks see only its own groups. Storage is shared by the tests of one file.
 */
export async function deleteAllGroups(): Promise<void> {
  const service = createGroupService(env, { cloudFactory: () => new MemoryCloud() });
  for (const { name } of await service.listGroups()) await service.deleteGroup(name, { force: true, author: "test-cleanup" });
}

/** Stores a row the group schema refuses, as a later release with stricter rules might find one. */
export async function storeUnreadableGroup(name: string): Promise<void> {
  await runInDurableObject(registryObject(), async (_instance, state) => {
    // The object's constructor has created the table.
    state.storage.sql.exec(
      `INSERT INTO rules (kind, name, revision, body, etag, updated_at, updated_by, fenced) VALUES ('group', ?, 1, ?, '"x"', '2026-11-26T07:00:00.000Z', 'test', 1)`,
      name,
      JSON.stringify({ rules: { max: -1 }, revision: 1, etag: '"x"', updatedAt: "2026-11-26T07:00:00.000Z", updatedBy: "test" }),
    );
  });
}

/** Deletes every snapshot policy (their snapshots stay, as for any policy delete), so the next test's ticks see only its own. */
export async function deleteAllPolicies(): Promise<void> {
  const policies = createPolicyService(env);
  for (const { name } of await policies.list()) await policies.remove(name, { author: "test-cleanup" });
}
