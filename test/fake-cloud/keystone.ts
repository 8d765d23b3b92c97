// Fake Keystone: v3 tokens (password, application credential, token) and v2.0 tokens (book and `access` bodies).
import type { FakeCloud, RequestContext, ServiceRoots } from "./cloud.ts";
import { isoKeystone, isoSeconds } from "./clock.ts";
import { empty, INVALID_JSON, isRecord, json, keystoneError, readJson } from "./http.ts";
import type { FakeProject, FakeToken, FakeUser } from "./model.ts";

const AUTH_REQUIRED = "The request you have made requires authentication.";

function requestIdHeader(cloud: FakeCloud): Record<string, string> {
  return { "x-openstack-request-id": `req-${cloud.rng.uuid()}`, Vary: "X-Auth-Token" };
}

export async function handleIdentity(cloud: FakeCloud, ctx: RequestContext): Promise<Response> {
  const { method, path, roots } = ctx;
  if (path === "/" && method === "GET") return json(300, { versions: { values: [v3VersionDoc(roots)] } });
  if ((path === "/v3" || path === "/v3/") && method === "GET") return json(200, { version: v3VersionDoc(roots) });
  if (path === "/v3/auth/tokens") {
    if (method === "POST") return issueV3(cloud, ctx);
    if (method === "GET" || method === "HEAD") return validateV3(cloud, ctx);
    if (method === "DELETE") return revokeV3(cloud, ctx);
  }
  if (path.startsWith("/v2.0")) {
    if (!cloud.options.keystoneV2) return notFoundHtml();
    if (path === "/v2.0/tokens" && method === "POST") return issueV2(cloud, ctx);
    if ((path === "/v2.0" || path === "/v2.0/") && method === "GET") {
      return json(200, { version: { id: "v2.0", status: "deprecated", updated: "2016-08-04T00:00:00Z", links: [{ rel: "self", href: `${roots.identity}/v2.0/` }] } });
    }
  }
  return notFoundHtml();
}

/** What modern Keystone answers for paths it does not serve, v2.0 included (see samples/real-zed). */
function notFoundHtml(): Response {
  return new Response(
    "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n",
    { status: 404, headers: { "Content-Type": "text/html; charset=utf-8", Vary: "X-Auth-Token" } },
  );
}

function v3VersionDoc(roots: ServiceRoots) {
  return {
    id: "v3.14",
    status: "stable",
    updated: "2020-04-07T00:00:00Z",
    links: [{ rel: "self", href: `${roots.identity}/v3/` }],
    "media-types": [{ base: "application/json", type: "application/vnd.openstack.identity-v3+json" }],
  };
}

function domainMatches(user: { domainId: string }, domain: unknown): boolean {
  if (!isRecord(domain)) return false;
  if (typeof domain.id === "string") return domain.id === user.domainId;
  if (typeof domain.name === "string") return domain.name === (user.domainId === "default" ? "Default" : user.domainId);
  return false;
}

function findUser(cloud: FakeCloud, spec: unknown): FakeUser | undefined {
  if (!isRecord(spec)) return undefined;
  for (const user of cloud.users.values()) {
    if (typeof spec.id === "string" ? spec.id === user.id : spec.name === user.name && domainMatches(user, spec.domain)) return user;
  }
  return undefined;
}

function findProject(cloud: FakeCloud, spec: unknown): FakeProject | undefined {
  if (!isRecord(spec)) return undefined;
  for (const project of cloud.projects.values()) {
    if (typeof spec.id === "string" ? spec.id === project.id : spec.name === project.name && domainMatches(project, spec.domain)) return project;
  }
  return undefined;
}

function newToken(cloud: FakeCloud, user: FakeUser, projectId: string | null, methods: string[], appCredentialId?: string): FakeToken {
  const now = cloud.now();
  const token: FakeToken = {
    id: `gAAAAA${cloud.rng.token(58)}`,
    userId: user.id,
    projectId,
    methods,
    roles: projectId === null ? [] : user.roles,
    issuedAt: now,
    expiresAt: now + cloud.options.tokenTtlMs,
    auditId: cloud.rng.token(22),
    revoked: false,
    ...(appCredentialId === undefined ? {} : { appCredentialId }),
  };
  cloud.tokens.set(token.id, token);
  return token;
}

/** Stable, readable endpoint ids: the fake's catalog does not change between tokens. */
function catalogV3(cloud: FakeCloud, roots: ServiceRoots) {
  const region = cloud.options.region;
  const service = (type: string, name: string, url: string) => ({
    endpoints: ["public", "internal", "admin"].map((iface) => ({ id: `${name}-${iface}`, interface: iface, region_id: region, url, region })),
    id: `${name}-service`,
    type,
    name,
  });
  return [service("identity", "keystone", `${roots.identity}/v3`), service("compute", "nova", `${roots.compute}/v2.1`), service("image", "glance", roots.image)];
}

