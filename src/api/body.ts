// Reading a JSON request body at the edge: media type (415), size limit (413), syntax and schema (400).
import type { Context } from "hono";
import type { z } from "zod";
import { ApiError, validationError } from "./errors.ts";

/** Rules are the largest bodies (userData may be 64 KiB of text); a little room for the JSON around it. */
export const DEFAULT_BODY_LIMIT_BYTES = 96 * 1024;
/** Group rules (PUT, PATCH): room for a pasted calendar of up to 512 KiB (ICS_MAX_BYTES) and more, but bounded (a DO row holds 2 MB). */
export const RULES_BODY_LIMIT_BYTES = 1024 * 1024;

const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9.+-]*\+)?json\s*(?:;|$)/i;

export function isJsonMediaType(contentType: string | undefined): boolean {
  return contentType !== undefined && JSON_MEDIA_TYPE.test(contentType.trim());
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, "payload_too_large", `request body is larger than ${limit} bytes`, { limitBytes: limit });
}

/** Reads at most `limit` bytes; stops reading (and cancels the stream) as soon as the limit is passed. */
export async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get("Content-Length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  if (request.body === null) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

export interface ReadJsonOptions {
  limit?: number;
  /** When true an absent body (no Content-Type, zero bytes) is read as `{}`. */
  optional?: boolean;
  /** When set, the only media type accepted (e.g. `application/merge-patch+json`); others are 415. */
  mediaType?: string;
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
function essence(contentType: string | undefined): string | undefined {
  return contentType?.split(";")[0]?.trim().toLowerCase();
}

/** The request body parsed with `schema`; any problem throws an ApiError before anything is written. */
export async function readJsonBody<S extends z.ZodType>(c: Context, schema: S, options: ReadJsonOptions = {}): Promise<z.output<S>> {
  const limit = options.limit ?? DEFAULT_BODY_LIMIT_BYTES;
  const contentType = c.req.header("Content-Type");
  const bytes = await readLimited(c.req.raw, limit);
  let raw: unknown;
  if (bytes.byteLength === 0 && options.optional === true && (contentType === undefined || isJsonMediaType(contentType))) {
    raw = {};
  } else {
    if (options.mediaType !== undefined && essence(contentType) !== options.mediaType) {
      throw new ApiError(415, "unsupported_media_type", `send the body with Content-Type: ${options.mediaType}`);
    }
    if (!isJsonMediaType(contentType)) {
      throw new ApiError(415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json");
    }
    const text = utf8Text(bytes, "malformed_json", "request body is not valid UTF-8");
    if (text.trim() === "") throw new ApiError(400, "malformed_json", "request body is empty; expected a JSON object");
    try {
      raw = JSON.parse(text);
    } catch {
      // V8's message quotes a slice of the input; the caller has the input, logs and proxies need not.
      throw new ApiError(400, "malformed_json", "request body is not valid JSON");
    }
  }
  const proto = prototypeKeyPath(raw, ["body"]);
  if (proto !== undefined) {
    // zod's records drop such a key without a word; a caller who sent one must hear that it was not taken.
    const message = "'__proto__' is not accepted as a key";
    throw new ApiError(400, "validation_failed", `invalid request body: ${proto}: ${message}`, [{ path: proto, message }]);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw validationError("request body", parsed.error, ["body"]);
  return parsed.data;
}

/**
 * The path of a `__proto__` key in a parsed JSON value (JSON.parse makes it an own key), or undefined.
 * Iterative, and paths are only built for the answer: a 96 KiB body can nest tens of thousands deep.
 */
export function prototypeKeyPath(value: unknown, path: readonly (string | number)[]): string | undefined {
  interface Node {
    value: unknown;
    key: string | number | undefined;
    parent: Node | undefined;
  }
  const pathOf = (node: Node | undefined, last: string): string => {
    const keys: Array<string | number> = [last];
    for (let n = node; n !== undefined && n.key !== undefined; n = n.parent) keys.unshift(n.key);
    return [...path, ...keys].join(".");
  };
  const pending: Node[] = [{ value, key: undefined, parent: undefined }];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    const v = node.value;
    if (v === null || typeof v !== "object") continue;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) pending.push({ value: v[i], key: i, parent: node });
      continue;
    }
    for (const [key, child] of Object.entries(v)) {
      if (key === "__proto__") return pathOf(node, key);
      pending.push({ value: child, key, parent: node });
    }
  }
  return undefined;
}

/** Query parameters (last value wins) parsed with `schema`. */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw validationError("query", parsed.error, ["query"]);
  return parsed.data;
}

/** The body's bytes as strict UTF-8 (a leading BOM dropped); anything else is a 400 with `code`. */
export function utf8Text(bytes: Uint8Array, code: string, message: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError(400, code, message);
  }
}
