// Nova flavors: list (all pages, with details), get, and find one by exact name.
import { findByName } from "../names.ts";
import { type ComputeContext, nextPageQuery, type Query, seg } from "./context.ts";
import { type Flavor, FlavorBodySchema, FlavorListSchema } from "./schemas.ts";

const MAX_PAGES = 100;

export function flavorsApi(ctx: ComputeContext) {
  return {
    /** GET /flavors/detail (or /flavors), following `flavors_links`. */
    async list(options: { detail?: boolean; query?: Query } = {}): Promise<Flavor[]> {
      const path = options.detail === false ? "flavors" : "flavors/detail";
      const flavors: Flavor[] = [];
      let query: Query | undefined = options.query;
      for (let page = 0; page < MAX_PAGES; page++) {
        const body = await ctx.call({ method: "GET", path, query }, FlavorListSchema);
        flavors.push(...body.flavors);
        const next = nextPageQuery(body.flavors_links);
        if (next === undefined || body.flavors.length === 0) break;
        query = { ...options.query, ...next };
      }
      return flavors;
    },

    async get(id: string): Promise<Flavor> {
      return (await ctx.call({ method: "GET", path: `flavors/${seg(id)}` }, FlavorBodySchema)).flavor;
    },

    /** The one enabled flavor with exactly this name; otherwise a config error listing near matches. */
    async find(name: string): Promise<Flavor> {
      const flavors = await this.list();
      return findByName(flavors, name, {
        what: "flavor",
        where: `${await ctx.endpoint()}/flavors/detail`,
        isUsable: (f) => f["OS-FLV-DISABLED:disabled"] !== true,
        unusableWhy: () => "disabled",
      });
    },
  };
}

export type FlavorsApi = ReturnType<typeof flavorsApi>;
