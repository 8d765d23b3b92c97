// Nova flavors: list (all pages, with details), get, and find one by exact name.
import { findByName } from "../names.ts";
import { followPages } from "../paging.ts";
import { type ComputeContext, nextPageQuery, type Query, seg } from "./context.ts";
import { type Flavor, FlavorBodySchema, FlavorListSchema } from "./schemas.ts";

export function flavorsApi(ctx: ComputeContext) {
  return {
    /** GET /flavors/detail (or /flavors), following `flavors_links`. */
    async list(options: { detail?: boolean; query?: Query } = {}): Promise<Flavor[]> {
      const path = options.detail === false ? "flavors" : "flavors/detail";
      return followPages(
        async (next) => {
          const body = await ctx.call({ method: "GET", path, query: { ...options.query, ...next } }, FlavorListSchema);
          return { items: body.flavors, next: nextPageQuery(body.flavors_links) };
        },
        { what: "flavor", where: `${await ctx.endpoint()}/${path}` },
      );
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
