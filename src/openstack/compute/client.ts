// The Nova client: one compute context (endpoint + microversion, discovered once) shared by the per-resource APIs.
import type { Session } from "../session.ts";
import { ComputeContext } from "./context.ts";
import { flavorsApi } from "./flavors.ts";
import { imagesApi } from "./images.ts";
import { keypairsApi } from "./keypairs.ts";
import { limitsApi } from "./limits.ts";
import { serversApi } from "./servers.ts";
import type { ComputeFeatures, MicroversionRequest } from "./versions.ts";

export interface NovaClient {
  readonly context: ComputeContext;
  /** Endpoint discovery + negotiation (one request, the first time). */
  features(): Promise<ComputeFeatures>;
  readonly servers: ReturnType<typeof serversApi>;
  readonly flavors: ReturnType<typeof flavorsApi>;
  /** Nova's image proxy (book era; pinned to 2.35 on newer clouds). Prefer Glance where the catalog has it. */
  readonly images: ReturnType<typeof imagesApi>;
  readonly limits: ReturnType<typeof limitsApi>;
  /** The caller's key pairs (show by name; a page for suggestions). */
  readonly keypairs: ReturnType<typeof keypairsApi>;
}

export function createNovaClient(session: Session, microversion: MicroversionRequest = "auto"): NovaClient {
  const context = new ComputeContext(session, microversion);
  return {
    context,
    features: () => context.features(),
    servers: serversApi(context),
    flavors: flavorsApi(context),
    images: imagesApi(context),
    limits: limitsApi(context),
    keypairs: keypairsApi(context),
  };
}
