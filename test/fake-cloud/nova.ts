// Fake Nova: compute v2.1 with microversions (up to 2.93), the v2 path, and the book's v1.1 (numeric ids, refs as URLs).
import type { FakeCloud, RequestContext } from "./cloud.ts";
import { isoMicros, isoSeconds } from "./clock.ts";
import { empty, INVALID_JSON, isRecord, json, novaError, readJson } from "./http.ts";
import { quotasFor } from "./model.ts";
import type { FakeFlavor, FakeImage, FakeServer, FakeToken, Quotas } from "./model.ts";

const MIN_MINOR = 1;
const INSTANCE_NOT_FOUND = (id: string) => `Instance ${id} could not be found.`;
/** The book-era Nova said less (samples/book/nova-v1.1-faults.json). */
const BOOK_NOT_FOUND = "The resource could not be found.";
const UNEXPECTED = "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class 'oslo_messaging.exceptions.MessagingTimeout'>";

/** One compute request after auth and version negotiation. */
interface Nova {
  cloud: FakeCloud;
  ctx: RequestContext;
  token: FakeToken;
  projectId: string;
  /** Microversion minor number (2.minor); 1 for the v2 and v1.1 paths. */
  mv: number;
  /** The book's v1.1 API: numeric ids, project in the URL, full server body on create. */
  legacy: boolean;
  /** e.g. http://host/compute/v2.1 or http://host/compute/v1.1/<project> */
  selfBase: string;
  /** e.g. http://host/compute or http://host/compute/<project> */
  bookmarkBase: string;
  isAdmin: boolean;
}

type Handler = (n: Nova, segments: string[]) => Promise<Response> | Response;

export function maxMinor(cloud: FakeCloud): number {
  return Number(cloud.options.maxMicroversion.split(".")[1]);
}

export async function handleCompute(cloud: FakeCloud, ctx: RequestContext): Promise<Response> {
  const { path, method, roots } = ctx;
  if (path === "/" && method === "GET") return json(200, versionsRoot(cloud, roots.compute));
  const match = /^\/(v2\.1|v2|v1\.1)(\/.*)?$/.exec(path);
  if (match === null) return novaError(404, "The resource could not be found.");
  const api = match[1] as "v2.1" | "v2" | "v1.1";
  const segments = (match[2] ?? "").split("/").filter((s) => s !== "").map(decodeURIComponent);

  let mv = MIN_MINOR;
  let versionHeaders: Record<string, string> = {};
  if (api === "v2.1") {
    const negotiated = negotiate(cloud, ctx.request);
    if (typeof negotiated !== "number") return negotiated;
    mv = negotiated;
    versionHeaders = {
      "OpenStack-API-Version": `compute 2.${mv}`,
      "X-OpenStack-Nova-API-Version": `2.${mv}`,
      Vary: "OpenStack-API-Version, X-OpenStack-Nova-API-Version",
    };
    if (segments.length === 0 && method === "GET") return withHeaders(json(200, { version: versionDoc(cloud, roots.compute) }), versionHeaders);
  }
  const requestId = `req-${cloud.rng.uuid()}`;
  const response = await dispatch(cloud, ctx, api, segments, mv);
  return withHeaders(response, { ...versionHeaders, "x-openstack-request-id": requestId, "x-compute-request-id": requestId });
}

function withHeaders(response: Response, extra: Record<string, string>): Response {
  const headers = new Headers(response.headers);
  for (const [k, v] of Object.entries(extra)) headers.set(k, v);
  return new Response(response.body, { status: response.status, headers });
}

/** Reads OpenStack-API-Version (or the older X-OpenStack-Nova-API-Version); absent means 2.1. */
function negotiate(cloud: FakeCloud, request: Request): number | Response {
  let requested: string | undefined;
  const modern = request.headers.get("OpenStack-API-Version");
  if (modern !== null) {
    for (const part of modern.split(",")) {
      const [service, version] = part.trim().split(/\s+/);
      if (service?.toLowerCase() === "compute" && version !== undefined) requested = version;
    }
  }
  requested ??= request.headers.get("X-OpenStack-Nova-API-Version") ?? undefined;
  if (requested === undefined) return MIN_MINOR;
  const max = maxMinor(cloud);
  if (requested.toLowerCase() === "latest") return max;
  const m = /^(\d+)\.(\d+)$/.exec(requested);
  if (m === null) return novaError(400, `API Version String ${requested} is of invalid format. Must be of format MajorNum.MinorNum.`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major !== 2 || minor < MIN_MINOR || minor > max) {
    return novaError(406, `Version ${requested} is not supported by the API. Minimum is 2.${MIN_MINOR} and maximum is 2.${max}.`);
  }
  return minor;
}

function versionDoc(cloud: FakeCloud, computeRoot: string) {
  return {
    id: "v2.1",
    status: "CURRENT",
    version: cloud.options.maxMicroversion,
    min_version: `2.${MIN_MINOR}`,
    updated: "2013-07-23T11:33:21Z",
    links: [
      { rel: "self", href: `${computeRoot}/v2.1/` },
      { rel: "describedby", type: "text/html", href: "http://docs.openstack.org/" },
    ],
    "media-types": [{ base: "application/json", type: "application/vnd.openstack.compute+json;version=2.1" }],
  };
}

function versionsRoot(cloud: FakeCloud, computeRoot: string) {
  return {
    versions: [
      { id: "v2.0", status: "SUPPORTED", version: "", min_version: "", updated: "2011-01-21T11:33:21Z", links: [{ rel: "self", href: `${computeRoot}/v2/` }] },
      { id: "v2.1", status: "CURRENT", version: cloud.options.maxMicroversion, min_version: `2.${MIN_MINOR}`, updated: "2013-07-23T11:33:21Z", links: [{ rel: "self", href: `${computeRoot}/v2.1/` }] },
    ],
  };
}

