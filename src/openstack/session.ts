// An authenticated session: token cache with early refresh, one re-authentication on 401, endpoints from catalog or overrides.
import { type Catalog, type Interface, normaliseInterface, requireEndpoint, findEndpoint } from "./catalog.ts";
import { OpenStackError } from "./errors.ts";
import { type HttpRequest, type HttpResponse, type RequestStats, Transport, type TransportOptions } from "./http.ts";
import { type AuthResult, authenticate, type Credentials } from "./keystone.ts";

/** Where tokens live between calls; share one across sessions (e.g. module scope) to skip re-authenticating every tick. */
export interface TokenCache {
  get(key: string): CachedToken | undefined;
  set(key: string, token: CachedToken): void;
  delete(key: string): void;
}

export interface CachedToken extends AuthResult {
  /** When this client received it (its own clock), ms since the epoch. */
  obtainedAt: number;
  /** Expiry as this client uses it (Keystone's, or a default lifetime when Keystone's is missing or in the past). */
  usableUntil: number;
  /** What was learnt with this token and lives as long as it (e.g. compute discovery): see Session.memo. */
  memo?: Map<string, Promise<unknown>>;
}

export function createTokenCache(): TokenCache {
  const map = new Map<string, CachedToken>();
  return { get: (k) => map.get(k), set: (k, t) => void map.set(k, t), delete: (k) => void map.delete(k) };
}

export interface SessionOptions extends TransportOptions {
  authUrl: string;
  credentials: Credentials;
  region?: string | undefined;
  interface?: string | undefined;
  /** Service type -> URL, used instead of the catalog (e.g. `{ compute: "https://nova.example/v2.1" }`). */
  endpointOverrides?: Record<string, string> | undefined;
  tokenCache?: TokenCache;
  /**
   * Whose token it is, beyond the credentials: the named cloud (config/clouds.ts). Two clouds never share a
   * cached token, even with the same user at the same Keystone (one may hold a wrong password: it must fail, not borrow).
   */
  tokenScope?: string;
  /** Refresh this long before expiry (capped at a quarter of the token's lifetime). Default 5 minutes. */
  refreshMarginMs?: number;
  /** Lifetime assumed when Keystone gives no usable expiry (then a 401 tells us). Default 1 hour. */
  assumedTokenLifetimeMs?: number;
}

/** Passed to `Session.request`: an HTTP request without the token, for a service type. */
export type ServiceRequest = Omit<HttpRequest, "service"> & { service: string };

export class Session {
  readonly transport: Transport;
  readonly authUrl: string;
  readonly region: string | undefined;
  readonly interface: Interface;
  private readonly credentials: Credentials;
  private readonly overrides: Record<string, string>;
  private readonly cache: TokenCache;
  private readonly cacheKey: string;
  private readonly refreshMarginMs: number;
  private readonly assumedLifetimeMs: number;
  private inflight: Promise<CachedToken> | undefined;

  constructor(options: SessionOptions) {
    this.transport = new Transport(options);
    this.authUrl = options.authUrl.replace(/\/+$/, "");
    this.credentials = options.credentials;
    this.region = options.region;
    this.interface = normaliseInterface(options.interface);
    this.overrides = Object.fromEntries(Object.entries(options.endpointOverrides ?? {}).map(([k, v]) => [k, v.replace(/\/+$/, "")]));
    this.cache = options.tokenCache ?? createTokenCache();
    this.cacheKey = `${options.tokenScope ?? ""}#${tokenCacheKey(this.authUrl, options.credentials)}`;
    this.refreshMarginMs = options.refreshMarginMs ?? 5 * 60_000;
    this.assumedLifetimeMs = options.assumedTokenLifetimeMs ?? 60 * 60_000;
    this.transport.trustRedirectsTo([this.authUrl, ...Object.values(this.overrides)]);
    const c = options.credentials;
    this.transport.registerSecret(c.method === "password" ? c.password : c.method === "applicationCredential" ? c.secret : c.token);
  }

  stats(): RequestStats {
    return this.transport.stats();
  }

