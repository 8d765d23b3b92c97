// Fake Nova's key pairs, read-only: GET /os-keypairs (the `keypairs` option's names) and /os-keypairs/{name}.
import { json, novaError } from "../http.ts";
import type { Handler, Nova } from "./context.ts";

/** Nova's view of a key pair; the fake has no keys, so the fingerprint and key are placeholders. */
function keypairView(name: string): Record<string, unknown> {
  return { name, fingerprint: "00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00", public_key: `ssh-ed25519 AAAA-fake ${name}`, type: "ssh" };
}

/** `keypairs` unset: every name exists (boots accept any key_name) and the listing is empty. */
function known(n: Nova, name: string): boolean {
  const names = n.cloud.options.keypairs;
  return names === undefined || names.includes(name);
}

export const listKeypairs: Handler = (n) => json(200, { keypairs: (n.cloud.options.keypairs ?? []).map((name) => ({ keypair: keypairView(name) })) });

export const showKeypair: Handler = (n, [, name]) => {
  const wanted = name ?? "";
  // Nova's KeypairNotFound text (nova/exception.py).
  if (!known(n, wanted)) return novaError(404, `Keypair ${wanted} not found for user ${n.token.userId}`);
  return json(200, { keypair: { ...keypairView(wanted), user_id: n.token.userId, id: 1, deleted: false, created_at: "2026-01-01T00:00:00.000000", updated_at: null, deleted_at: null } });
};