async function dispatch(cloud: FakeCloud, ctx: RequestContext, api: "v2.1" | "v2" | "v1.1", segments: string[], mv: number): Promise<Response> {
  const token = cloud.authenticate(ctx.request);
  if (token === undefined && api === "v1.1") {
    return new Response("401 Unauthorized", { status: 401, headers: { "Content-Type": "text/plain; charset=UTF-8" } });
  }
  if (token === undefined) {
    return json(401, { error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." } }, {
      "WWW-Authenticate": `Keystone uri="${ctx.roots.identity}"`,
    });
  }
  if (token.projectId === null) return novaError(403, "Policy doesn't allow os_compute_api:servers:index to be performed.");
  let rest = segments;
  let urlProject: string | undefined;
  if (api !== "v2.1" || (segments[0] !== undefined && cloud.projects.has(segments[0]))) {
    urlProject = segments[0];
    rest = segments.slice(1);
  }
  if (urlProject !== undefined && urlProject !== token.projectId) {
    return novaError(400, `Malformed request URL: URL's project_id '${urlProject}' doesn't match Context's project_id '${token.projectId}'`);
  }
  if (api !== "v2.1" && urlProject === undefined) return novaError(404, "The resource could not be found.");
  const projectPath = urlProject === undefined ? "" : `/${urlProject}`;
  const n: Nova = {
    cloud,
    ctx,
    token,
    projectId: token.projectId,
    mv,
    legacy: api === "v1.1",
    selfBase: `${ctx.roots.compute}/${api}${projectPath}`,
    bookmarkBase: `${ctx.roots.compute}${projectPath}`,
    isAdmin: token.roles.includes("admin"),
  };
  const limited = rateLimit(n);
  if (limited !== undefined) return limited;
  const [collection, id, sub, subId] = rest;
  const method = ctx.method;
  const route: Handler | undefined = (() => {
    if (collection === "servers") {
      if (id === undefined) return method === "GET" ? listServers(false) : method === "POST" ? createServers : undefined;
      if (id === "detail" && sub === undefined) return method === "GET" ? listServers(true) : undefined;
      if (sub === undefined) return method === "GET" ? showServer : method === "PUT" ? updateServer : method === "DELETE" ? deleteServer : undefined;
      if (sub === "action" && subId === undefined) return method === "POST" ? serverAction : undefined;
      if (sub === "metadata") return metadataRoute(method, subId);
      if (sub === "tags" && n.mv >= 26 && !n.legacy) return tagsRoute(method, subId);
      return undefined;
    }
    if (collection === "flavors" && method === "GET") return id === undefined ? listFlavors(false) : id === "detail" ? listFlavors(true) : showFlavor;
    if (collection === "images" && (n.legacy || n.mv < 36)) {
      if (method === "GET") return id === undefined ? listProxyImages(false) : id === "detail" ? listProxyImages(true) : showProxyImage;
      if (method === "DELETE" && id !== undefined) return deleteProxyImage;
      return undefined;
    }
    if (collection === "limits" && id === undefined && method === "GET") return showLimits;
    if (collection === "os-quota-sets" && id !== undefined) return quotaRoute(method, sub);
    return undefined;
  })();
  if (route === undefined) {
    if (collection === "servers" || collection === "flavors" || collection === "limits") {
      return id === undefined ? novaError(405, "The method specified is not allowed for this resource.") : novaError(404, "The resource could not be found.");
    }
    return novaError(404, "The resource could not be found.");
  }
  return route(n, rest);
}

// ---- rate limits (the book-era limiter; modern clouds show `rate: []`) ------------------------------

const UNIT_MS: Record<string, number> = { SECOND: 1_000, MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };

function rateLimit(n: Nova): Response | undefined {
  const now = n.cloud.now();
  for (const [index, limit] of n.cloud.options.rateLimits.entries()) {
    if (limit.verb !== n.ctx.method || !new RegExp(limit.regex).test(n.ctx.path)) continue;
    const key = `${n.projectId}:${index}`;
    const window = UNIT_MS[limit.unit] ?? 60_000;
    const recent = (n.cloud.rateWindows.get(key) ?? []).filter((t) => t > now - window);
    if (recent.length >= limit.value) {
      const retryAfter = Math.max(1, Math.ceil(((recent[0] ?? now) + window - now) / 1000));
      n.cloud.rateWindows.set(key, recent);
      return json(413, {
        overLimit: {
          code: 413,
          message: "This request was rate-limited.",
          retryAfter: String(retryAfter),
          details: `Only ${limit.value} ${limit.verb} request(s) can be made to ${limit.uri} every ${limit.unit.toLowerCase()}.`,
        },
      }, { "Retry-After": String(retryAfter) });
    }
    recent.push(now);
    n.cloud.rateWindows.set(key, recent);
  }
  return undefined;
}

function rateView(n: Nova) {
  const now = n.cloud.now();
  return n.cloud.options.rateLimits.map((limit, index) => {
    const window = UNIT_MS[limit.unit] ?? 60_000;
    const recent = (n.cloud.rateWindows.get(`${n.projectId}:${index}`) ?? []).filter((t) => t > now - window);
    const next = recent.length >= limit.value ? (recent[0] ?? now) + window : now;
    return {
      uri: limit.uri,
      regex: limit.regex,
      limit: [{ verb: limit.verb, value: limit.value, remaining: Math.max(0, limit.value - recent.length), unit: limit.unit, "next-available": isoSeconds(next) }],
    };
  });
}

// ---- lookups -----------------------------------------------------------------------------------

/** A ref may be an id, a numeric id (book) or a URL ending in either. */
function lastSegment(ref: string): string {
  const trimmed = ref.replace(/\/+$/, "");
  return trimmed.includes("/") ? (trimmed.split("/").pop() ?? "") : trimmed;
}

/** False while a late-registering server is not shown by the API yet (it exists all the same). */
function registered(n: Nova, s: FakeServer): boolean {
  return s.listedFrom === undefined || n.cloud.now() >= s.listedFrom;
}

function findServer(n: Nova, id: string): FakeServer | undefined {
  for (const s of n.cloud.servers.values()) {
    if ((s.projectId !== n.projectId && !n.isAdmin) || !registered(n, s)) continue;
    if (s.id === id || (n.legacy && String(s.numericId) === id)) return s;
  }
  return undefined;
}

function visibleImage(n: Nova, image: FakeImage): boolean {
  return image.visibility === "public" || image.visibility === "community" || image.ownerProjectId === n.projectId || n.isAdmin;
}

function findImage(n: Nova, ref: string): FakeImage | undefined {
  const id = lastSegment(ref);
  for (const image of n.cloud.images.values()) {
    if (!visibleImage(n, image)) continue;
    if (image.id === id || ((n.legacy || /^\d+$/.test(id)) && String(image.numericId) === id)) return image;
  }
  return undefined;
}

