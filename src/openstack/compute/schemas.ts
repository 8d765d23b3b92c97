// zod schemas for Nova responses, lenient enough for both eras (the book's numeric ids, today's UUIDs and extension fields).
import { z } from "zod";

/** The book's Nova used numeric ids; today's uses UUIDs. Both become strings. */
export const IdSchema = z.union([z.string(), z.number()]).transform((v) => String(v));

export const LinkSchema = z.looseObject({ rel: z.string().optional(), href: z.string(), type: z.string().optional() });

/** Metadata values are strings; a cloud returning numbers or null gets them stringified rather than rejected. */
export const MetadataSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]).transform((v) => (v === null ? "" : String(v))));

export const AddressSchema = z.looseObject({
  addr: z.string(),
  version: z.number().optional(),
  "OS-EXT-IPS:type": z.string().optional(),
  "OS-EXT-IPS-MAC:mac_addr": z.string().optional(),
});
export const AddressesSchema = z.record(z.string(), z.array(AddressSchema));

/** Nova's reason for an ERROR server. A malformed one is dropped, never failing the answer it came in. */
const FaultSchema = z.object({ code: z.number().optional(), message: z.string().optional(), created: z.string().optional() }).nullish().catch(undefined);

export const ServerSchema = z.looseObject({
  id: IdSchema,
  // From 2.69 a server in a cell that is down comes back with little more than id and status UNKNOWN.
  name: z.string().optional(),
  status: z.string().optional(),
  created: z.string().optional(),
  updated: z.string().optional(),
  metadata: MetadataSchema.optional(),
  "OS-EXT-STS:task_state": z.string().nullish(),
  "OS-EXT-STS:vm_state": z.string().nullish(),
  addresses: AddressesSchema.optional(),
  image: z.union([z.looseObject({ id: IdSchema }), z.string(), z.null()]).optional(),
  flavor: z.looseObject({ id: IdSchema.optional(), original_name: z.string().optional(), vcpus: z.number().optional(), ram: z.number().optional() }).optional(),
  tags: z.array(z.string()).nullish(),
  accessIPv4: z.string().nullish(),
  accessIPv6: z.string().nullish(),
  key_name: z.string().nullish(),
  uuid: z.string().optional(),
  fault: FaultSchema,
  links: z.array(LinkSchema).optional(),
});
export type Server = z.infer<typeof ServerSchema>;

export const ServerListSchema = z.object({ servers: z.array(ServerSchema), servers_links: z.array(LinkSchema).optional() });

/** The id of a listed server's image ({ id, links }; the book's numeric ids too), or undefined. */
function imageIdOf(image: unknown): string | undefined {
  if (typeof image !== "object" || image === null) return undefined;
  const id = (image as { id?: unknown }).id;
  return typeof id === "string" || typeof id === "number" ? String(id) : undefined;
}

/**
 * Every address of a listed server ({ net: [{ addr }] }), read by hand as the image is: "" entries and
 * anything malformed are skipped, never failing the listing.
 */
function addressesOf(addresses: unknown): string[] | undefined {
  if (typeof addresses !== "object" || addresses === null) return undefined;
  const out: string[] = [];
  for (const list of Object.values(addresses as Record<string, unknown>)) {
    if (!Array.isArray(list)) continue;
    for (const a of list) {
      const addr = (a as { addr?: unknown } | null)?.addr;
      if (typeof addr === "string" && addr !== "" && !out.includes(addr)) out.push(addr);
    }
  }
  return out.length === 0 ? undefined : out;
}

/**
 * Only what membership and planning read, for the tick's project-wide listing. It drops every other
 * field instead of validating and copying it: at 10,000 servers (13 MB) that is ~30 ms of zod instead
 * of ~150-250 ms, on the one hot path that Workers bill CPU for every minute.
 */