function tokenBodyV3(cloud: FakeCloud, token: FakeToken, roots: ServiceRoots, withCatalog: boolean) {
  const user = cloud.users.get(token.userId);
  const domain = (id: string) => ({ id, name: id === "default" ? "Default" : id });
  const project = token.projectId === null ? undefined : cloud.projects.get(token.projectId);
  const body: Record<string, unknown> = {
    methods: token.methods,
    user: { domain: domain(user?.domainId ?? "default"), id: token.userId, name: user?.name ?? "", password_expires_at: null },
    audit_ids: [token.auditId],
    expires_at: isoKeystone(token.expiresAt),
    issued_at: isoKeystone(token.issuedAt),
  };
  if (project !== undefined) {
    body.project = { domain: domain(project.domainId), id: project.id, name: project.name };
    body.is_domain = false;
    body.roles = token.roles.map((name) => ({ id: `role-${name}`, name }));
    if (withCatalog) body.catalog = catalogV3(cloud, roots);
  }
  if (token.appCredentialId !== undefined) {
    const cred = cloud.appCredentials.get(token.appCredentialId);
    body.application_credential = { id: token.appCredentialId, name: cred?.name ?? "", restricted: true };
  }
  return { token: body };
}

async function issueV3(cloud: FakeCloud, ctx: RequestContext): Promise<Response> {
  const body = await readJson(ctx.request);
  if (body === INVALID_JSON || !isRecord(body) || !isRecord(body.auth) || !isRecord(body.auth.identity)) {
    return keystoneError(400, "Expecting to find identity in auth. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.");
  }
  const identity = body.auth.identity;
  const methods = Array.isArray(identity.methods) ? identity.methods.filter((m): m is string => typeof m === "string") : [];
  if (methods.length === 0) return keystoneError(400, "Invalid input for field 'identity': 'methods' is a required property");
  const scope = body.auth.scope;
  let user: FakeUser | undefined;
  let projectId: string | null = null;
  let appCredentialId: string | undefined;

  if (methods.includes("application_credential")) {
    const spec = identity.application_credential;
    if (!isRecord(spec) || typeof spec.secret !== "string") return keystoneError(400, "Invalid input for field 'identity': 'secret' is a required property");
    const cred = [...cloud.appCredentials.values()].find((c) => (typeof spec.id === "string" ? c.id === spec.id : c.name === spec.name && findUser(cloud, spec.user)?.id === c.userId));
    if (cred === undefined || cred.secret !== spec.secret) return keystoneError(401, AUTH_REQUIRED, requestIdHeader(cloud));
    if (scope !== undefined) return keystoneError(401, "Application credentials cannot request a scope.", requestIdHeader(cloud));
    user = cloud.users.get(cred.userId);
    projectId = cred.projectId;
    appCredentialId = cred.id;
  } else if (methods.includes("password")) {
    const spec = isRecord(identity.password) ? identity.password.user : undefined;
    user = findUser(cloud, spec);
    if (user === undefined || !isRecord(spec) || spec.password !== user.password) return keystoneError(401, AUTH_REQUIRED, requestIdHeader(cloud));
  } else if (methods.includes("token")) {
    const id = isRecord(identity.token) ? identity.token.id : undefined;
    const old = typeof id === "string" ? cloud.tokens.get(id) : undefined;
    if (old === undefined || old.revoked || old.expiresAt <= cloud.now()) return keystoneError(401, AUTH_REQUIRED, requestIdHeader(cloud));
    user = cloud.users.get(old.userId);
  } else {
    return keystoneError(401, `Attempted to authenticate with an unsupported method.`, requestIdHeader(cloud));
  }
  if (user === undefined) return keystoneError(401, AUTH_REQUIRED, requestIdHeader(cloud));

  if (appCredentialId === undefined && isRecord(scope)) {
    if (!isRecord(scope.project)) return keystoneError(400, "Only project scope is supported by the fake cloud.");
    const project = findProject(cloud, scope.project);
    // Membership: a user has roles only on their own project (the admin role reaches every project).
    if (project === undefined || (project.id !== user.projectId && !user.roles.includes("admin"))) {
      return keystoneError(401, AUTH_REQUIRED, requestIdHeader(cloud));
    }
    projectId = project.id;
  }
  const token = newToken(cloud, user, projectId, methods, appCredentialId);
  return json(201, tokenBodyV3(cloud, token, ctx.roots, true), { "X-Subject-Token": token.id, ...requestIdHeader(cloud) });
}

