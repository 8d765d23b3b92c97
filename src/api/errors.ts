// The API's one error shape `{ error: { code, message, details? } }` and the single mapping from thrown errors to it.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { ServiceError } from "../reconcile/shared/service.ts";

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: "stable, machine-readable: bad_request, validation_failed, unauthorized, ..." }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: "Error" });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** One invalid field: where (a path into the request) and what is wrong. */
export interface FieldProblem {
  path: string;
  message: string;
}

/** An error the API means to show the caller: status, stable code, readable message, optional details. */
export class ApiError extends HTTPException {
  readonly code: string;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(status: ContentfulStatusCode, code: string, message: string, details?: unknown, headers: Record<string, string> = {}) {
    super(status, { message });
    this.name = "ApiError";
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}

/** Turns zod issues into field paths a caller can act on: `schedules.0.cron`, `(root)` for the whole body. */
export function fieldProblems(error: z.ZodError, prefix: readonly (string | number)[] = []): FieldProblem[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))];
    return { path: path.length === 0 ? "(root)" : path.join("."), message: issue.message };
  });
}

export function validationError(where: string, error: z.ZodError, prefix: readonly (string | number)[] = []): ApiError {
  const problems = fieldProblems(error, prefix);
  const first = problems[0];
  const summary = first === undefined ? "" : `: ${first.path}: ${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ""}`;
  return new ApiError(400, "validation_failed", `invalid ${where}${summary}`, problems);
}

const CODE_BY_STATUS: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  412: "precondition_failed",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "unprocessable",
  428: "precondition_required",
  429: "too_many_requests",
  503: "unavailable",
};

export function errorResponse(c: Context, status: ContentfulStatusCode, code: string, message: string, details?: unknown): Response {
  const body: ErrorBody = { error: details === undefined ? { code, message } : { code, message, details } };
  return c.json(body, status);
}

/** Hono's `app.onError`: the one place thrown errors become responses. Unknown errors hide their text. */
export function onApiError(err: Error, c: Context): Response {
  if (err instanceof ApiError) {
    const res = errorResponse(c, err.status, err.code, err.message, err.details);
    if (err.status === 401) res.headers.set("WWW-Authenticate", 'Bearer realm="novascale"');
    for (const [header, value] of Object.entries(err.headers)) res.headers.set(header, value);
    return res;
  }
  if (err instanceof ServiceError) {
    // The service promises messages fit for operators (no tokens, no passwords).
    const status = (err.status >= 400 && err.status <= 599 ? err.status : 500) as ContentfulStatusCode;
    return errorResponse(c, status, err.code, err.message, err.details);
  }
  if (err instanceof HTTPException) {
    return errorResponse(c, err.status, CODE_BY_STATUS[err.status] ?? "error", err.message || "request failed");
  }
  // Only the error's class goes to the log: messages from lower layers may quote URLs or bodies.
  console.error(`novascale api: unhandled ${err.name} on ${c.req.method} ${new URL(c.req.url).pathname}`);
  return errorResponse(c, 500, "internal", "internal error");
}

export function onNotFound(c: Context): Response {
  return errorResponse(c, 404, "not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`);
}
