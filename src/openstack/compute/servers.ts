// Nova servers: boot, list (all pages), get, update, delete, addresses, metadata, actions and tags.
import { z } from "zod";
import { OpenStackError, reclassified } from "../errors.ts";
import { unexpected } from "../http.ts";
import { followPages } from "../paging.ts";
import { type ComputeContext, nextPageQuery, type Query, seg } from "./context.ts";
import {
  AddressesSchema,
  BootResponseSchema,
  CreateImageBodySchema,
  MetaBodySchema,
  MetadataBodySchema,
  type Server,
  ServerBodySchema,
  ServerListSchema,
  type ServerSummary,
  ServerSummaryListSchema,
  ServerSummaryWithAddressesListSchema,
  TagsBodySchema,
  type LinkSchema,
} from "./schemas.ts";
import { type ComputeFeatures, formatMicroversion, SWITCHES, type Microversion } from "./versions.ts";

const ACTION_OK = [200, 202, 204] as const;

export interface BootNetwork {
  uuid?: string | undefined;
  port?: string | undefined;
  fixedIp?: string | undefined;
}

export interface CreateServerOptions {
  name: string;
  /** An id, or (book era) an image URL. */
  imageRef: string;
  /** An id, or (book era) a flavor URL. */
  flavorRef: string;
  metadata?: Record<string, string>;
  /** Book-era file injection; contents are plain text (the client base64-encodes them). */
  personality?: Array<{ path: string; contents: string }>;
  /** Plain text; the client base64-encodes it. */
  userData?: string;
  /** "auto" / "none" need 2.37; on older APIs both mean "leave it to Nova" (the key is left out). */
  networks?: "auto" | "none" | BootNetwork[];
  keyName?: string;
  securityGroups?: string[];
  availabilityZone?: string;
  minCount?: number;
  maxCount?: number;
  /** Answer only `{reservation_id}` (to list the created servers with `reservation_id=`). */
  returnReservationId?: boolean;
  /** Needs 2.52. */
  tags?: string[];
}

export interface CreateServerResult {
  /** The first server's id (undefined when only a reservation id was asked for). */
  id: string | undefined;
  adminPass: string | undefined;
  reservationId: string | undefined;
}

export type ServerFilters = Query & {
  name?: string;
  status?: string;
  image?: string;
  flavor?: string;
  "changes-since"?: string;
  reservation_id?: string;
  tags?: string;
  "tags-any"?: string;
  "not-tags"?: string;
  ip?: string;
};

export interface RebuildOptions {
  imageRef: string;
  name?: string;
  adminPass?: string;
  metadata?: Record<string, string>;
  personality?: Array<{ path: string; contents: string }>;
  accessIPv4?: string;
  accessIPv6?: string;
}

export type Addresses = z.infer<typeof AddressesSchema>;

