// The fake transport for client tests: records each request and answers the next canned response, in order.
import type { FetchFunction } from "../../../src/openstack/index.ts";
import { OpenStackSettingsSchema, type OpenStackSettings } from "../../../src/config/env.ts";
import { OpenStackError } from "../../../src/openstack/errors.ts";

/** The OpenStackError a promise fails with (fails the test when it resolves or throws anything else). */
export async function caught(p: Promise<unknown>): Promise<OpenStackError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OpenStackError) return e;
    throw e;
  }
  throw new Error("expected a failure");
}

export interface Canned {
  status: number;
  headers?: Record<string, string>;
  /** A JSON value, a string (sent as is), or null/undefined for no body. */
  body?: unknown;
}

export interface Recorded {
  method: string;
  url: string;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** The parsed JSON body (or the raw text when it is not JSON; undefined when there is none). */
  body: unknown;
}

/** A recorded exchange file: {request, response}. */
export interface Exchange {
  request: { method: string; url: string; body?: unknown };
  /** Book transcripts carry no headers. */
  response: { status: number; headers?: Record<string, string>; body: unknown };
}

export const TEST_TOKEN = "gAAAAAB-test-token-1";
export const TEST_PASSWORD = "s3cret-demo-pw";
/** 2026-11-26T20:20:00Z: two minutes after the recorded Keystone token was issued (it expires at 21:18:17Z). */
export const RECORDED_NOW = Date.parse("2026-11-26T20:20:00Z");

/** The canned response of a recorded exchange; a redacted X-Subject-Token becomes `token`. */
export function answer(exchange: Exchange, token = TEST_TOKEN): Canned {
  const headers: Record<string, string> = { "Content-Type": "application/json", ...exchange.response.headers };
  if (headers["X-Subject-Token"] !== undefined) headers["X-Subject-Token"] = token;
  return { status: exchange.response.status, headers, body: exchange.response.body };
}

export type Responder = Canned | ((request: Recorded) => Canned | Promise<Canned>) | Error;

export interface Replay {
  fetch: FetchFunction;
  requests: Recorded[];
  /** Canned responses not yet asked for. */
  remaining(): number;
}

/** Answers requests in order; a request beyond the script gets a 599 so the test fails visibly on its assertions. */
export function replay(...script: Responder[]): Replay {
  const queue = [...script];
  const requests: Recorded[] = [];
  const fetch: FetchFunction = async (url, init) => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const text = typeof init.body === "string" ? init.body : undefined;
    let body: unknown = undefined;
    if (text !== undefined) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const recorded: Recorded = { method: init.method ?? "GET", url, headers, body };
    requests.push(recorded);
    const next = queue.shift();
    if (next === undefined) return new Response(JSON.stringify({ unexpected: `${recorded.method} ${url}` }), { status: 599 });
    if (next instanceof Error) throw next;
    const canned = typeof next === "function" ? await next(recorded) : next;
    const noBody = canned.body === null || canned.body === undefined || [204, 205, 304].includes(canned.status);
    const payload = noBody ? null : typeof canned.body === "string" ? canned.body : JSON.stringify(canned.body);
    return new Response(payload, { status: canned.status, headers: canned.headers ?? {} });
  };
  return { fetch, requests, remaining: () => queue.length };
}

/** OS_* settings of the recorded cloud's `demo` user. */
export function zedSettings(overrides: Record<string, string> = {}): OpenStackSettings {
  return OpenStackSettingsSchema.parse({
    OS_AUTH_URL: "http://127.0.0.1:5000/v3",
    OS_USERNAME: "demo",
    OS_PASSWORD: TEST_PASSWORD,
    OS_PROJECT_NAME: "demo",
    OS_USER_DOMAIN_NAME: "Default",
    OS_PROJECT_DOMAIN_NAME: "Default",
    ...overrides,
  });
}

/** A sleep that records what it was asked to wait and returns at once. */
export function fakeSleep(): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: async (ms) => void waits.push(ms) };
}

/** A clock the test moves; sleeping advances it. */
export function fakeClock(start = RECORDED_NOW): { clock: () => number; advance: (ms: number) => void; sleep: (ms: number) => Promise<void>; waits: number[] } {
  let now = start;
  const waits: number[] = [];
  return {
    clock: () => now,
    advance: (ms) => void (now += ms),
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
    waits,
  };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Canned {
  return { status, body, headers: { "Content-Type": "application/json", ...headers } };
}
