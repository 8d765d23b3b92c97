// Fake Nova's server collection: list (filters, paging), show, update, delete, and boot (multi-create, quota, networks).
import type { FakeCloud } from "../cloud.ts";
import { empty, isRecord, json, novaError } from "../http.ts";
import type { FakeFlavor, FakeImage, FakeServer } from "../model.ts";
import { type Handler, type Nova, UNEXPECTED, body, findFlavor, findImage, findServer, invalidInput, lastSegment, notFound, registered, setState } from "./context.ts";
import { parseAccessIPs } from "./addresses.ts";
import { NO_VALID_HOST, place } from "../capacity.ts";
import { legacyServerView, links, serverView } from "./views.ts";

export function listServers(detail: boolean): Handler {
  return (n) => {
    const q = n.ctx.url.searchParams;
    let servers = [...n.cloud.servers.values()].filter((s) => s.projectId === n.projectId && registered(n, s));
    const name = q.get("name");
    if (name !== null) {
      let pattern: RegExp;
      try {
        pattern = new RegExp(name);
      } catch {
        return novaError(400, `Invalid filter: name regex ${name} does not compile`);
      }
      servers = servers.filter((s) => pattern.test(s.name));
    }
    const status = q.get("status");
    if (status !== null) servers = servers.filter((s) => s.status === status.toUpperCase());
    const reservation = q.get("reservation_id");
    if (reservation !== null) servers = servers.filter((s) => s.reservationId === reservation);
    const list = (key: string) => (q.get(key) ?? "").split(",").filter((t) => t !== "");
    if (n.mv >= 26) {
      const all = list("tags");
      const any = list("tags-any");
      const notAll = list("not-tags");
      const notAny = list("not-tags-any");
      if (all.length > 0) servers = servers.filter((s) => all.every((t) => s.tags.includes(t)));
      if (any.length > 0) servers = servers.filter((s) => any.some((t) => s.tags.includes(t)));
      if (notAll.length > 0) servers = servers.filter((s) => !notAll.every((t) => s.tags.includes(t)));
      if (notAny.length > 0) servers = servers.filter((s) => !notAny.some((t) => s.tags.includes(t)));
    }
    // Nova ignores `metadata` for non-admins (samples/real-zed/nova-servers-detail-metadata-query.json).
    const metadataFilter = q.get("metadata");
    if (metadataFilter !== null && n.isAdmin) {
      try {
        const wanted = JSON.parse(metadataFilter) as Record<string, string>;
        servers = servers.filter((s) => Object.entries(wanted).every(([k, v]) => s.metadata[k] === v));
      } catch {
        return novaError(400, "Invalid metadata filter");
      }
    }
    const changesSince = q.get("changes-since");
    if (changesSince !== null) {
      const since = Date.parse(changesSince);
      if (Number.isNaN(since)) return novaError(400, `Invalid filter field: changes-since.`);
      servers = servers.filter((s) => s.updated >= since);
    }
    // Real Zed's order (see samples/real-zed/nova-servers-detail.json): created_at desc at one-second
    // resolution, then uuid ascending within the same second.
    servers.sort((a, b) => Math.floor(b.created / 1000) - Math.floor(a.created / 1000) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

    const marker = q.get("marker");
    if (marker !== null) {
      const at = servers.findIndex((s) => s.id === marker || (n.legacy && String(s.numericId) === marker));
      if (at < 0) return novaError(400, `marker [${marker}] not found`);
      servers = servers.slice(at + 1);
    }
    let limit = n.cloud.options.maxPageSize;
    const limitParam = q.get("limit");
    if (limitParam !== null) {
      if (!/^\d+$/.test(limitParam)) return novaError(400, "limit param must be an integer");
      limit = Math.min(Number(limitParam), limit);
    }
    const page = servers.slice(0, limit);
    const out: Record<string, unknown> = {
      servers: page.map((s) => (detail ? serverView(n, s, false) : n.legacy ? { id: s.numericId, links: links(n, "servers", s.numericId), name: s.name } : { id: s.id, name: s.name, links: links(n, "servers", s.id) })),
    };
    const last = page[page.length - 1];
    if (last !== undefined && page.length === limit && servers.length > 0) {
      const next = new URLSearchParams(q);
      next.set("limit", String(limit));
      next.set("marker", n.legacy ? String(last.numericId) : last.id);
      out.servers_links = [{ rel: "next", href: `${n.selfBase}/servers${detail ? "/detail" : ""}?${next.toString()}` }];
    }
    return json(200, out);
  };
}

export function showServer(n: Nova, [, id]: string[]): Response {
  const s = findServer(n, id ?? "");
  if (s === undefined) return notFound(n, id);
  return json(200, { server: serverView(n, s, true) });
}

export async function updateServer(n: Nova, [, id]: string[]): Promise<Response> {
  const s = findServer(n, id ?? "");
  if (s === undefined) return notFound(n, id);
  const b = await body(n);
  if (!isRecord(b) || !isRecord(b.server)) return invalidInput("server", b, "'server' is a required property");
  const update = b.server;
  const access = parseAccessIPs(update);
  if (access instanceof Response) return access;
  if (update.name !== undefined) {
    if (typeof update.name !== "string" || update.name.trim() === "") return invalidInput("name", update.name, "'' is too short");
    s.name = update.name;
  }
  if (update.description !== undefined && n.mv >= 19) s.description = typeof update.description === "string" ? update.description : null;
  Object.assign(s, access);
  s.updated = n.cloud.now();
  return json(200, { server: serverView(n, s, true) });
}

export function deleteServer(n: Nova, [, id]: string[]): Response {
  const s = findServer(n, id ?? "");
  if (s === undefined) return notFound(n, id);
  const fault = n.cloud.takeServerFault("deleteFails", s.name);
  if (fault !== undefined) return novaError(fault.status, fault.status >= 500 ? UNEXPECTED : `Injected delete failure for ${s.id}`);
  if (s.locked && !n.isAdmin) return novaError(409, `Instance ${s.id} is locked`);
  if (s.taskState === "deleting") return empty(204);
  setState(n.cloud, s, s.status, s.vmState, "deleting", s.powerState);
  const cloud = n.cloud;
  cloud.schedule(cloud.now() + cloud.options.deleteMs, () => {
    cloud.servers.delete(s.id);
  });
  if (cloud.options.deleteMs === 0) cloud.settle();
  return empty(204);
}

export interface BootRequest {
  name: string;
  image: FakeImage;
  flavor: FakeFlavor;
  metadata: Record<string, string>;
  tags: string[];
  personality: Array<{ path: string; contents: string }>;
  accessIPv4: string;
  accessIPv6: string;
  networks: "auto" | "none" | unknown[];
  minCount: number;
  maxCount: number;
  keyName: string | null;
  description: string | null;
  availabilityZone: string;
  returnReservationId: boolean;
  adminPass: string | undefined;
}

export function parseCount(value: unknown, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  const num = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  return typeof num === "number" && Number.isInteger(num) && num >= 1 ? num : undefined;
}

/** Validates a boot request the way Nova does, in Nova's order and words; a Response means "rejected". */
export function parseBoot(n: Nova, b: unknown): BootRequest | Response {
  if (!isRecord(b) || !isRecord(b.server)) return invalidInput("server", isRecord(b) ? b.server : b, "'server' is a required property");
  const s = b.server;
  const quota = n.cloud.quotaOf(n.projectId);
  if (n.legacy) {
    if (typeof s.name !== "string" || s.name.trim() === "") return novaError(400, "Server name is an empty string");
  } else {
    if (s.name === undefined) return invalidInput("server", s, "'name' is a required property");
    if (typeof s.name !== "string" || s.name.trim() === "") return invalidInput("name", s.name, "'' is too short");
  }
  if (!n.legacy && n.mv >= 57 && s.personality !== undefined) {
    return invalidInput("server", s, "Additional properties are not allowed ('personality' was unexpected)");
  }
  let networks: BootRequest["networks"] = "none";
  if (!n.legacy) {
    if (s.networks === undefined) {
      if (n.mv >= 37) return invalidInput("server", s, "'networks' is a required property");
      networks = n.cloud.options.autoAllocateNetwork ? "auto" : "none";
    } else if (s.networks === "auto" || s.networks === "none") {
      if (n.mv < 37) return invalidInput("networks", s.networks, `'${s.networks}' is not of type 'array'`);
      networks = s.networks;
    } else if (Array.isArray(s.networks)) {
      networks = s.networks;
    } else {
      return invalidInput("networks", s.networks, "is not valid under any of the given schemas");
    }
  }
  const imageRef = typeof s.imageRef === "string" ? s.imageRef : "";
  const image = findImage(n, imageRef);
  if (image === undefined) {
    return novaError(400, n.legacy ? `Cannot find requested image : Image ${lastSegment(imageRef) || 0} could not be found.` : "Can not find requested image");
  }
  if (image.status !== "active") return novaError(400, `Image ${image.id} is not active.`);
  const flavorRef = typeof s.flavorRef === "string" || typeof s.flavorRef === "number" ? String(s.flavorRef) : "";
  const flavor = findFlavor(n, flavorRef);
  if (flavor === undefined) return novaError(400, n.legacy ? "Invalid flavorRef provided." : `Flavor ${lastSegment(flavorRef)} could not be found.`);
  if (networks === "auto" && !n.cloud.options.autoAllocateNetwork) {
    return novaError(400, `Unable to automatically allocate a network for project ${n.projectId}`);
  }
  const metadata: Record<string, string> = {};
  if (s.metadata !== undefined) {
    if (!isRecord(s.metadata)) return invalidInput("metadata", s.metadata, "is not of type 'object'");
    for (const [k, v] of Object.entries(s.metadata)) {
      if (k.length < 1 || k.length > 255 || typeof v !== "string" || v.length > 255) return invalidInput("metadata", s.metadata, `'${k}' is not a valid metadata item`);
      metadata[k] = v;
    }
  }
  if (quota.metadata_items >= 0 && Object.keys(metadata).length > quota.metadata_items) {
    return novaError(403, `Maximum number of metadata items exceeds ${quota.metadata_items}`);
  }
  const personality: BootRequest["personality"] = [];
  if (s.personality !== undefined) {
    if (!Array.isArray(s.personality)) return invalidInput("personality", s.personality, "is not of type 'array'");
    if (quota.injected_files >= 0 && s.personality.length > quota.injected_files) return novaError(403, "Personality file limit exceeded");
    for (const file of s.personality) {
      if (!isRecord(file) || typeof file.path !== "string" || typeof file.contents !== "string") return invalidInput("personality", s.personality, "items need 'path' and 'contents'");
      if (file.path.length > quota.injected_file_path_bytes) return novaError(403, `Personality file path exceeds maximum ${quota.injected_file_path_bytes}`);
      let decoded: string;
      try {
        decoded = atob(file.contents);
      } catch {
        return novaError(400, `Personality content for ${file.path} cannot be decoded`);
      }
      if (decoded.length > quota.injected_file_content_bytes) return novaError(403, `Personality file content exceeds maximum ${quota.injected_file_content_bytes}`);
      personality.push({ path: file.path, contents: file.contents });
    }
  }
  const keypairs = n.cloud.options.keypairs;
  if (s.key_name !== undefined && s.key_name !== null && keypairs !== undefined && (typeof s.key_name !== "string" || !keypairs.includes(s.key_name))) {
    return novaError(400, "Invalid key_name provided.");
  }
  const minCount = parseCount(s.min_count, 1);
  if (minCount === undefined) return invalidInput("min_count", s.min_count, "is not valid under any of the given schemas");
  const maxCount = parseCount(s.max_count, minCount);
  if (maxCount === undefined) return invalidInput("max_count", s.max_count, "is not valid under any of the given schemas");
  if (minCount > maxCount) return novaError(400, "min_count must be <= max_count");
  // Nova's schema knows `description` from 2.19: below, it is an unexpected property (400).
  if (s.description !== undefined && n.mv < 19) return invalidInput("server", s, "Additional properties are not allowed ('description' was unexpected)");
  let tags: string[] = [];
  if (s.tags !== undefined) {
    if (n.mv < 52) return invalidInput("server", s, "Additional properties are not allowed ('tags' was unexpected)");
    if (!Array.isArray(s.tags) || !s.tags.every((t): t is string => typeof t === "string" && t.length > 0 && t.length <= 60 && !t.includes("/") && !t.includes(","))) {
      return invalidInput("tags", s.tags, "is not a valid list of tags");
    }
    if (s.tags.length > 50) return novaError(400, "The number of tags exceeded the per-server limit 50");
    tags = [...new Set(s.tags)].sort();
  }
  const access = parseAccessIPs(s);
  if (access instanceof Response) return access;
  return {
    accessIPv4: access.accessIPv4 ?? "",
    accessIPv6: access.accessIPv6 ?? "",
    name: s.name,
    image,
    flavor,
    metadata,
    tags,
    personality,
    networks,
    minCount,
    maxCount,
    keyName: typeof s.key_name === "string" ? s.key_name : null,
    description: typeof s.description === "string" ? s.description : null,
    availabilityZone: typeof s.availability_zone === "string" ? s.availability_zone : "nova",
    returnReservationId: s.return_reservation_id === true || s.return_reservation_id === "True" || s.return_reservation_id === "true",
    adminPass: typeof s.adminPass === "string" ? s.adminPass : undefined,
  };
}

/** How many of min..max fit the quota, or the 403 Nova gives when not even min fits. */
export function quotaFit(n: Nova, flavor: FakeFlavor, minCount: number, maxCount: number): number | Response {
  const q = n.cloud.quotaOf(n.projectId);
  const used = n.cloud.usage(n.projectId);
  const resources = [
    { name: "cores", per: flavor.vcpus, used: used.cores, limit: q.cores },
    { name: "instances", per: 1, used: used.instances, limit: q.instances },
    { name: "ram", per: flavor.ram, used: used.ram, limit: q.ram },
  ];
  const fits = (count: number) => resources.every((r) => r.limit < 0 || r.used + r.per * count <= r.limit);
  for (let count = maxCount; count >= minCount; count--) if (fits(count)) return count;
  const overs = resources.filter((r) => r.limit >= 0 && r.used + r.per * minCount > r.limit);
  const names = overs.map((r) => r.name).join(", ");
  return novaError(
    403,
    `Quota exceeded for ${names}: Requested ${overs.map((r) => r.per * minCount).join(", ")}, but already used ${overs.map((r) => r.used).join(", ")} of ${overs.map((r) => r.limit).join(", ")} ${names}`,
  );
}

export async function createServers(n: Nova): Promise<Response> {
  const parsed = parseBoot(n, await body(n));
  if (parsed instanceof Response) return parsed;
  const cloud = n.cloud;
  const bootError = cloud.takeServerFault("bootError", parsed.name);
  if (bootError !== undefined) return novaError(bootError.status, bootError.message ?? (bootError.status >= 500 ? UNEXPECTED : "Injected boot failure (fake cloud)."));
  const count = quotaFit(n, parsed.flavor, parsed.minCount, parsed.maxCount);
  if (count instanceof Response) return count;

  const now = cloud.now();
  const late = cloud.takeServerFault("lateRegistration", parsed.name);
  const reservationId = `r-${cloud.rng.token(8)}`;
  // The scheduler places the whole request or none of it (Nova's NoValidHost fails every server of a multi-create).
  const noHost = cloud.takeServerFault("noValidHost", parsed.name) !== undefined;
  const hosts = noHost ? undefined : place(cloud.capacity, cloud, parsed.flavor, count);
  const created: FakeServer[] = [];
  for (let i = 1; i <= count; i++) {
    const name = count > 1 ? `${parsed.name}-${i}` : parsed.name;
    const octet = (cloud.nextServerNumber % 250) + 3;
    const server: FakeServer = {
      id: cloud.rng.uuid(),
      numericId: cloud.nextServerNumber++,
      name,
      hostname: name.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 63),
      projectId: n.projectId,
      userId: n.token.userId,
      status: "BUILD",
      vmState: "building",
      taskState: "scheduling",
      powerState: 0,
      imageId: parsed.image.id,
      flavorId: parsed.flavor.id,
      previousFlavorId: null,
      metadata: { ...parsed.metadata },
      tags: [...parsed.tags],
      created: now,
      updated: now,
      launchedAt: null,
      reservationId,
      adminPass: parsed.adminPass ?? cloud.rng.password(12),
      keyName: parsed.keyName,
      description: parsed.description,
      availabilityZone: parsed.availabilityZone,
      addresses: bootAddresses(cloud, n.legacy, parsed.networks, octet),
      personality: parsed.personality,
      accessIPv4: parsed.accessIPv4,
      accessIPv6: parsed.accessIPv6,
      locked: false,
      fault: null,
      stuck: cloud.takeServerFault("stuckBuild", name) !== undefined,
      ...(late !== undefined ? { listedFrom: now + late.delayMs } : {}),
      ...(hosts?.[i - 1] !== undefined ? { host: hosts[i - 1] } : {}),
    };
    cloud.servers.set(server.id, server);
    created.push(server);
    if (hosts === undefined) {
      // No host: Nova's conductor buries the instance in cell0, whose faults /servers/detail does not show.
      server.cell0 = true;
      scheduleNoValidHost(cloud, server);
    } else if (cloud.takeImageFault(server.imageId) !== undefined) scheduleImageError(cloud, server);
    else scheduleBuild(cloud, server, cloud.takeServerFault("errorAfterActive", name)?.afterMs);
  }
  if (cloud.options.buildMs === 0) cloud.settle();

  if (late !== undefined) {
    // What a load balancer answers when Nova is slower than its timeout: not Nova's JSON.
    return new Response(`<html><body><h1>${late.status} Gateway Time-out</h1>The server didn't respond in time.</body></html>`, {
      status: late.status,
      headers: { "content-type": "text/html" },
    });
  }
  const falseNegative = cloud.takeServerFault("bootFalseNegative", parsed.name);
  if (falseNegative !== undefined) return novaError(falseNegative.status, UNEXPECTED);
  const first = created[0];
  if (first === undefined) return novaError(500, UNEXPECTED);
  if (parsed.returnReservationId && !n.legacy) return json(202, { reservation_id: reservationId });
  if (n.legacy) {
    return json(202, { server: { ...legacyServerView(n, first), adminPass: first.adminPass } }, { Location: `${n.selfBase}/servers/${first.numericId}` });
  }
  const view: Record<string, unknown> = { id: first.id, links: links(n, "servers", first.id), "OS-DCF:diskConfig": "MANUAL", security_groups: [{ name: "default" }], adminPass: first.adminPass };
  return json(202, { server: view }, { Location: `${n.selfBase}/servers/${first.id}` });
}

