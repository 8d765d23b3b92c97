// Keystone authentication: v3 password / application credential / token, v2.0 passwordCredentials (standard and book bodies).
import { z } from "zod";
import type { OpenStackSettings } from "../config/env.ts";
import { type Catalog, catalogFromBook, endpointsFromV2, normaliseInterface } from "./catalog.ts";
import { OpenStackError } from "./errors.ts";
import { type HttpResponse, joinUrl, type Transport, unexpected } from "./http.ts";

export type Credentials =
  | {
      method: "password";
      username: string;
      password: string;
      userDomainName?: string | undefined;
      userDomainId?: string | undefined;
      projectName?: string | undefined;
      projectId?: string | undefined;
      projectDomainName?: string | undefined;
      projectDomainId?: string | undefined;
    }
  | { method: "applicationCredential"; id: string; secret: string }
  | {
      method: "token";
      token: string;
      projectName?: string | undefined;
      projectId?: string | undefined;
      projectDomainName?: string | undefined;
      projectDomainId?: string | undefined;
    };

export type IdentityEra = "v3" | "v2.0";

export interface AuthResult {
  token: string;
  /** ms since the epoch; undefined when Keystone did not say. */
  expiresAt: number | undefined;
  issuedAt: number | undefined;
  catalog: Catalog;
  projectId: string | undefined;
  era: IdentityEra;
}

/** OS_* settings to credentials: an application credential wins over a password when both are set. */
export function credentialsFromSettings(settings: OpenStackSettings): Credentials {
  if (settings.OS_APPLICATION_CREDENTIAL_ID !== undefined && settings.OS_APPLICATION_CREDENTIAL_SECRET !== undefined) {
    return { method: "applicationCredential", id: settings.OS_APPLICATION_CREDENTIAL_ID, secret: settings.OS_APPLICATION_CREDENTIAL_SECRET };
  }
  if (settings.OS_USERNAME === undefined || settings.OS_PASSWORD === undefined) {
    throw new OpenStackError({
      method: "AUTH",
      url: settings.OS_AUTH_URL,
      status: 0,
      kind: "missingCredentials",
      message: "set OS_USERNAME and OS_PASSWORD, or OS_APPLICATION_CREDENTIAL_ID and OS_APPLICATION_CREDENTIAL_SECRET",
      category: "config",
    });
  }
  const user = domainSetting(settings.OS_USER_DOMAIN_ID, settings.OS_USER_DOMAIN_NAME, settings);
  const project = domainSetting(settings.OS_PROJECT_DOMAIN_ID, settings.OS_PROJECT_DOMAIN_NAME, settings);
  return {
    method: "password",
    username: settings.OS_USERNAME,
    password: settings.OS_PASSWORD,
    userDomainId: user.id,
    userDomainName: user.name,
    projectName: settings.OS_PROJECT_NAME,
    projectId: settings.OS_PROJECT_ID,
    projectDomainId: project.id,
    projectDomainName: project.name,
  };
}

/**
 * A domain as the OS_* variables give it: the user's (or project's) own id or name, else
 * OS_DEFAULT_DOMAIN_ID / _NAME, which keystoneauth uses for both. Unlike keystoneauth, a domain named
 * for the user or project itself always wins over a default one (keystoneauth would let OS_DEFAULT_DOMAIN_ID
 * beat OS_USER_DOMAIN_NAME). Between an id and a name at the same level, the id wins, as in keystoneauth.
 */
function domainSetting(id: string | undefined, name: string | undefined, settings: OpenStackSettings): { id: string | undefined; name: string | undefined } {
  if (id !== undefined) return { id, name: undefined };
  if (name !== undefined) return { id: undefined, name };
  if (settings.OS_DEFAULT_DOMAIN_ID !== undefined) return { id: settings.OS_DEFAULT_DOMAIN_ID, name: undefined };
  return { id: undefined, name: settings.OS_DEFAULT_DOMAIN_NAME };
}

