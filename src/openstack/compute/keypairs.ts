// Nova key pairs: show one by name (GET /os-keypairs/{name}) and list a bounded page for name suggestions.
import { z } from "zod";
import { findByName, SUGGESTION_PAGE_SIZE } from "../names.ts";
import { OpenStackError } from "../errors.ts";
import { type ComputeContext, seg } from "./context.ts";

const KeypairSchema = z.looseObject({ name: z.string(), fingerprint: z.string().optional() });
const KeypairBodySchema = z.looseObject({ keypair: KeypairSchema });
/** The listing wraps each entry: `{"keypairs": [{"keypair": {...}}]}` (every microversion). */
const KeypairListSchema = z.looseObject({ keypairs: z.array(z.looseObject({ keypair: KeypairSchema })) });

export type Keypair = z.infer<typeof KeypairSchema>;

export function keypairsApi(ctx: ComputeContext) {
  return {
    /** GET /os-keypairs/{name}: 404 itemNotFound when the caller's user has none by that name. */
    async get(name: string): Promise<Keypair> {
      return (await ctx.call({ method: "GET", path: `os-keypairs/${seg(name)}` }, KeypairBodySchema)).keypair;
    },

    /**
     * The key pair named exactly `name`, else a config error (`nameNotFound`) with near names. The
     * suggestions cost one listing page of SUGGESTION_PAGE_SIZE (Nova pages key pairs from 2.35; older
     * ones answer all of them in one page), only after the show answered 404.
     */
    async find(name: string): Promise<Keypair> {
      try {
        return await this.get(name);
      } catch (error) {
        if (!(error instanceof OpenStackError && error.status === 404)) throw error;
      }
      const page = await ctx.call({ method: "GET", path: "os-keypairs", query: { limit: String(SUGGESTION_PAGE_SIZE) } }, KeypairListSchema);
      const items = page.keypairs.map((k) => ({ id: k.keypair.name, name: k.keypair.name }));
      findByName(items, name, { what: "key pair", where: `${await ctx.endpoint()}/os-keypairs`, isUsable: () => true, unusableWhy: () => "" });
      // A pair listed by that name that the show did not find (a race with its creation): it exists now.
      return { name };
    },
  };
}

export type KeypairsApi = ReturnType<typeof keypairsApi>;