/** One fixed address on `private`; the book's nova-network also gave a `public` one (samples/book). */
export function bootAddresses(cloud: FakeCloud, legacy: boolean, networks: BootRequest["networks"], octet: number): FakeServer["addresses"] {
  const mac = () => `fa:16:3e:${cloud.rng.hex(2)}:${cloud.rng.hex(2)}:${cloud.rng.hex(2)}`;
  if (legacy) return [{ network: "public", addr: `192.168.100.${octet}`, mac: mac() }, { network: "private", addr: `192.168.200.${octet}`, mac: mac() }];
  return networks === "none" ? [] : [{ network: "private", addr: `10.0.0.${octet}`, mac: mac() }];
}

/**
 * BUILD(scheduling) -> ERROR after half the build time, as a server the scheduler found no host for: no host,
 * no addresses (its ports are given back), Nova's fault `{code: 500, message: NoValidHost's, created}`.
 */
export function scheduleNoValidHost(cloud: FakeCloud, s: FakeServer): void {
  cloud.schedule(cloud.now() + Math.floor(cloud.options.buildMs / 2), () => {
    if (cloud.servers.get(s.id) !== s || s.status !== "BUILD" || s.taskState === "deleting") return;
    setState(cloud, s, "ERROR", "error", null, 0);
    s.addresses = [];
    s.fault = { code: 500, message: NO_VALID_HOST, created: cloud.now() };
  });
}