export const ServerSummarySchema = z.object({
  id: IdSchema,
  name: z.string().optional(),
  status: z.string().optional(),
  created: z.string().optional(),
  metadata: MetadataSchema.optional(),
  "OS-EXT-STS:task_state": z.string().nullish(),
  /**
   * From 2.47 the flavor is embedded with its size and original_name (before: only id and links); an
   * unshelve is charged by the size, flavor fallback reads which flavor a member runs (name or id).
   */
  flavor: z.object({ id: IdSchema.optional(), original_name: z.string().optional(), vcpus: z.number().optional(), ram: z.number().optional() }).optional(),
  // Only the id, read by hand: snapshot retention keeps every image a server was booted from. A zod
  // union of object/string/null here cost ~50 ms per 10,000 servers (bench/node/listing-parse.ts);
  // volume-backed servers answer "" and give none.
  image: z.unknown().transform(imageIdOf).optional(),
  /**
   * Nova's reason for an ERROR server (detailed listing): kept in the delete's reason. A server Nova could
   * not place (buried in cell0) comes without one in the listing on a real Zed: see ComputeCloud.serverFault.
   */
  fault: FaultSchema,
});
export type ServerSummary = z.infer<typeof ServerSummarySchema> & { addresses?: string[] };
/**
 * The summary plus every address: only for the members view (GET /v1/groups/{name}/members). The tick's
 * listing leaves addresses out: reading them costs ~60 ms more per 10,000 servers (bench/node/listing-parse.ts).
 */
export const ServerSummaryWithAddressesSchema = ServerSummarySchema.extend({ addresses: z.unknown().transform(addressesOf).optional() });
export const ServerSummaryWithAddressesListSchema = z.object({ servers: z.array(ServerSummaryWithAddressesSchema), servers_links: z.array(LinkSchema).optional() });
export const ServerSummaryListSchema = z.object({ servers: z.array(ServerSummarySchema), servers_links: z.array(LinkSchema).optional() });
export const ServerBodySchema = z.object({ server: ServerSchema });

/** A boot answers the first server (id, adminPass), or only a reservation id when return_reservation_id was asked. */
export const BootResponseSchema = z.union([
  z.object({
    server: z.looseObject({ id: IdSchema, adminPass: z.string().optional(), uuid: z.string().optional(), links: z.array(LinkSchema).optional() }),
  }),
  z.object({ reservation_id: z.string() }),
]);

export const FlavorSchema = z.looseObject({
  id: IdSchema,
  name: z.string(),
  vcpus: z.number().optional(),
  ram: z.number().optional(),
  disk: z.number().optional(),
  "OS-FLV-DISABLED:disabled": z.boolean().optional(),
  links: z.array(LinkSchema).optional(),
});
export type Flavor = z.infer<typeof FlavorSchema>;
export const FlavorListSchema = z.object({ flavors: z.array(FlavorSchema), flavors_links: z.array(LinkSchema).optional() });
export const FlavorBodySchema = z.object({ flavor: FlavorSchema });

/** An image through Nova's proxy (the book's era; gone from 2.36): upper-case status, metadata. */
export const NovaImageSchema = z.looseObject({
  id: IdSchema,
  name: z.string().nullish(),
  status: z.string().optional(),
  created: z.string().optional(),
  updated: z.string().optional(),
  progress: z.number().optional(),
  minDisk: z.number().optional(),
  minRam: z.number().optional(),
  metadata: MetadataSchema.optional(),
  server: z.looseObject({ id: IdSchema }).optional(),
  links: z.array(LinkSchema).optional(),
});
export type NovaImage = z.infer<typeof NovaImageSchema>;
export const NovaImageListSchema = z.object({ images: z.array(NovaImageSchema), images_links: z.array(LinkSchema).optional() });
export const NovaImageBodySchema = z.object({ image: NovaImageSchema });

export const MetadataBodySchema = z.object({ metadata: MetadataSchema });
/** One metadata item: Nova answers `{"meta": {k: v}}`, the book's API `{"metadata": {k: v}}`; both are read. */
export const MetaBodySchema = z
  .union([z.object({ meta: MetadataSchema }), z.object({ metadata: MetadataSchema })])
  .transform((body) => ({ meta: "meta" in body ? body.meta : body.metadata }));
export const TagsBodySchema = z.object({ tags: z.array(z.string()) });
export const CreateImageBodySchema = z.object({ image_id: z.string() });

/** Rate limits as the book's Nova reported them (today's Nova answers an empty list). */
export const RateLimitSchema = z.looseObject({
  uri: z.string().optional(),
  regex: z.string().optional(),
  limit: z
    .array(
      z.looseObject({
        verb: z.string(),
        value: z.number(),
        remaining: z.number().optional(),
        unit: z.string(),
        "next-available": z.string().optional(),
      }),
    )
    .optional(),
});
export type RateLimit = z.infer<typeof RateLimitSchema>;
export const LimitsBodySchema = z.object({
  limits: z.looseObject({
    absolute: z.record(z.string(), z.number().nullable()).default({}),
    rate: z.array(RateLimitSchema).default([]),
  }),
});