function findFlavor(n: Nova, ref: string): FakeFlavor | undefined {
  return n.cloud.flavorById(lastSegment(ref));
}

async function body(n: Nova): Promise<unknown> {
  const parsed = await readJson(n.ctx.request);
  return parsed === INVALID_JSON ? undefined : parsed;
}

/** Python's repr of a JSON value, as Nova's jsonschema errors print request bodies. */
function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string") return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (isRecord(value)) return `{${Object.entries(value).map(([k, v]) => `'${k}': ${pyRepr(v)}`).join(", ")}}`;
  return String(value);
}

function invalidInput(field: string, value: unknown, reason: string): Response {
  return novaError(400, `Invalid input for field/attribute ${field}. Value: ${pyRepr(value)}. ${reason}`);
}

function notFound(n: Nova, id: string | undefined): Response {
  return novaError(404, n.legacy ? BOOK_NOT_FOUND : INSTANCE_NOT_FOUND(id ?? ""));
}

function conflict(action: string, s: FakeServer): Response {
  if (s.taskState !== null) return novaError(409, `Cannot '${action}' instance ${s.id} while it is in task_state ${s.taskState}`);
  return novaError(409, `Cannot '${action}' instance ${s.id} while it is in vm_state ${s.vmState}`);
}

function setState(cloud: FakeCloud, s: FakeServer, status: string, vmState: string, taskState: string | null, powerState: number): void {
  s.status = status;
  s.vmState = vmState;
  s.taskState = taskState;
  s.powerState = powerState;
  s.updated = cloud.now();
}

