// Fake Nova: compute v2.1 with microversions (up to 2.93), the v2 path, and the book's v1.1 (numeric ids, refs as URLs).
import type { FakeCloud, RequestContext } from "./cloud.ts";
import { json, novaError } from "./http.ts";
import { serverAction } from "./nova/actions.ts";
import { ipsRoute } from "./nova/addresses.ts";
import { MAX_IMAGE_METADATA_MV, imageMetadataRoute } from "./nova/image-metadata.ts";
import { type Handler, MIN_MINOR, type Nova } from "./nova/context.ts";
import { listKeypairs, showKeypair } from "./nova/keypairs.ts";
import { metadataRoute, tagsRoute } from "./nova/metadata.ts";
import { rateLimit } from "./nova/rate-limits.ts";
import { deleteProxyImage, listFlavors, listProxyImages, quotaRoute, showFlavor, showLimits, showProxyImage } from "./nova/resources.ts";
import { createServers, deleteServer, listServers, showServer, updateServer } from "./nova/servers.ts";
import { links } from "./nova/views.ts";

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
      if (sub === "ips") return ipsRoute(method, subId);
      if (sub === "tags" && n.mv >= 26 && !n.legacy) return tagsRoute(method, subId);
      return undefined;
    }
    if (collection === "flavors" && method === "GET") return id === undefined ? listFlavors(false) : id === "detail" ? listFlavors(true) : showFlavor;
    if (collection === "images" && id !== undefined && id !== "detail" && sub === "metadata" && (n.legacy || n.mv <= MAX_IMAGE_METADATA_MV)) {
      return imageMetadataRoute(method, subId);
    }
    if (collection === "images" && sub === undefined && (n.legacy || n.mv < 36)) {
      if (method === "GET") return id === undefined ? listProxyImages(false) : id === "detail" ? listProxyImages(true) : showProxyImage;
      if (method === "DELETE" && id !== undefined) return deleteProxyImage;
      return undefined;
    }
    if (collection === "limits" && id === undefined && method === "GET") return showLimits;
    if (collection === "os-keypairs" && sub === undefined && method === "GET") return id === undefined ? listKeypairs : showKeypair;
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