/** Which identity API an auth URL names: `…/v3` and `…/v2.0` decide; a bare root tries v3 first. */
export function identityEraOf(authUrl: string): IdentityEra | "root" {
  const path = new URL(authUrl).pathname.replace(/\/+$/, "");
  if (/\/v3$/.test(path)) return "v3";
  if (/\/v2\.0$/.test(path)) return "v2.0";
  return "root";
}

export async function authenticate(transport: Transport, authUrl: string, credentials: Credentials): Promise<AuthResult> {
  const era = identityEraOf(authUrl);
  if (era === "v3") return authenticateV3(transport, authUrl, credentials);
  if (era === "v2.0") return authenticateV2(transport, authUrl, credentials);
  try {
    return await authenticateV3(transport, joinUrl(authUrl, "v3"), credentials);
  } catch (e) {
    // A root URL of a cloud from before Keystone v3 (the book's era): nothing answers under /v3.
    if (e instanceof OpenStackError && e.status === 404) return authenticateV2(transport, joinUrl(authUrl, "v2.0"), credentials);
    throw e;
  }
}

// ---- v3 ---------------------------------------------------------------------------------------

export function v3AuthBody(credentials: Credentials): unknown {
  if (credentials.method === "applicationCredential") {
    // An application credential carries its own project scope; Keystone rejects an explicit one.
    return { auth: { identity: { methods: ["application_credential"], application_credential: { id: credentials.id, secret: credentials.secret } } } };
  }
  const identity =
    credentials.method === "password"
      ? {
          methods: ["password"],
          password: {
            user: {
              name: credentials.username,
              domain: domainRef(credentials.userDomainId, credentials.userDomainName),
              password: credentials.password,
            },
          },
        }
      : { methods: ["token"], token: { id: credentials.token } };
  const scope = projectScope(credentials);
  return { auth: scope === undefined ? { identity } : { identity, scope } };
}

function domainRef(id: string | undefined, name: string | undefined): { id: string } | { name: string } {
  if (id !== undefined) return { id };
  if (name !== undefined) return { name };
  return { id: "default" };
}

function projectScope(c: Extract<Credentials, { method: "password" | "token" }>): unknown {
  if (c.projectId !== undefined) return { project: { id: c.projectId } };
  if (c.projectName !== undefined) return { project: { name: c.projectName, domain: domainRef(c.projectDomainId, c.projectDomainName) } };
  return undefined;
}

const V3EndpointSchema = z.looseObject({
  interface: z.string(),
  region: z.string().nullish(),
  region_id: z.string().nullish(),
  url: z.string(),
});
const V3TokenSchema = z.looseObject({
  token: z.looseObject({
    expires_at: z.string().nullish(),
    issued_at: z.string().nullish(),
    project: z.looseObject({ id: z.string() }).nullish(),
    catalog: z.array(z.looseObject({ type: z.string(), name: z.string().nullish(), endpoints: z.array(V3EndpointSchema) })).nullish(),
  }),
});

async function authenticateV3(transport: Transport, v3Url: string, credentials: Credentials): Promise<AuthResult> {
  const response = await transport.send({
    method: "POST",
    url: joinUrl(v3Url, "auth/tokens"),
    json: v3AuthBody(credentials),
    expect: [200, 201],
    retry: "idempotent",
    service: "identity",
  });
  const token = response.headers.get("x-subject-token");
  if (token === null || token === "") throw unexpected(response, "Keystone answered without an X-Subject-Token header");
  const body = transport.parse(response, V3TokenSchema).token;
  const catalog: Catalog = (body.catalog ?? []).map((service) => ({
    type: service.type,
    name: service.name ?? undefined,
    endpoints: service.endpoints.flatMap((e) => {
      try {
        return [{ interface: normaliseInterface(e.interface), region: e.region_id ?? e.region ?? undefined, url: e.url }];
      } catch {
        return [];
      }
    }),
  }));
  return {
    token,
    expiresAt: parseKeystoneTime(body.expires_at),
    issuedAt: parseKeystoneTime(body.issued_at),
    catalog,
    projectId: body.project?.id,
    era: "v3",
  };
}

// ---- v2.0 -------------------------------------------------------------------------------------

