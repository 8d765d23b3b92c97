// The one typed error of the OpenStack client: what failed, how Nova/Keystone/Glance said it, and what callers should do.

/**
 * What a caller does about an error:
 * - `config`: the request is wrong (bad image/flavor/network ref, 400; too many metadata items, files, key pairs or
 *   security groups; a protected image, redirects to another server); retrying will not help.
 * - `quota`: the project is out of quota (403 "Quota exceeded", "Maximum number of ports/fixed IPs/floating IPs
 *   exceeded", 413 overLimit); boot less.
 * - `auth`: credentials or permissions (401, other 403s).
 * - `notFound`: the resource does not exist (404).
 * - `transient`: 5xx, 409, 429, rate limits, network errors, incomplete listings; try again later.
 * - `cloud`: the cloud answered something this client does not understand (bad JSON, 501, ...).
 */
export type ErrorCategory = "config" | "quota" | "auth" | "notFound" | "transient" | "cloud";

export interface OpenStackErrorFields {
  method: string;
  url: string;
  /** HTTP status; 0 when no response arrived (network error, timeout) or the error is the client's own. */
  status: number;
  /** Nova fault name (`badRequest`, `itemNotFound`, `overLimit`, ...), Keystone's title, or the client's own kind. */
  kind: string;
  message: string;
  requestId?: string;
  /** Seconds the cloud asked us to wait (Retry-After header, or `retryAfter` in a book-era overLimit body). */
  retryAfterSeconds?: number;
  /** Overrides the category derived from status, kind and message. */
  category?: ErrorCategory;
  cause?: unknown;
}

/** Nova fault names by status, for bodies that do not name one (HTML pages, text, empty bodies). */
const FAULT_BY_STATUS: Record<number, string> = {
  400: "badRequest",
  401: "unauthorized",
  403: "forbidden",
  404: "itemNotFound",
  405: "badMethod",
  406: "notAcceptable",
  409: "conflictingRequest",
  413: "overLimit",
  415: "badMediaType",
  429: "overLimit",
  500: "computeFault",
  501: "notImplemented",
  503: "serviceUnavailable",
};

export class OpenStackError extends Error {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly kind: string;
  readonly requestId: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly category: ErrorCategory;
  /** The cloud's own message, without the method/URL/status prefix of `message`. */
  readonly detail: string;