async function validateV3(cloud: FakeCloud, ctx: RequestContext): Promise<Response> {
  if (cloud.authenticate(ctx.request) === undefined) return keystoneError(401, AUTH_REQUIRED);
  const subject = ctx.request.headers.get("X-Subject-Token") ?? "";
  const token = cloud.tokens.get(subject);
  if (token === undefined || token.revoked || token.expiresAt <= cloud.now()) return keystoneError(404, `Could not find token: ${subject.slice(0, 8)}...`);
  if (ctx.method === "HEAD") return empty(200, { "X-Subject-Token": subject });
  return json(200, tokenBodyV3(cloud, token, ctx.roots, ctx.url.searchParams.get("nocatalog") === null), { "X-Subject-Token": subject });
}

function revokeV3(cloud: FakeCloud, ctx: RequestContext): Response {
  if (cloud.authenticate(ctx.request) === undefined) return keystoneError(401, AUTH_REQUIRED);
  const token = cloud.tokens.get(ctx.request.headers.get("X-Subject-Token") ?? "");
  if (token === undefined || token.revoked) return keystoneError(404, "Could not find token.");
  token.revoked = true;
  return empty(204);
}

/** POST /v2.0/tokens: the book's body `{"passwordCredentials": ...}` or the standard `{"auth": {...}}`. */
async function issueV2(cloud: FakeCloud, ctx: RequestContext): Promise<Response> {
  const body = await readJson(ctx.request);
  if (!isRecord(body)) return keystoneError(400, "Expecting to find auth in request body.");
  const bookRequest = isRecord(body.passwordCredentials);
  const auth = bookRequest ? body : body.auth;
  if (!isRecord(auth)) return keystoneError(400, "Expecting to find auth in request body.");
  let user: FakeUser | undefined;
  if (isRecord(auth.passwordCredentials)) {
    const creds = auth.passwordCredentials;
    user = [...cloud.users.values()].find((u) => (u.name === creds.username || u.id === creds.userId) && u.password === creds.password);
  } else if (isRecord(auth.token)) {
    const old = typeof auth.token.id === "string" ? cloud.tokens.get(auth.token.id) : undefined;
    if (old !== undefined && !old.revoked && old.expiresAt > cloud.now()) user = cloud.users.get(old.userId);
  }
  if (user === undefined) return keystoneError(401, AUTH_REQUIRED);
  let project: FakeProject | undefined = cloud.projects.get(user.projectId);
  if (typeof auth.tenantName === "string" || typeof auth.tenantId === "string") {
    project = [...cloud.projects.values()].find((p) => p.name === auth.tenantName || p.id === auth.tenantId);
    if (project === undefined || (project.id !== user.projectId && !user.roles.includes("admin"))) return keystoneError(401, AUTH_REQUIRED);
  }
  const token = newToken(cloud, user, project?.id ?? null, ["password"]);
  const style = cloud.options.keystoneV2Style;
  if (style === "book" || (style === "auto" && bookRequest)) return json(200, bookBody(cloud, token, ctx.roots, project));
  return json(200, accessBody(cloud, token, ctx.roots, user, project));
}

/** The book's v2.0 answer: catalog keyed by service name, no tenant in the token. */
function bookBody(cloud: FakeCloud, token: FakeToken, roots: ServiceRoots, project: FakeProject | undefined) {
  const region = cloud.options.region;
  const endpoint = (url: string) => [{ adminURL: url, region, internalURL: url, publicURL: url }];
  return {
    auth: {
      token: { expires: isoSeconds(token.expiresAt).replace("Z", ""), id: token.id },
      serviceCatalog: {
        glance: endpoint(`${roots.image}/v1`),
        identity: endpoint(`${roots.identity}/v2.0`),
        nova: endpoint(`${roots.compute}/v1.1/${project?.id ?? ""}`),
      },
    },
  };
}

/** The standard v2.0 answer (Keystone Essex to Queens). */
function accessBody(cloud: FakeCloud, token: FakeToken, roots: ServiceRoots, user: FakeUser, project: FakeProject | undefined) {
  const region = cloud.options.region;
  const service = (type: string, name: string, url: string) => ({
    endpoints: [{ adminURL: url, region, internalURL: url, id: `${name}-v2`, publicURL: url }],
    endpoints_links: [],
    type,
    name,
  });
  const catalog = project === undefined ? [] : [
    service("compute", "nova", `${roots.compute}/v2.1/${project.id}`),
    service("image", "glance", roots.image),
    service("identity", "keystone", `${roots.identity}/v2.0`),
  ];
  return {
    access: {
      token: {
        issued_at: isoKeystone(token.issuedAt).replace("Z", ""),
        expires: isoSeconds(token.expiresAt),
        id: token.id,
        ...(project === undefined ? {} : { tenant: { description: null, enabled: true, id: project.id, name: project.name } }),
        audit_ids: [token.auditId],
      },
      serviceCatalog: catalog,
      user: { username: user.name, roles_links: [], id: user.id, roles: token.roles.map((name) => ({ name })), name: user.name },
      metadata: { is_admin: 0, roles: token.roles.map((name) => `role-${name}`) },
    },
  };
}