/** UTF-8 text to base64 (btoa alone only takes Latin-1). */
export function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function serversApi(ctx: ComputeContext) {
  async function requireAtLeast(version: Microversion, what: string): Promise<void> {
    const f = await ctx.features();
    if (f.version === undefined || f.version.major < version.major || (f.version.major === version.major && f.version.minor < version.minor)) {
      throw new OpenStackError({
        method: "VERSION",
        url: await ctx.endpoint(),
        status: 0,
        kind: "unsupportedByCloud",
        message: `${what} needs compute microversion ${formatMicroversion(version)}; this cloud offers ${f.version === undefined ? "no microversions" : formatMicroversion(f.version)}`,
        category: "config",
      });
    }
  }

  async function createBody(options: CreateServerOptions): Promise<Record<string, unknown>> {
    const f = await ctx.features();
    const server: Record<string, unknown> = { name: options.name, imageRef: options.imageRef, flavorRef: options.flavorRef };
    if (options.networks !== undefined) {
      if (Array.isArray(options.networks)) {
        server["networks"] = options.networks.map((n) => {
          const out: Record<string, string> = {};
          if (n.uuid !== undefined) out["uuid"] = n.uuid;
          if (n.port !== undefined) out["port"] = n.port;
          if (n.fixedIp !== undefined) out["fixed_ip"] = n.fixedIp;
          return out;
        });
      } else if (f.networksRequired) {
        server["networks"] = options.networks;
      }
    } else if (f.networksRequired) {
      throw new OpenStackError({
        method: "POST",
        url: "servers",
        status: 0,
        kind: "networksRequired",
        message: `from compute microversion ${formatMicroversion(SWITCHES.networksRequired)} a boot must name its networks ("auto", "none" or a list)`,
        category: "config",
      });
    }
    if (options.metadata !== undefined) server["metadata"] = options.metadata;
    if (options.personality !== undefined) {
      requirePersonality(f);
      server["personality"] = options.personality.map((p) => ({ path: p.path, contents: base64(p.contents) }));
    }
    if (options.userData !== undefined) server["user_data"] = base64(options.userData);
    if (options.keyName !== undefined) server["key_name"] = options.keyName;
    if (options.securityGroups !== undefined) server["security_groups"] = options.securityGroups.map((name) => ({ name }));
    if (options.availabilityZone !== undefined) server["availability_zone"] = options.availabilityZone;
    if (options.minCount !== undefined) server["min_count"] = options.minCount;
    if (options.maxCount !== undefined) server["max_count"] = options.maxCount;
    if (options.returnReservationId === true) server["return_reservation_id"] = true;
    if (options.tags !== undefined && options.tags.length > 0) {
      await requireAtLeast(SWITCHES.tagsAtBoot, "tags at boot");
      server["tags"] = options.tags;
    }
    return { server };
  }

  async function listAll<T extends { id: string }>(
    path: string,
    filters: ServerFilters | undefined,
    pageSize: number | undefined,
    schema: z.ZodType<{ servers: T[]; servers_links?: z.infer<typeof LinkSchema>[] | undefined }>,
  ): Promise<T[]> {
    // By id: while servers move from build request to cell, Nova's pages can repeat one (seen on Zed),
    // and a server counted twice would make the planner delete a real one. The later copy is the fresher.
    const base: Query = { ...filters, ...(pageSize === undefined ? {} : { limit: pageSize }) };
    const all = await followPages(
      async (next) => {
        const body = await ctx.call({ method: "GET", path, query: next === undefined ? base : { ...filters, ...next } }, schema);
        return { items: body.servers, next: nextPageQuery(body.servers_links) };
      },
      { what: "server", where: `${await ctx.endpoint()}/${path}` },
    );
    return [...new Map(all.map((server) => [server.id, server])).values()];
  }

  return {
    /** POST /servers. Never retried: a lost answer is recognised later by the server's metadata, not by booting again. */
    async create(options: CreateServerOptions): Promise<CreateServerResult> {
      const json = await createBody(options);
      const response = await ctx.send({ method: "POST", path: "servers", json, expect: [200, 202], retry: "never" }).catch((e: unknown) => {
        // A 409 on boot ("Multiple possible networks found", a port in use) is the request's fault: trying
        // the same boot again next minute cannot succeed, so it is config, not transient.
        if (e instanceof OpenStackError && e.status === 409) throw reclassified(e, "config");
        throw e;
      });
      const body = ctx.session.transport.parse(response, BootResponseSchema);
      if ("reservation_id" in body) return { id: undefined, adminPass: undefined, reservationId: body.reservation_id };
      return { id: body.server.id, adminPass: body.server.adminPass, reservationId: undefined };
    },

    /** GET /servers/detail (or /servers with detail: false), every page: follows `servers_links` next with limit/marker. */
    async list(filters?: ServerFilters, options: { detail?: boolean; pageSize?: number } = {}): Promise<Server[]> {
      return listAll(options.detail === false ? "servers" : "servers/detail", filters, options.pageSize, ServerListSchema);
    },

    /** GET /servers/detail, every page, keeping only what membership and planning read (see ServerSummarySchema). */
    /** `addresses: true` also reads every server's addresses (the members view; the tick does without). */
    async listSummaries(filters?: ServerFilters, options: { pageSize?: number; addresses?: boolean } = {}): Promise<ServerSummary[]> {
      if (options.addresses === true) return listAll("servers/detail", filters, options.pageSize, ServerSummaryWithAddressesListSchema);
      return listAll("servers/detail", filters, options.pageSize, ServerSummaryListSchema);
    },

    async get(id: string): Promise<Server> {
      return (await ctx.call({ method: "GET", path: `servers/${seg(id)}` }, ServerBodySchema)).server;
    },

    /** PUT /servers/{id}: rename and/or set access IPs. */
    async update(id: string, changes: { name?: string; accessIPv4?: string; accessIPv6?: string }): Promise<Server> {
      return (await ctx.call({ method: "PUT", path: `servers/${seg(id)}`, json: { server: changes }, expect: [200] }, ServerBodySchema)).server;
    },

    async delete(id: string): Promise<void> {
      await ctx.send({ method: "DELETE", path: `servers/${seg(id)}`, expect: [202, 204] });
    },

    async addresses(id: string): Promise<Addresses> {
      return (await ctx.call({ method: "GET", path: `servers/${seg(id)}/ips` }, z.object({ addresses: AddressesSchema }))).addresses;
    },

    async addressesByNetwork(id: string, network: string): Promise<Addresses[string]> {
      const body = await ctx.call({ method: "GET", path: `servers/${seg(id)}/ips/${seg(network)}` }, AddressesSchema);
      return body[network] ?? Object.values(body)[0] ?? [];
    },

    // ---- metadata ----
    async metadata(id: string): Promise<Record<string, string>> {
      return (await ctx.call({ method: "GET", path: `servers/${seg(id)}/metadata` }, MetadataBodySchema)).metadata;
    },
    async metadataItem(id: string, key: string): Promise<string> {
      const meta = (await ctx.call({ method: "GET", path: `servers/${seg(id)}/metadata/${seg(key)}` }, MetaBodySchema)).meta;
      return meta[key] ?? Object.values(meta)[0] ?? "";
    },
    /** PUT: replaces all metadata. */
    async setMetadata(id: string, metadata: Record<string, string>): Promise<Record<string, string>> {
      return (await ctx.call({ method: "PUT", path: `servers/${seg(id)}/metadata`, json: { metadata } }, MetadataBodySchema)).metadata;
    },
    /** POST: merges into the existing metadata. */
    async mergeMetadata(id: string, metadata: Record<string, string>): Promise<Record<string, string>> {
      return (await ctx.call({ method: "POST", path: `servers/${seg(id)}/metadata`, json: { metadata }, retry: "idempotent" }, MetadataBodySchema)).metadata;
    },
    async setMetadataItem(id: string, key: string, value: string): Promise<Record<string, string>> {
      return (await ctx.call({ method: "PUT", path: `servers/${seg(id)}/metadata/${seg(key)}`, json: await ctx.metaItemBody(key, value) }, MetaBodySchema)).meta;
    },
    async deleteMetadataItem(id: string, key: string): Promise<void> {
      await ctx.send({ method: "DELETE", path: `servers/${seg(id)}/metadata/${seg(key)}`, expect: [200, 204] });
    },

    // ---- actions (POST /servers/{id}/action) ----
    async changePassword(id: string, adminPass: string): Promise<void> {
      await ctx.send({ method: "POST", path: `servers/${seg(id)}/action`, json: { changePassword: { adminPass } }, expect: ACTION_OK, secrets: [adminPass] });
    },
    async reboot(id: string, type: "SOFT" | "HARD" = "SOFT"): Promise<void> {
      await ctx.send({ method: "POST", path: `servers/${seg(id)}/action`, json: { reboot: { type } }, expect: ACTION_OK });
    },
    async rebuild(id: string, options: RebuildOptions): Promise<Server> {
      const rebuild: Record<string, unknown> = { imageRef: options.imageRef };
      if (options.name !== undefined) rebuild["name"] = options.name;
      if (options.adminPass !== undefined) rebuild["adminPass"] = options.adminPass;
      if (options.metadata !== undefined) rebuild["metadata"] = options.metadata;
      if (options.personality !== undefined) requirePersonality(await ctx.features());
      if (options.personality !== undefined) rebuild["personality"] = options.personality.map((p) => ({ path: p.path, contents: base64(p.contents) }));
      if (options.accessIPv4 !== undefined) rebuild["accessIPv4"] = options.accessIPv4;
      if (options.accessIPv6 !== undefined) rebuild["accessIPv6"] = options.accessIPv6;
      const secrets = options.adminPass === undefined ? [] : [options.adminPass];
      return (await ctx.call({ method: "POST", path: `servers/${seg(id)}/action`, json: { rebuild }, expect: ACTION_OK, secrets }, ServerBodySchema)).server;
    },
    async resize(id: string, flavorRef: string): Promise<void> {
      await ctx.send({ method: "POST", path: `servers/${seg(id)}/action`, json: { resize: { flavorRef } }, expect: ACTION_OK });
    },
    async confirmResize(id: string): Promise<void> {
      await ctx.send({ method: "POST", path: `servers/${seg(id)}/action`, json: { confirmResize: null }, expect: ACTION_OK });
    },
    async revertResize(id: string): Promise<void> {
      await ctx.send({ method: "POST", path: `servers/${seg(id)}/action`, json: { revertResize: null }, expect: ACTION_OK });
    },
    /** createImage; the new image's id comes from the body (2.45+) or the Location header (before, and the book). */
    async createImage(id: string, name: string, metadata?: Record<string, string>): Promise<string> {
      const createImage: Record<string, unknown> = { name };
      if (metadata !== undefined) createImage["metadata"] = metadata;
      const response = await ctx.send({ method: "POST", path: `servers/${seg(id)}/action`, json: { createImage }, expect: ACTION_OK });
      if (response.text.trim() !== "") {
        let json: unknown;
        try {
          json = JSON.parse(response.text);
        } catch {
          json = undefined;
        }
        const parsed = CreateImageBodySchema.safeParse(json);
        if (parsed.success) return parsed.data.image_id;
      }
      const location = response.headers.get("location");
      const fromLocation = location === null ? undefined : new URL(location, "http://relative.invalid/").pathname.split("/").filter((s) => s !== "").pop();
      if (fromLocation === undefined) throw unexpected(response, "createImage named no image (neither image_id in the body nor a Location header)");
      return decodeURIComponent(fromLocation);
    },

    // ---- parking: shelve, shelveOffload, unshelve, os-stop, os-start (all 202, no body back) ----
    /** Shelves (SHELVED; Nova offloads it at once when shelved_offload_time is 0, its default). */
    async shelve(id: string): Promise<void> {
      await ctx.send({ method: "POST", path: `servers/${seg(id)}/action`, json: { shelve: null }, expect: ACTION_OK });
    },
    /** Offloads a SHELVED server now (SHELVED_OFFLOADED): frees its host, and its cores and RAM under placement counting. */
    async shelveOffload(id: string): Promise<void> {
      await ctx.send({ method: "POST", path: `servers/${seg(id)}/action`, json: { shelveOffload: null }, expect: ACTION_OK });
    },
    /**
     * Unshelves. Without options the body is `{"unshelve": null}`, valid at every microversion. An
     * availability zone needs 2.77; a host, or `availabilityZone: null` (unpin), needs 2.91.
     */
    async unshelve(id: string, options: { availabilityZone?: string | null; host?: string } = {}): Promise<void> {
      let unshelve: Record<string, unknown> | null = null;
      if (options.host !== undefined || options.availabilityZone === null) {
        await requireAtLeast(SWITCHES.unshelveToHost, "unshelve to a host or with availability_zone null");
      } else if (options.availabilityZone !== undefined) {
        await requireAtLeast(SWITCHES.unshelveToZone, "unshelve to an availability zone");
      }
      if (options.availabilityZone !== undefined || options.host !== undefined) {
        unshelve = {};
        if (options.availabilityZone !== undefined) unshelve["availability_zone"] = options.availabilityZone;
        if (options.host !== undefined) unshelve["host"] = options.host;
      }
      await ctx.send({ method: "POST", path: `servers/${seg(id)}/action`, json: { unshelve }, expect: ACTION_OK });
    },
    /** os-stop: SHUTOFF (the server keeps its host, and its quota). */
    async stop(id: string): Promise<void> {
      await ctx.send({ method: "POST", path: `servers/${seg(id)}/action`, json: { "os-stop": null }, expect: ACTION_OK });
    },
    /** os-start: back to ACTIVE from SHUTOFF. */
    async start(id: string): Promise<void> {
      await ctx.send({ method: "POST", path: `servers/${seg(id)}/action`, json: { "os-start": null }, expect: ACTION_OK });
    },

    // ---- tags (2.26+) ----
    async tags(id: string): Promise<string[]> {
      await requireAtLeast(SWITCHES.serverTags, "server tags");
      return (await ctx.call({ method: "GET", path: `servers/${seg(id)}/tags` }, TagsBodySchema)).tags;
    },
    async replaceTags(id: string, tags: string[]): Promise<string[]> {
      await requireAtLeast(SWITCHES.serverTags, "server tags");
      return (await ctx.call({ method: "PUT", path: `servers/${seg(id)}/tags`, json: { tags }, expect: [200] }, TagsBodySchema)).tags;
    },
    async addTag(id: string, tag: string): Promise<void> {
      await requireAtLeast(SWITCHES.serverTags, "server tags");
      await ctx.send({ method: "PUT", path: `servers/${seg(id)}/tags/${seg(tag)}`, expect: [201, 204] });
    },
    async hasTag(id: string, tag: string): Promise<boolean> {
      await requireAtLeast(SWITCHES.serverTags, "server tags");
      try {
        await ctx.send({ method: "GET", path: `servers/${seg(id)}/tags/${seg(tag)}`, expect: [204] });
        return true;
      } catch (e) {
        if (e instanceof OpenStackError && e.status === 404 && e.kind === "itemNotFound" && /tag/i.test(e.detail)) return false;
        throw e;
      }
    },
    async deleteTag(id: string, tag: string): Promise<void> {
      await requireAtLeast(SWITCHES.serverTags, "server tags");
      await ctx.send({ method: "DELETE", path: `servers/${seg(id)}/tags/${seg(tag)}`, expect: [204] });
    },
    async deleteAllTags(id: string): Promise<void> {
      await requireAtLeast(SWITCHES.serverTags, "server tags");
      await ctx.send({ method: "DELETE", path: `servers/${seg(id)}/tags`, expect: [204] });
    },
  };
}

export type ServersApi = ReturnType<typeof serversApi>;

/** Personality (file injection) went away at 2.57; Nova would answer 400 "Additional properties are not allowed". */
function requirePersonality(f: ComputeFeatures): void {
  if (f.personality) return;
  throw new OpenStackError({
    method: "POST",
    url: "servers",
    status: 0,
    kind: "unsupportedByCloud",
    message: `personality files were removed at compute microversion ${formatMicroversion(SWITCHES.personalityRemoved)} (negotiated ${f.header ?? "none"}); use userData, or microversion "2.56"`,
    category: "config",
  });
}