/** A broken image (imageBootsError): BUILD -> ERROR after buildMs, with the fault a failed spawn leaves. */
export function scheduleImageError(cloud: FakeCloud, s: FakeServer): void {
  cloud.schedule(cloud.now() + cloud.options.buildMs, () => {
    if (cloud.servers.get(s.id) !== s || s.status !== "BUILD" || s.taskState === "deleting") return;
    setState(cloud, s, "ERROR", "error", null, 0);
    s.fault = { code: 500, message: `Build of instance ${s.id} aborted: image ${s.imageId} did not boot (fake cloud).`, created: cloud.now() };
  });
}

/** BUILD(scheduling) -> BUILD(spawning) -> ACTIVE after buildMs, unless held; optionally ERROR later. */
export function scheduleBuild(cloud: FakeCloud, s: FakeServer, errorAfterMs: number | undefined): void {
  const start = cloud.now();
  const build = cloud.options.buildMs;
  cloud.schedule(start + Math.floor(build / 2), () => {
    if (cloud.servers.get(s.id) === s && s.status === "BUILD" && s.taskState === "scheduling") {
      s.availabilityZone = s.availabilityZone || "nova";
      setState(cloud, s, "BUILD", "building", "spawning", 0);
    }
  });
  if (s.stuck) return;
  cloud.schedule(start + build, () => {
    if (cloud.servers.get(s.id) !== s || s.status !== "BUILD" || s.taskState === "deleting") return;
    setState(cloud, s, "ACTIVE", "active", null, 1);
    s.launchedAt = cloud.now();
    if (errorAfterMs === undefined) return;
    cloud.schedule(cloud.now() + errorAfterMs, () => {
      if (cloud.servers.get(s.id) !== s || s.taskState === "deleting") return;
      setState(cloud, s, "ERROR", "error", null, 0);
      s.fault = { code: 500, message: "Injected failure: the hypervisor lost this instance (fake cloud).", created: cloud.now() };
    });
  });
}