export function v2AuthBody(credentials: Credentials, style: "standard" | "book"): unknown {
  if (credentials.method === "applicationCredential") {
    throw new OpenStackError({
      method: "AUTH",
      url: "v2.0",
      status: 0,
      kind: "unsupportedCredentials",
      message: "application credentials need Keystone v3; set OS_AUTH_URL to the …/v3 endpoint",
      category: "config",
    });
  }
  if (style === "book") {
    // The book's request: no "auth" wrapper and no tenant (Keystone of 2011 scoped by user).
    if (credentials.method !== "password") throw new Error("the book's v2.0 body only knows passwordCredentials");
    return { passwordCredentials: { username: credentials.username, password: credentials.password } };
  }
  const auth: Record<string, unknown> =
    credentials.method === "password"
      ? { passwordCredentials: { username: credentials.username, password: credentials.password } }
      : { token: { id: credentials.token } };
  if (credentials.projectId !== undefined) auth["tenantId"] = credentials.projectId;
  else if (credentials.projectName !== undefined) auth["tenantName"] = credentials.projectName;
  return { auth };
}

const V2EntrySchema = z.record(z.string(), z.unknown());
const V2TokenFields = z.looseObject({
  id: z.string(),
  expires: z.string().nullish(),
  issued_at: z.string().nullish(),
  tenant: z.looseObject({ id: z.string() }).nullish(),
});
/** The standard v2.0 body: {"access": {"token", "serviceCatalog": [{type, name, endpoints}]}}. */
const V2AccessSchema = z.object({
  access: z.looseObject({
    token: V2TokenFields,
    serviceCatalog: z.array(z.looseObject({ type: z.string(), name: z.string().nullish(), endpoints: z.array(V2EntrySchema) })).nullish(),
  }),
});
/** The book's body: {"auth": {"token", "serviceCatalog": {"nova": [...], "glance": [...]}}}. */
const V2BookSchema = z.object({
  auth: z.looseObject({
    token: V2TokenFields,
    serviceCatalog: z.record(z.string(), z.array(V2EntrySchema)).nullish(),
  }),
});
const V2ResponseSchema = z.union([V2AccessSchema, V2BookSchema]);

async function authenticateV2(transport: Transport, v2Url: string, credentials: Credentials): Promise<AuthResult> {
  const url = joinUrl(v2Url, "tokens");
  let response: HttpResponse;
  try {
    response = await transport.send({ method: "POST", url, json: v2AuthBody(credentials, "standard"), expect: [200, 201], retry: "idempotent", service: "identity" });
  } catch (e) {
    // The book's Keystone wanted passwordCredentials at the top level and rejects the later "auth" wrapper.
    if (!(e instanceof OpenStackError && e.status === 400 && credentials.method === "password")) throw e;
    response = await transport.send({ method: "POST", url, json: v2AuthBody(credentials, "book"), expect: [200, 201], retry: "idempotent", service: "identity" });
  }
  const body = transport.parse(response, V2ResponseSchema);
  if ("access" in body) {
    const access = body.access;
    return {
      token: access.token.id,
      expiresAt: parseKeystoneTime(access.token.expires),
      issuedAt: parseKeystoneTime(access.token.issued_at),
      catalog: (access.serviceCatalog ?? []).map((s) => ({ type: s.type, name: s.name ?? undefined, endpoints: endpointsFromV2(s.endpoints) })),
      projectId: access.token.tenant?.id,
      era: "v2.0",
    };
  }
  const auth = body.auth;
  return {
    token: auth.token.id,
    expiresAt: parseKeystoneTime(auth.token.expires),
    issuedAt: undefined,
    catalog: catalogFromBook(auth.serviceCatalog ?? {}),
    projectId: auth.token.tenant?.id,
    era: "v2.0",
  };
}

/** Keystone times: "2026-11-26T21:18:17.000000Z", and the book's zone-less "2015-02-05T00:00:00" (UTC). */
export function parseKeystoneTime(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(value.trim());
  if (m === null) {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : t;
  }
  const fraction = m[2] === undefined ? "" : m[2].slice(0, 4);
  const t = Date.parse(`${m[1]}${fraction}${m[3] ?? "Z"}`);
  return Number.isNaN(t) ? undefined : t;
}