/** A stable host id per project, like Nova's sha224(project + host). */
function hostId(projectId: string): string {
  let h = 0x811c9dc5;
  let out = "";
  for (let round = 0; out.length < 56; round++) {
    for (const ch of `${projectId}:compute-1:${round}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    out += h.toString(16).padStart(8, "0");
  }
  return out.slice(0, 56);
}

// ---- views -------------------------------------------------------------------------------------

function links(n: Nova, kind: string, id: string | number) {
  return [
    { rel: "self", href: `${n.selfBase}/${kind}/${id}` },
    { rel: "bookmark", href: `${n.bookmarkBase}/${kind}/${id}` },
  ];
}

function addressesView(n: Nova, s: FakeServer) {
  const out: Record<string, unknown[]> = {};
  for (const a of s.addresses) {
    const entry = n.legacy ? { version: 4, addr: a.addr } : { version: 4, addr: a.addr, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": a.mac };
    (out[a.network] ??= []).push(entry);
  }
  return out;
}

function flavorRefView(n: Nova, s: FakeServer) {
  const flavor = n.cloud.flavorById(s.flavorId);
  if (n.mv >= 47 && !n.legacy) {
    return { vcpus: flavor?.vcpus ?? 0, ram: flavor?.ram ?? 0, disk: flavor?.disk ?? 0, ephemeral: 0, swap: 0, original_name: flavor?.name ?? s.flavorId, extra_specs: {} };
  }
  return { id: s.flavorId, links: [{ rel: "bookmark", href: `${n.bookmarkBase}/flavors/${s.flavorId}` }] };
}

function imageRefView(n: Nova, s: FakeServer) {
  const image = n.cloud.images.get(s.imageId);
  const id = n.legacy ? String(image?.numericId ?? s.imageId) : s.imageId;
  return { id, links: [{ rel: "bookmark", href: `${n.bookmarkBase}/images/${id}` }] };
}

function legacyServerView(n: Nova, s: FakeServer) {
  return {
    status: s.status,
    updated: isoSeconds(s.updated),
    hostId: s.launchedAt === null ? "" : hostId(s.projectId),
    user_id: s.userId,
    name: s.name,
    links: links(n, "servers", s.numericId),
    created: isoSeconds(s.created),
    tenant_id: s.projectId,
    image: imageRefView(n, s),
    uuid: s.id,
    accessIPv4: "",
    metadata: { ...s.metadata },
    accessIPv6: "",
    key_name: s.keyName,
    progress: s.status === "ACTIVE" ? 100 : 0,
    flavor: flavorRefView(n, s),
    config_drive: "",
    id: s.numericId,
    // The book's create answer (BUILD) shows no addresses; its ACTIVE server shows public and private.
    addresses: s.launchedAt === null ? {} : addressesView(n, s),
  };
}

function serverView(n: Nova, s: FakeServer, show: boolean): Record<string, unknown> {
  if (n.legacy) return legacyServerView(n, s);
  const v: Record<string, unknown> = {
    id: s.id,
    name: s.name,
    status: s.status,
    tenant_id: s.projectId,
    user_id: s.userId,
    metadata: { ...s.metadata },
    hostId: s.launchedAt === null ? "" : hostId(s.projectId),
    image: imageRefView(n, s),
    flavor: flavorRefView(n, s),
    created: isoSeconds(s.created),
    updated: isoSeconds(s.updated),
    addresses: addressesView(n, s),
    accessIPv4: "",
    accessIPv6: "",
    links: links(n, "servers", s.id),
    "OS-DCF:diskConfig": "MANUAL",
    progress: 0,
    "OS-EXT-AZ:availability_zone": s.launchedAt === null ? "" : s.availabilityZone,
    config_drive: "",
    key_name: s.keyName,
    "OS-SRV-USG:launched_at": s.launchedAt === null ? null : isoMicros(s.launchedAt),
    "OS-SRV-USG:terminated_at": null,
    "OS-EXT-STS:task_state": s.taskState,
    "OS-EXT-STS:vm_state": s.vmState,
    "OS-EXT-STS:power_state": s.powerState,
    "os-extended-volumes:volumes_attached": [],
  };
  if (s.addresses.length > 0) v.security_groups = [{ name: "default" }];
  if (s.fault !== null) v.fault = { code: s.fault.code, created: isoSeconds(s.fault.created), message: s.fault.message };
  if (n.mv >= 9) v.locked = s.locked;
  if (n.mv >= 73) v.locked_reason = null;
  if (n.mv >= 19) v.description = s.description;
  if (n.mv >= 26) v.tags = [...s.tags];
  if (n.mv >= 63) v.trusted_image_certificates = null;
  if (n.mv >= 90) v["OS-EXT-SRV-ATTR:hostname"] = s.hostname;
  if (n.mv >= 71 && show) v.server_groups = [];
  return v;
}

function flavorView(n: Nova, f: FakeFlavor, detail: boolean): Record<string, unknown> {
  if (n.legacy) {
    const base = { id: Number(f.id), links: links(n, "flavors", f.id), name: f.name };
    return detail ? { ...base, ram: f.ram, disk: f.disk, vcpus: f.vcpus } : base;
  }
  const v: Record<string, unknown> = { id: f.id, name: f.name };
  if (detail) {
    Object.assign(v, { ram: f.ram, disk: f.disk, swap: n.mv >= 75 ? 0 : "", "OS-FLV-EXT-DATA:ephemeral": 0, "OS-FLV-DISABLED:disabled": false, vcpus: f.vcpus, "os-flavor-access:is_public": true, rxtx_factor: 1 });
  }
  v.links = links(n, "flavors", f.id);
  if (n.mv >= 55) v.description = null;
  if (detail && n.mv >= 61) v.extra_specs = {};
  return v;
}

// ---- servers -----------------------------------------------------------------------------------

function listServers(detail: boolean): Handler {
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

function showServer(n: Nova, [, id]: string[]): Response {
  const s = findServer(n, id ?? "");
  if (s === undefined) return notFound(n, id);
  return json(200, { server: serverView(n, s, true) });
}

async function updateServer(n: Nova, [, id]: string[]): Promise<Response> {
  const s = findServer(n, id ?? "");
  if (s === undefined) return notFound(n, id);
  const b = await body(n);
  if (!isRecord(b) || !isRecord(b.server)) return invalidInput("server", b, "'server' is a required property");
  const update = b.server;
  if (update.name !== undefined) {
    if (typeof update.name !== "string" || update.name.trim() === "") return invalidInput("name", update.name, "'' is too short");
    s.name = update.name;
  }
  if (update.description !== undefined && n.mv >= 19) s.description = typeof update.description === "string" ? update.description : null;
  s.updated = n.cloud.now();
  return json(200, { server: serverView(n, s, true) });
}

function deleteServer(n: Nova, [, id]: string[]): Response {
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

interface BootRequest {
  name: string;
  image: FakeImage;
  flavor: FakeFlavor;
  metadata: Record<string, string>;
  tags: string[];
  personality: Array<{ path: string; contents: string }>;
  networks: "auto" | "none" | unknown[];
  minCount: number;
  maxCount: number;
  keyName: string | null;
  description: string | null;
  availabilityZone: string;
  returnReservationId: boolean;
  adminPass: string | undefined;
}

function parseCount(value: unknown, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  const num = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  return typeof num === "number" && Number.isInteger(num) && num >= 1 ? num : undefined;
}

/** Validates a boot request the way Nova does, in Nova's order and words; a Response means "rejected". */
function parseBoot(n: Nova, b: unknown): BootRequest | Response {
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
  let tags: string[] = [];
  if (s.tags !== undefined) {
    if (n.mv < 52) return invalidInput("server", s, "Additional properties are not allowed ('tags' was unexpected)");
    if (!Array.isArray(s.tags) || !s.tags.every((t): t is string => typeof t === "string" && t.length > 0 && t.length <= 60 && !t.includes("/") && !t.includes(","))) {
      return invalidInput("tags", s.tags, "is not a valid list of tags");
    }
    if (s.tags.length > 50) return novaError(400, "The number of tags exceeded the per-server limit 50");
    tags = [...new Set(s.tags)].sort();
  }
  return {
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
function quotaFit(n: Nova, flavor: FakeFlavor, minCount: number, maxCount: number): number | Response {
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

async function createServers(n: Nova): Promise<Response> {
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
      locked: false,
      fault: null,
      stuck: cloud.takeServerFault("stuckBuild", name) !== undefined,
      ...(late !== undefined ? { listedFrom: now + late.delayMs } : {}),
    };
    cloud.servers.set(server.id, server);
    created.push(server);
    scheduleBuild(cloud, server, cloud.takeServerFault("errorAfterActive", name)?.afterMs);
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
function bootAddresses(cloud: FakeCloud, legacy: boolean, networks: BootRequest["networks"], octet: number): FakeServer["addresses"] {
  const mac = () => `fa:16:3e:${cloud.rng.hex(2)}:${cloud.rng.hex(2)}:${cloud.rng.hex(2)}`;
  if (legacy) return [{ network: "public", addr: `192.168.100.${octet}`, mac: mac() }, { network: "private", addr: `192.168.200.${octet}`, mac: mac() }];
  return networks === "none" ? [] : [{ network: "private", addr: `10.0.0.${octet}`, mac: mac() }];
}

/** BUILD(scheduling) -> BUILD(spawning) -> ACTIVE after buildMs, unless held; optionally ERROR later. */
function scheduleBuild(cloud: FakeCloud, s: FakeServer, errorAfterMs: number | undefined): void {
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

// ---- actions -----------------------------------------------------------------------------------

async function serverAction(n: Nova, [, id]: string[]): Promise<Response> {
  const s = findServer(n, id ?? "");
  if (s === undefined) return notFound(n, id);
  const b = await body(n);
  if (!isRecord(b)) return novaError(400, "Malformed request body");
  const [action] = Object.keys(b);
  const arg = action === undefined ? undefined : b[action];
  const cloud = n.cloud;
  const later = (status: string, vmState: string, task: string, done: () => void) => {
    setState(cloud, s, status, vmState, task, s.powerState);
    cloud.schedule(cloud.now() + cloud.options.actionMs, () => {
      if (cloud.servers.get(s.id) === s && s.taskState === task) done();
    });
    if (cloud.options.actionMs === 0) cloud.settle();
  };
  const active = s.vmState === "active" && s.taskState === null;
  const failing = action === undefined ? undefined : cloud.takeServerFault("actionFails", s.name);
  if (failing !== undefined && (failing.action === undefined || failing.action === action)) {
    return novaError(failing.status, failing.status >= 500 ? UNEXPECTED : `Injected ${action ?? ""} failure for ${s.id} (fake cloud).`);
  }
  switch (action) {
    case "reboot": {
      const type = isRecord(arg) && typeof arg.type === "string" ? arg.type.toUpperCase() : "";
      if (type !== "SOFT" && type !== "HARD") return invalidInput("type", isRecord(arg) ? arg.type : undefined, "is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']");
      if (!(active || (type === "HARD" && (s.vmState === "stopped" || s.vmState === "error")))) return conflict("reboot", s);
      later(type === "SOFT" ? "REBOOT" : "HARD_REBOOT", s.vmState, type === "SOFT" ? "reboot_started" : "reboot_started_hard", () => setState(cloud, s, "ACTIVE", "active", null, 1));
      return empty(202);
    }
    case "os-stop":
      if (!active && s.vmState !== "error") return conflict("stop", s);
      later(s.status, s.vmState, "powering-off", () => setState(cloud, s, "SHUTOFF", "stopped", null, 4));
      return empty(202);
    case "os-start": {
      if (s.vmState !== "stopped" || s.taskState !== null) return conflict("start", s);
      const fails = cloud.takeServerFault("resumeFails", s.name) !== undefined;
      later(s.status, s.vmState, "powering-on", () => (fails ? setState(cloud, s, "SHUTOFF", "stopped", null, 4) : setState(cloud, s, "ACTIVE", "active", null, 1)));
      return empty(202);
    }
    case "shelve":
      if (!(active || (s.taskState === null && ["stopped", "paused", "suspended"].includes(s.vmState)))) return conflict("shelve", s);
      later(s.status, s.vmState, "shelving", () => {
        setState(cloud, s, "SHELVED", "shelved", null, 4);
        scheduleOffload(cloud, s);
      });
      return empty(202);
    case "shelveOffload":
      if (s.vmState !== "shelved" || s.taskState !== null) return conflict("shelveOffload", s);
      later(s.status, s.vmState, "shelving_offloading", () => setState(cloud, s, "SHELVED_OFFLOADED", "shelved_offloaded", null, 0));
      return empty(202);
    case "unshelve": {
      if (!(s.vmState === "shelved" || s.vmState === "shelved_offloaded") || s.taskState !== null) return conflict("unshelve", s);
      if (arg !== null && !(isRecord(arg) && Object.keys(arg).every((k) => k === "availability_zone" || k === "host"))) {
        return invalidInput("unshelve", arg, "is not valid under any of the given schemas");
      }
      if (s.vmState === "shelved_offloaded") {
        // Unshelving an offloaded server takes its cores and RAM again: over quota it is refused (403).
        const flavor = cloud.flavorById(s.flavorId);
        const q = cloud.quotaOf(n.projectId);
        const used = cloud.usage(n.projectId);
        if (flavor !== undefined && q.cores >= 0 && used.cores + flavor.vcpus > q.cores) {
          return novaError(403, `Quota exceeded for cores: Requested ${flavor.vcpus}, but already used ${used.cores} of ${q.cores} cores`);
        }
        if (flavor !== undefined && q.ram >= 0 && used.ram + flavor.ram > q.ram) return novaError(403, `Quota exceeded for ram: Requested ${flavor.ram}, but already used ${used.ram} of ${q.ram} ram`);
      }
      const back = s.vmState;
      const fails = cloud.takeServerFault("resumeFails", s.name) !== undefined;
      later(s.status, s.vmState, "unshelving", () => {
        if (!fails) setState(cloud, s, "ACTIVE", "active", null, 1);
        else setState(cloud, s, back === "shelved" ? "SHELVED" : "SHELVED_OFFLOADED", back, null, back === "shelved" ? 4 : 0);
      });
      return empty(202);
    }
    case "rebuild": {
      if (!isRecord(arg) || typeof arg.imageRef !== "string") return invalidInput("rebuild", arg, "'imageRef' is a required property");
      if (!(active || s.vmState === "stopped" || s.vmState === "error")) return conflict("rebuild", s);
      const image = findImage(n, arg.imageRef);
      if (image === undefined) return novaError(400, n.legacy ? `Cannot find requested image : Image ${lastSegment(arg.imageRef)} could not be found.` : "Can not find requested image");
      if (typeof arg.name === "string" && arg.name.trim() !== "") s.name = arg.name;
      if (isRecord(arg.metadata)) s.metadata = Object.fromEntries(Object.entries(arg.metadata).map(([k, v]) => [k, String(v)]));
      s.imageId = image.id;
      if (typeof arg.adminPass === "string") s.adminPass = arg.adminPass;
      later("REBUILD", s.vmState, "rebuilding", () => setState(cloud, s, "ACTIVE", "active", null, 1));
      return json(202, { server: { ...serverView(n, s, true), adminPass: s.adminPass } });
    }
    case "resize": {
      if (!isRecord(arg) || (typeof arg.flavorRef !== "string" && typeof arg.flavorRef !== "number")) return invalidInput("resize", arg, "'flavorRef' is a required property");
      if (!(active || s.vmState === "stopped")) return conflict("resize", s);
      const flavor = findFlavor(n, String(arg.flavorRef));
      if (flavor === undefined) return novaError(400, `Unable to find flavor with ID ${String(arg.flavorRef)}`);
      if (flavor.id === s.flavorId) return novaError(400, "When resizing, instances must change flavor!");
      const old = cloud.flavorById(s.flavorId);
      const q = cloud.quotaOf(n.projectId);
      const used = cloud.usage(n.projectId);
      const extraCores = flavor.vcpus - (old?.vcpus ?? 0);
      const extraRam = flavor.ram - (old?.ram ?? 0);
      if (q.cores >= 0 && extraCores > 0 && used.cores + extraCores > q.cores) {
        return novaError(403, `Quota exceeded for cores: Requested ${extraCores}, but already used ${used.cores} of ${q.cores} cores`);
      }
      if (q.ram >= 0 && extraRam > 0 && used.ram + extraRam > q.ram) return novaError(403, `Quota exceeded for ram: Requested ${extraRam}, but already used ${used.ram} of ${q.ram} ram`);
      s.previousFlavorId = s.flavorId;
      s.flavorId = flavor.id;
      later("RESIZE", s.vmState, "resize_prep", () => setState(cloud, s, "VERIFY_RESIZE", "resized", null, 1));
      return empty(202);
    }
    case "confirmResize":
      if (s.vmState !== "resized" || s.taskState !== null) return conflict("confirmResize", s);
      s.previousFlavorId = null;
      setState(cloud, s, "ACTIVE", "active", null, 1);
      return empty(204);
    case "revertResize":
      if (s.vmState !== "resized" || s.taskState !== null) return conflict("revertResize", s);
      later("REVERT_RESIZE", "resized", "resize_reverting", () => {
        s.flavorId = s.previousFlavorId ?? s.flavorId;
        s.previousFlavorId = null;
        setState(cloud, s, "ACTIVE", "active", null, 1);
      });
      return empty(202);
    case "changePassword": {
      if (!isRecord(arg) || typeof arg.adminPass !== "string") return invalidInput("changePassword", arg, "'adminPass' is a required property");
      if (!active) return conflict("changePassword", s);
      s.adminPass = arg.adminPass;
      return empty(202);
    }
    case "lock":
      s.locked = true;
      return empty(202);
    case "unlock":
      s.locked = false;
      return empty(202);
    case "createImage":
      return createImage(n, s, arg);
    default:
      return novaError(400, `There is no such action: ${action ?? ""}`);
  }
}

/** After shelving: offload at once (shelvedOffloadMs 0, Nova's default), later, or never (-1). */
function scheduleOffload(cloud: FakeCloud, s: FakeServer): void {
  const after = cloud.options.shelvedOffloadMs;
  if (after < 0) return;
  const offload = () => {
    if (cloud.servers.get(s.id) === s && s.vmState === "shelved" && s.taskState === null) setState(cloud, s, "SHELVED_OFFLOADED", "shelved_offloaded", null, 0);
  };
  if (after === 0) offload();
  else cloud.schedule(cloud.now() + after, offload);
}

/** Snapshot: image queued -> saving -> active (or killed by a fault); server task image_snapshot -> image_uploading -> none. */
function createImage(n: Nova, s: FakeServer, arg: unknown): Response {
  if (!isRecord(arg) || typeof arg.name !== "string" || arg.name.trim() === "") return invalidInput("createImage", arg, "'name' is a required property");
  const metadata: Record<string, string> = {};
  if (arg.metadata !== undefined) {
    if (!isRecord(arg.metadata)) return invalidInput("metadata", arg.metadata, "is not of type 'object'");
    for (const [k, v] of Object.entries(arg.metadata)) metadata[k] = String(v);
  }
  const quota = n.cloud.quotaOf(n.projectId);
  if (quota.metadata_items >= 0 && Object.keys(metadata).length > quota.metadata_items) return novaError(403, "Image metadata limit exceeded");
  const allowed = (s.vmState === "active" || s.vmState === "stopped" || s.vmState === "paused" || s.vmState === "suspended") && s.taskState === null;
  if (!allowed) return conflict("createImage", s);
  const cloud = n.cloud;
  const now = cloud.now();
  const user = cloud.users.get(n.token.userId);
  const base = cloud.images.get(s.imageId);
  const image: FakeImage = {
    id: cloud.rng.uuid(),
    numericId: cloud.nextImageNumber++,
    name: arg.name,
    status: "queued",
    visibility: "private",
    ownerProjectId: n.projectId,
    created: now,
    updated: now,
    properties: {
      base_image_ref: s.imageId,
      owner_user_name: user?.name ?? "",
      owner_project_name: cloud.projects.get(n.projectId)?.name ?? "",
      boot_roles: n.token.roles.join(","),
      instance_uuid: s.id,
      user_id: n.token.userId,
      image_type: "snapshot",
      owner_id: n.projectId,
      image_state: "available",
      image_location: "snapshot",
      ...metadata,
    },
    size: null,
    minDisk: cloud.flavorById(s.flavorId)?.disk ?? 0,
    minRam: base?.minRam ?? 0,
    diskFormat: base?.diskFormat ?? "qcow2",
    containerFormat: base?.containerFormat ?? "bare",
    protected: false,
    tags: [],
    checksum: null,
  };
  cloud.images.set(image.id, image);
  const killed = cloud.takeServerFault("snapshotKilled", s.name) !== undefined;
  setState(cloud, s, s.status, s.vmState, "image_snapshot", s.powerState);
  const total = cloud.options.snapshotMs;
  cloud.schedule(now + Math.floor(total / 3), () => {
    if (cloud.servers.get(s.id) === s && s.taskState === "image_snapshot") setState(cloud, s, s.status, s.vmState, "image_uploading", s.powerState);
    if (cloud.images.get(image.id) === image && image.status === "queued") {
      image.status = "saving";
      image.updated = cloud.now();
    }
  });
  cloud.schedule(now + total, () => {
    if (cloud.servers.get(s.id) === s && (s.taskState === "image_uploading" || s.taskState === "image_snapshot")) setState(cloud, s, s.status, s.vmState, null, s.powerState);
    if (cloud.images.get(image.id) !== image || image.status !== "saving") return;
    image.status = killed ? "killed" : "active";
    image.updated = cloud.now();
    if (!killed) {
      image.size = 4608 + image.numericId;
      image.checksum = cloud.rng.hex(32);
    }
  });
  if (total === 0) cloud.settle();
  if (n.mv >= 45 && !n.legacy) return json(202, { image_id: image.id });
  // Before 2.45 the image's URL comes in Location and the body is empty.
  const location = n.legacy ? `${n.bookmarkBase}/images/${image.numericId}` : `${n.ctx.roots.image}/v2/images/${image.id}`;
  return empty(202, { Location: location });
}

// ---- metadata and tags -------------------------------------------------------------------------

const METADATA_STATES = new Set(["active", "paused", "suspended", "stopped"]);

function metadataRoute(method: string, key: string | undefined): Handler | undefined {
  if (key === undefined) {
    if (method === "GET") return (n, [, id]) => withServer(n, id, (s) => json(200, { metadata: { ...s.metadata } }));
    if (method === "POST" || method === "PUT") return (n, [, id]) => updateMetadata(n, id, method === "PUT");
    return undefined;
  }
  if (method === "GET") {
    return (n, [, id]) => withServer(n, id, (s) => (key in s.metadata ? json(200, { meta: { [key]: s.metadata[key] } }) : novaError(404, "Metadata item was not found")));
  }
  if (method === "PUT") return (n, [, id]) => putMetadataItem(n, id, key);
  if (method === "DELETE") {
    return (n, [, id]) =>
      withServer(n, id, (s) => {
        if (!(key in s.metadata)) return novaError(404, "Metadata item was not found");
        if (!METADATA_STATES.has(s.vmState)) return conflict("delete_instance_metadata", s);
        delete s.metadata[key];
        s.updated = n.cloud.now();
        return empty(204);
      });
  }
  return undefined;
}

function withServer(n: Nova, id: string | undefined, then: (s: FakeServer) => Response | Promise<Response>): Response | Promise<Response> {
  const s = findServer(n, id ?? "");
  if (s === undefined) return notFound(n, id);
  return then(s);
}

function metadataProblem(n: Nova, metadata: unknown, resulting: number): Response | Record<string, string> {
  if (!isRecord(metadata)) return invalidInput("metadata", metadata, "is not of type 'object'");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (k.length < 1 || k.length > 255 || typeof v !== "string" || v.length > 255) return invalidInput("metadata", metadata, `'${k}' is not a valid metadata item`);
    out[k] = v;
  }
  const limit = n.cloud.quotaOf(n.projectId).metadata_items;
  if (limit >= 0 && resulting > limit) return novaError(403, `Maximum number of metadata items exceeds ${limit}`);
  return out;
}

async function updateMetadata(n: Nova, id: string | undefined, replace: boolean): Promise<Response> {
  const s = findServer(n, id ?? "");
  if (s === undefined) return notFound(n, id);
  const b = await body(n);
  const given = isRecord(b) ? b.metadata : undefined;
  const count = isRecord(given) ? (replace ? Object.keys(given).length : Object.keys({ ...s.metadata, ...given }).length) : 0;
  const parsed = metadataProblem(n, given, count);
  if (parsed instanceof Response) return parsed;
  if (!METADATA_STATES.has(s.vmState)) return conflict("update_instance_metadata", s);
  s.metadata = replace ? parsed : { ...s.metadata, ...parsed };
  s.updated = n.cloud.now();
  return json(200, { metadata: { ...s.metadata } });
}

async function putMetadataItem(n: Nova, id: string | undefined, key: string): Promise<Response> {
  const s = findServer(n, id ?? "");
  if (s === undefined) return notFound(n, id);
  const b = await body(n);
  const meta = isRecord(b) ? b.meta : undefined;
  if (!isRecord(meta)) return invalidInput("meta", meta, "'meta' is a required property");
  if (Object.keys(meta).length > 1) return novaError(400, "Request body contains too many items");
  if (!(key in meta)) return novaError(400, "Request body and URI mismatch");
  const parsed = metadataProblem(n, meta, Object.keys({ ...s.metadata, ...meta }).length);
  if (parsed instanceof Response) return parsed;
  if (!METADATA_STATES.has(s.vmState)) return conflict("update_instance_metadata", s);
  s.metadata = { ...s.metadata, ...parsed };
  s.updated = n.cloud.now();
  return json(200, { meta: parsed });
}

function validTag(tag: unknown): tag is string {
  return typeof tag === "string" && tag.length > 0 && tag.length <= 60 && !tag.includes("/") && !tag.includes(",");
}

function tagsRoute(method: string, tag: string | undefined): Handler | undefined {
  if (tag === undefined) {
    if (method === "GET") return (n, [, id]) => withServer(n, id, (s) => json(200, { tags: [...s.tags] }));
    if (method === "PUT") {
      return async (n, [, id]) => {
        const s = findServer(n, id ?? "");
        if (s === undefined) return notFound(n, id);
        const b = await body(n);
        const tags = isRecord(b) ? b.tags : undefined;
        if (!Array.isArray(tags) || !tags.every(validTag)) return invalidInput("tags", tags, "is not a valid list of tags");
        if (tags.length > 50) return novaError(400, "The number of tags exceeded the per-server limit 50");
        s.tags = [...new Set(tags)].sort();
        return json(200, { tags: [...s.tags] });
      };
    }
    if (method === "DELETE") {
      return (n, [, id]) =>
        withServer(n, id, (s) => {
          s.tags = [];
          return empty(204);
        });
    }
    return undefined;
  }
  if (method === "GET") return (n, [, id]) => withServer(n, id, (s) => (s.tags.includes(tag) ? empty(204) : novaError(404, `Tag ${tag} could not be found.`)));
  if (method === "PUT") {
    return (n, [, id]) =>
      withServer(n, id, (s) => {
        if (!validTag(tag)) return invalidInput("tag", tag, "is not a valid tag");
        if (s.tags.includes(tag)) return empty(204);
        if (s.tags.length >= 50) return novaError(400, "The number of tags exceeded the per-server limit 50");
        s.tags = [...s.tags, tag].sort();
        return empty(201, { Location: `${n.selfBase}/servers/${s.id}/tags/${encodeURIComponent(tag)}`, "Content-Type": "text/html; charset=UTF-8" });
      });
  }
  if (method === "DELETE") {
    return (n, [, id]) =>
      withServer(n, id, (s) => {
        if (!s.tags.includes(tag)) return novaError(404, `Tag ${tag} could not be found.`);
        s.tags = s.tags.filter((t) => t !== tag);
        return empty(204);
      });
  }
  return undefined;
}

// ---- flavors, images proxy, limits, quotas -----------------------------------------------------

function listFlavors(detail: boolean): Handler {
  return (n) => json(200, { flavors: n.cloud.flavors.map((f) => flavorView(n, f, detail)) });
}

function showFlavor(n: Nova, [, id]: string[]): Response {
  const f = n.cloud.flavorById(id ?? "");
  if (f === undefined) return novaError(404, `Flavor ${id ?? ""} could not be found.`);
  return json(200, { flavor: flavorView(n, f, true) });
}

const PROXY_STATUS: Record<string, string> = { queued: "SAVING", saving: "SAVING", active: "ACTIVE", killed: "ERROR", deleted: "DELETED", pending_delete: "DELETED" };

function proxyImageView(n: Nova, image: FakeImage, detail: boolean): Record<string, unknown> {
  const id = n.legacy ? image.numericId : image.id;
  const v: Record<string, unknown> = { id, links: links(n, "images", id), name: image.name };
  if (!detail) return v;
  const server = image.properties.instance_uuid === undefined ? undefined : n.cloud.servers.get(image.properties.instance_uuid);
  Object.assign(v, {
    status: PROXY_STATUS[image.status] ?? image.status.toUpperCase(),
    progress: image.status === "active" ? 100 : image.status === "saving" ? 50 : 0,
    minDisk: image.minDisk,
    minRam: image.minRam,
    created: isoSeconds(image.created),
    updated: isoSeconds(image.updated),
    metadata: { ...image.properties },
    "OS-EXT-IMG-SIZE:size": image.size ?? 0,
  });
  if (server !== undefined) v.server = { id: n.legacy ? server.numericId : server.id, links: links(n, "servers", n.legacy ? server.numericId : server.id) };
  return v;
}

function listProxyImages(detail: boolean): Handler {
  return (n) => {
    const images = [...n.cloud.images.values()].filter((i) => visibleImage(n, i)).sort((a, b) => b.created - a.created);
    return json(200, { images: images.map((i) => proxyImageView(n, i, detail)) });
  };
}

function showProxyImage(n: Nova, [, id]: string[]): Response {
  const image = findImage(n, id ?? "");
  if (image === undefined) return novaError(404, n.legacy ? BOOK_NOT_FOUND : "Image not found.");
  return json(200, { image: proxyImageView(n, image, true) });
}

function deleteProxyImage(n: Nova, [, id]: string[]): Response {
  const image = findImage(n, id ?? "");
  if (image === undefined) return novaError(404, n.legacy ? BOOK_NOT_FOUND : "Image not found.");
  if (image.ownerProjectId !== n.projectId && !n.isAdmin) return novaError(403, "You are not permitted to delete this image.");
  n.cloud.images.delete(image.id);
  return empty(204);
}

function showLimits(n: Nova): Response {
  const q = n.cloud.quotaOf(n.projectId);
  const used = n.cloud.usage(n.projectId);
  const absolute: Record<string, number> = {
    maxTotalInstances: q.instances,
    maxTotalCores: q.cores,
    maxTotalRAMSize: q.ram,
    maxServerMeta: q.metadata_items,
  };
  if (n.legacy || n.mv < 39) absolute.maxImageMeta = q.metadata_items;
  if (n.legacy || n.mv < 57) {
    absolute.maxPersonality = q.injected_files;
    absolute.maxPersonalitySize = q.injected_file_content_bytes;
  }
  absolute.maxTotalKeypairs = q.key_pairs;
  if (!n.legacy) {
    absolute.maxServerGroups = q.server_groups;
    absolute.maxServerGroupMembers = q.server_group_members;
  }
  if (!n.legacy && n.mv < 36) {
    Object.assign(absolute, { maxSecurityGroups: 10, maxSecurityGroupRules: 20, maxTotalFloatingIps: 10, totalFloatingIpsUsed: 0, totalSecurityGroupsUsed: 0 });
  }
  Object.assign(absolute, { totalRAMUsed: used.ram, totalCoresUsed: used.cores, totalInstancesUsed: used.instances });
  if (!n.legacy) absolute.totalServerGroupsUsed = 0;
  return json(200, { limits: { rate: rateView(n), absolute } });
}

const QUOTA_KEYS_MODERN: Array<keyof Quotas> = ["cores", "instances", "key_pairs", "metadata_items", "ram", "server_group_members", "server_groups"];
const QUOTA_KEYS_OLD: Array<keyof Quotas> = [...QUOTA_KEYS_MODERN, "injected_file_content_bytes", "injected_file_path_bytes", "injected_files"];

function quotaRoute(method: string, sub: string | undefined): Handler | undefined {
  return async (n, [, projectId]) => {
    const project = n.cloud.projects.get(projectId ?? "");
    if (project === undefined) return novaError(404, `Project ${projectId ?? ""} could not be found.`);
    if (project.id !== n.projectId && !n.isAdmin) return novaError(403, "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.");
    const keys = n.mv >= 57 ? QUOTA_KEYS_MODERN : QUOTA_KEYS_OLD;
    const pick = (q: Quotas) => Object.fromEntries([...keys].sort().map((k) => [k, q[k]]));
    if (method === "GET" && sub === undefined) return json(200, { quota_set: { id: project.id, ...pick(n.cloud.quotaOf(project.id)) } });
    if (method === "GET" && sub === "defaults") {
      return json(200, { quota_set: { id: project.id, ...pick(quotasFor(n.cloud.options)) } });
    }
    if (method === "GET" && sub === "detail") {
      const q = n.cloud.quotaOf(project.id);
      const used = n.cloud.usage(project.id);
      const inUse: Partial<Record<keyof Quotas, number>> = { cores: used.cores, instances: used.instances, ram: used.ram };
      return json(200, { quota_set: { id: project.id, ...Object.fromEntries([...keys].sort().map((k) => [k, { limit: q[k], in_use: inUse[k] ?? 0, reserved: 0 }])) } });
    }
    if (!n.isAdmin) return novaError(403, `Policy doesn't allow os_compute_api:os-quota-sets:${method === "PUT" ? "update" : "delete"} to be performed.`);
    if (method === "PUT" && sub === undefined) {
      const b = await body(n);
      const set = isRecord(b) ? b.quota_set : undefined;
      if (!isRecord(set)) return invalidInput("quota_set", set, "'quota_set' is a required property");
      const q = { ...n.cloud.quotaOf(project.id) };
      for (const [k, v] of Object.entries(set)) {
        if (k === "force") continue;
        if (!keys.includes(k as keyof Quotas)) return invalidInput("quota_set", set, `Additional properties are not allowed ('${k}' was unexpected)`);
        const num = typeof v === "string" ? Number(v) : v;
        if (typeof num !== "number" || !Number.isInteger(num) || num < -1) return invalidInput(k, v, "is not valid under any of the given schemas");
        q[k as keyof Quotas] = num;
      }
      n.cloud.quotas.set(project.id, q);
      return json(200, { quota_set: pick(q) });
    }
    if (method === "DELETE" && sub === undefined) {
      n.cloud.quotas.delete(project.id);
      return empty(202);
    }
    return novaError(405, "The method specified is not allowed for this resource.");
  };
}