  constructor(fields: OpenStackErrorFields) {
    const where = `${fields.method} ${redactUrl(fields.url)}`;
    const status = fields.status === 0 ? "" : ` ${fields.status}`;
    super(`${where}:${status} ${fields.kind}: ${fields.message}`, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = "OpenStackError";
    this.method = fields.method;
    this.url = redactUrl(fields.url);
    this.status = fields.status;
    this.kind = fields.kind;
    this.detail = fields.message;
    this.requestId = fields.requestId;
    this.retryAfterSeconds = fields.retryAfterSeconds;
    this.category = fields.category ?? categorize(fields.status, fields.kind, fields.message, fields.retryAfterSeconds);
  }

  get transient(): boolean {
    return this.category === "transient";
  }

  /** A plain object for logs and API answers (no stack, no cause). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      category: this.category,
      method: this.method,
      url: this.url,
      status: this.status,
      kind: this.kind,
      message: this.detail,
      requestId: this.requestId,
      retryAfterSeconds: this.retryAfterSeconds,
    };
  }
}

/** The same error under another category, where the call knows better than the status alone. */
export function reclassified(e: OpenStackError, category: ErrorCategory): OpenStackError {
  return new OpenStackError({
    method: e.method,
    url: e.url,
    status: e.status,
    kind: e.kind,
    message: e.detail,
    requestId: e.requestId,
    retryAfterSeconds: e.retryAfterSeconds,
    category,
    cause: e.cause,
  });
}

export function isOpenStackError(e: unknown): e is OpenStackError {
  return e instanceof OpenStackError;
}

/**
 * The limit messages of 403 (and old 413) answers, in one table, first match wins. Nova's QuotaError/OverQuota
 * family (nova/exception.py, Nova 26 Zed through master) answers 403 for all of them, but they mean two things:
 * - `quota`: the project's capacity is used up (instances, cores, RAM, Neutron ports or IPs at boot, members of a
 *   server group, image storage); boot fewer.
 * - `config`: the request itself is over a per-request limit (metadata items, personality files, disk devices) or
 *   the project is over a limit booting fewer cannot change (key pairs, server groups, security groups); the rule
 *   must change.
 * Sources: nova/exception.py (every OverQuota subclass, TooManyDiskDevices), nova/network/neutron.py (Neutron's
 * OverQuota turned into PortLimitExceeded / FloatingIpLimitExceeded, the port count check), nova/compute/api.py
 * (server group members), nova/limit/*.py (unified limits: oslo.limit's ProjectOverLimit text, per resource),
 * neutron_lib/exceptions (Neutron's own OverQuota, passed through by Nova's floating IP calls, or answered 409 by
 * Neutron itself). The `config` rows come first: book-era Nova said "Quota exceeded for metadata items" with 413,
 * and Nova 25+ says "Quota exceeded, too many key pairs."
 */
export const LIMIT_MESSAGES: ReadonlyArray<{ pattern: RegExp; category: "quota" | "config"; example: string }> = [
  { category: "config", pattern: /maximum number of metadata items exceeds/i, example: "Maximum number of metadata items exceeds %(allowed)d" },
  { category: "config", pattern: /personality file limit exceeded/i, example: "Personality file limit exceeded" },
  { category: "config", pattern: /personality file path exceeds maximum/i, example: "Personality file path exceeds maximum %(allowed)s" },
  { category: "config", pattern: /personality file content exceeds maximum/i, example: "Personality file content exceeds maximum %(allowed)s" },
  { category: "config", pattern: /maximum number of key pairs exceeded|too many key pairs/i, example: "Maximum number of key pairs exceeded / Quota exceeded, too many key pairs." },
  { category: "config", pattern: /maximum number of security groups or rules exceeded/i, example: "Maximum number of security groups or rules exceeded" },
  { category: "config", pattern: /too many server groups/i, example: "Quota exceeded, too many server groups." },
  { category: "config", pattern: /maximum allowed number of disk devices/i, example: "The maximum allowed number of disk devices (%(maximum)d) to attach to a single instance has been exceeded." },
  // Unified limits (oslo.limit): "Project <id> is over a limit for [Resource <name> is over limit of ...]". The
  // resource names the kind: per-request and non-capacity limits are config, the rest (servers, class:VCPU,
  // class:MEMORY_MB, class:DISK_GB, server_group_members) capacity.
  { category: "config", pattern: /resource (server_metadata_items|server_injected_files|server_injected_file_content_bytes|server_injected_file_path_bytes|server_key_pairs|server_groups) is over limit/i, example: "Project %(project_id)s is over a limit for [Resource server_metadata_items is over limit of 128 due to current usage 0 and delta 129]" },
  // Book-era and other wordings of the same per-request limits ("Quota exceeded for metadata items", "injected files").
  { category: "config", pattern: /(metadata|personality|injected file)[^.]*(exceed|limit)|(exceed|limit)[^.]*(metadata|personality|injected file)/i, example: "Quota exceeded for metadata items: Requested 6, but already used 0 of 5" },
  { category: "quota", pattern: /is over a limit for/i, example: "Project %(project_id)s is over a limit for [Resource servers is over limit of 10 due to current usage 10 and delta 1]" },
  { category: "quota", pattern: /quota exceeded for /i, example: "Quota exceeded for %(overs)s: Requested %(req)s, but already used %(used)s of %(allowed)s %(overs)s / Quota exceeded for resources: %(overs)s (Nova; Neutron's adds a period: ['port'].)" },
  { category: "quota", pattern: /quota exceeded: code=/i, example: "Quota exceeded: code=%(code)s" },
  { category: "quota", pattern: /maximum number of ports exceeded/i, example: "Maximum number of ports exceeded" },
  { category: "quota", pattern: /number of defined ports: \d+ is over the limit/i, example: "The number of defined ports: %(ports)d is over the limit: %(quota)d" },
  { category: "quota", pattern: /maximum number of fixed ips exceeded/i, example: "Maximum number of fixed IPs exceeded" },
  { category: "quota", pattern: /maximum number of floating ips exceeded/i, example: "Maximum number of floating IPs exceeded" },
  { category: "quota", pattern: /too many servers in group/i, example: "Quota exceeded, too many servers in group" },
  { category: "quota", pattern: /quota exceeded or out of space for image/i, example: "Quota exceeded or out of space for image %(image_id)s in the image service." },
  { category: "quota", pattern: /subnet pool prefix quota exceeded/i, example: "Per-project subnet pool prefix quota exceeded." },
  // Other services' wordings (Glance, Cinder, proxies).
  { category: "quota", pattern: /quota exceeded|exceeds? (the )?quota|over ?quota/i, example: "Quota exceeded for image storage" },
];

/** The category a limit message names (see LIMIT_MESSAGES), or undefined when it names none. */
export function limitCategory(message: string): "quota" | "config" | undefined {
  return LIMIT_MESSAGES.find((row) => row.pattern.test(message))?.category;
}

const PROTECTED_MESSAGE = /\bis protected\b|\bprotected image\b/i;

/** The category rules in one place (see ErrorCategory). */
export function categorize(status: number, kind: string, message: string, retryAfterSeconds?: number): ErrorCategory {
  if (status === 0) return kind === "network" || kind === "timeout" ? "transient" : "cloud";
  if (status === 400) return "config";
  const limit = status === 403 || status === 413 ? limitCategory(message) : undefined;
  if (limit === "config") return "config";
  if (status === 401) return "auth";
  // Glance (and Nova's image proxy) refuse to delete a protected image with 403: the image's setting, not our credentials.
  if (status === 403 && PROTECTED_MESSAGE.test(message)) return "config";
  if (status === 403) return limit === "quota" ? "quota" : "auth";
  if (status === 404) return "notFound";
  // Neutron's OverQuota is a Conflict (409 "Quota exceeded for resources: ['port']."): capacity, not a race to retry.
  if (status === 409 && (kind === "OverQuota" || limitCategory(message) === "quota")) return "quota";
  if (status === 409 || status === 429) return "transient";
  // Old Nova answered quota errors with 413 (and "Retry-After: 0"), always naming the quota; a 413 that is a rate
  // limit asks us to come back later (a positive Retry-After); any other 413 (a proxy's "Request Entity Too Large")
  // says the request is too big: not quota (booting fewer would not help), and not worth retrying as it is.
  if (status === 413) {
    if (limit === "quota") return "quota";
    if ((retryAfterSeconds !== undefined && retryAfterSeconds > 0) || /rate.?limit/i.test(message)) return "transient";
    return "config";
  }
  if (status === 501) return "cloud";
  if (status >= 500) return "transient";
  return "cloud";
}

/** Strips user info and token-like query parameters from a URL before it goes into a message. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    for (const key of [...u.searchParams.keys()]) {
      if (/token|password|secret/i.test(key)) u.searchParams.set(key, "***");
    }
    return u.toString();
  } catch {
    return url;
  }
}

export interface ParsedFault {
  kind: string;
  message: string;
  retryAfterSeconds?: number;
}

const MAX_MESSAGE = 500;

/**
 * Reads an error body in any of the shapes OpenStack services use:
 * Nova `{"badRequest": {"message", "code"}}` (also book-era, with `retryAfter` in overLimit),
 * Keystone `{"error": {"code", "title", "message"}}`, Glance/webob `{"message", "code", "title"}`
 * or text/HTML pages, and empty bodies.
 */
export function parseFault(status: number, bodyText: string): ParsedFault {
  const fallbackKind = FAULT_BY_STATUS[status] ?? (status >= 500 ? "computeFault" : "httpError");
  const text = bodyText.trim();
  if (text === "") return { kind: fallbackKind, message: `HTTP ${status} with an empty body` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: fallbackKind, message: clip(plainText(text)) };
  }
  if (json !== null && typeof json === "object" && !Array.isArray(json)) {
    const record = json as Record<string, unknown>;
    // Keystone: {"error": {"code": 401, "title": "Unauthorized", "message": "..."}}
    const keystone = record["error"];
    if (isRecord(keystone) && typeof keystone["message"] === "string") {
      const title = typeof keystone["title"] === "string" ? lowerCamel(keystone["title"]) : fallbackKind;
      return { kind: title, message: clip(keystone["message"]) };
    }
    // Nova: a single key naming the fault.
    const keys = Object.keys(record);
    if (keys.length === 1) {
      const kind = keys[0]!;
      const inner = record[kind];
      if (isRecord(inner)) {
        // Neutron: {"NeutronError": {"type": "OverQuota", "message": "...", "detail": ""}}; the type is the fault's name.
        if (kind === "NeutronError" && typeof inner["type"] === "string" && typeof inner["message"] === "string") {
          return { kind: inner["type"], message: clip(inner["message"]) };
        }
        const message = typeof inner["message"] === "string" ? inner["message"] : typeof inner["explanation"] === "string" ? inner["explanation"] : JSON.stringify(inner);
        const retryAfter = toSeconds(inner["retryAfter"]);
        return retryAfter === undefined ? { kind, message: clip(message) } : { kind, message: clip(message), retryAfterSeconds: retryAfter };
      }
    }
    // Glance / webob JSON: {"message": "...", "code": "404 Not Found", "title": "Not Found"}
    if (typeof record["message"] === "string") {
      const kind = typeof record["title"] === "string" ? lowerCamel(record["title"]) : fallbackKind;
      // webob wraps Glance's explanation in its own sentence and <br /> tags.
      return { kind, message: clip(record["message"].replace(/<br\s*\/?>/gi, " ").replace(/\s+/g, " ").trim()) };
    }
  }
  if (typeof json === "string") return { kind: fallbackKind, message: clip(json) };
  return { kind: fallbackKind, message: clip(text) };
}

/** Seconds from a Retry-After header: delta-seconds or an HTTP date (relative to `nowMs`). */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = toSeconds(header.trim());
  if (seconds !== undefined) return seconds;
  const date = Date.parse(header);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - nowMs) / 1000));
}

function toSeconds(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === "string" && /^\d+(\.\d+)?$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function plainText(html: string): string {
  return html
    .replace(/<title>.*?<\/title>/is, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** Clips cloud text (an error's or a fault's message) to the length error messages are kept at. */
export function clip(s: string): string {
  return s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE)}…` : s;
}

function lowerCamel(title: string): string {
  const words = title.trim().split(/[^A-Za-z0-9]+/).filter((w) => w !== "");
  if (words.length === 0) return "error";
  return words.map((w, i) => (i === 0 ? w.toLowerCase() : w[0]!.toUpperCase() + w.slice(1).toLowerCase())).join("");
}