  /** A token that will not expire within the refresh margin; authenticates when needed (one request at a time). */
  async auth(): Promise<CachedToken> {
    const cached = this.cache.get(this.cacheKey);
    if (cached !== undefined && this.stillFresh(cached)) {
      // A token from the shared cache was fetched by an earlier tick's transport: this one must mask it too.
      this.transport.registerSecret(cached.token);
      this.trustCatalog(cached.catalog);
      return cached;
    }
    if (this.inflight === undefined) {
      this.inflight = this.authenticateNow().finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  /** The cached token's expiry as this client uses it (ms), when one is cached; sends nothing. */
  cachedTokenExpiry(): number | undefined {
    return this.cache.get(this.cacheKey)?.usableUntil;
  }

  /** A service's endpoint as the cached token's catalog (or an override) names it; sends nothing (GET /v1/clouds shows what was last seen). */
  cachedEndpoint(type: string): string | undefined {
    const override = this.overrides[type];
    if (override !== undefined) return override;
    const cached = this.cache.get(this.cacheKey);
    return cached === undefined ? undefined : findEndpoint(cached.catalog, { type, interface: this.interface, region: this.region });
  }

  /** Forgets the cached token (after a 401, or to force a new one); given a token, only if that one is still cached. */
  invalidate(token?: string): void {
    // Parallel requests that all got a 401 must not throw away the new token the first of them fetched.
    if (token !== undefined && this.cache.get(this.cacheKey)?.token !== token) return;
    this.cache.delete(this.cacheKey);
  }

  /** The endpoint URL for a service type: the override, else the catalog; throws a config error when there is none. */
  async endpoint(type: string): Promise<string> {
    const override = this.overrides[type];
    if (override !== undefined) return override;
    const { catalog } = await this.auth();
    return requireEndpoint(catalog, { type, interface: this.interface, region: this.region }, this.authUrl);
  }

  /** Like endpoint(), but undefined when the cloud has no such service (Glance on a book-era cloud). */
  async optionalEndpoint(type: string): Promise<string | undefined> {
    const override = this.overrides[type];
    if (override !== undefined) return override;
    const { catalog } = await this.auth();
    return findEndpoint(catalog, { type, interface: this.interface, region: this.region });
  }

  /**
   * `load()`'s answer, remembered with the current token: every session sharing the token cache (the
   * next ticks of a warm isolate) reuses it until the token is refreshed, so facts such as the compute
   * version document are fetched once per token, not once per tick. A failed load is not remembered.
   */
  /** Drops what memo() remembered under `key` with the current token (e.g. a discovery that only fell back). */
  forget(key: string): void {
    const token = this.cache.get(this.cacheKey);
    token?.memo?.delete(key);
  }

  async memo<T>(key: string, load: () => Promise<T>): Promise<T> {
    const token = await this.auth();
    token.memo ??= new Map();
    const memo = token.memo;
    const hit = memo.get(key);
    if (hit !== undefined) return hit as Promise<T>;
    const loading = load();
    memo.set(key, loading);
    loading.catch(() => {
      if (memo.get(key) === loading) memo.delete(key);
    });
    return loading;
  }

  /** Sends with X-Auth-Token; on a 401 re-authenticates once and replays (the token may have been revoked). */
  async request(request: ServiceRequest): Promise<HttpResponse> {
    const first = await this.auth();
    try {
      return await this.transport.send({ ...request, headers: { ...request.headers, "X-Auth-Token": first.token } });
    } catch (e) {
      if (!(e instanceof OpenStackError && e.status === 401)) throw e;
      this.invalidate(first.token);
      const second = await this.auth();
      return this.transport.send({ ...request, headers: { ...request.headers, "X-Auth-Token": second.token } });
    }
  }

  private stillFresh(token: CachedToken): boolean {
    const now = this.transport.clock();
    const lifetime = token.usableUntil - token.obtainedAt;
    const margin = Math.min(this.refreshMarginMs, lifetime / 4);
    return token.usableUntil - now > margin;
  }

  /** The catalog's endpoints of our interface get the token anyway: a redirect to one of their hosts may be followed. */
  private trustCatalog(catalog: Catalog): void {
    this.transport.trustRedirectsTo(catalog.flatMap((service) => service.endpoints.filter((e) => e.interface === this.interface).map((e) => e.url)));
  }

  private async authenticateNow(): Promise<CachedToken> {
    const result = await authenticate(this.transport, this.authUrl, this.credentials);
    const obtainedAt = this.transport.clock();
    // A token that is already "expired" by our clock means skewed clocks (or the book's 2015 sample): trust 401s instead.
    const usableUntil = result.expiresAt !== undefined && result.expiresAt > obtainedAt ? result.expiresAt : obtainedAt + this.assumedLifetimeMs;
    this.transport.registerSecret(result.token);
    this.trustCatalog(result.catalog);
    const token: CachedToken = { ...result, obtainedAt, usableUntil };
    this.cache.set(this.cacheKey, token);
    return token;
  }
}

/** Identifies whose token it is without any secret in the key. */
function tokenCacheKey(authUrl: string, c: Credentials): string {
  switch (c.method) {
    case "password":
      return ["password", authUrl, c.userDomainId ?? c.userDomainName ?? "", c.username, c.projectId ?? `${c.projectDomainId ?? c.projectDomainName ?? ""}/${c.projectName ?? ""}`].join("|");
    case "applicationCredential":
      return ["appcred", authUrl, c.id].join("|");
    case "token":
      return ["token", authUrl, c.projectId ?? c.projectName ?? "", String(hash(c.token))].join("|");
  }
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}
