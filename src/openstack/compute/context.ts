// What every compute call shares: the session, the compute endpoint, the negotiated microversion and its headers.
import type { z } from "zod";
import { type HttpResponse, joinUrl, withQuery } from "../http.ts";
import type { RetryMode } from "../retry.ts";
import { type PageQuery, pageQueryOf } from "../paging.ts";
import type { Session } from "../session.ts";
import { type ComputeFeatures, discoverCompute, isBookComputeUrl, type MicroversionRequest } from "./versions.ts";

export type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

export interface ComputeCall {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Relative to the compute endpoint, e.g. "servers/detail"; or an absolute URL. */
  path: string;
  query?: Query;
  json?: unknown;
  expect?: readonly number[];
  retry?: RetryMode;
  /** Overrides the negotiated microversion header for this call (e.g. "2.35" for the image proxy). */
  microversion?: string;
  /** Values masked in error messages (an adminPass Nova might echo back). */
  secrets?: readonly string[];
}

export class ComputeContext {
  readonly session: Session;
  private readonly request: MicroversionRequest;
  private discovered: Promise<{ endpoint: string; features: ComputeFeatures }> | undefined;
  private fallback: string | undefined;
  private known: ComputeFeatures | undefined;

  constructor(session: Session, microversion: MicroversionRequest = "auto") {
    this.session = session;
    this.request = microversion;
  }

  /** The features discovery settled on, when it ran on this context (no request). */
  knownFeatures(): ComputeFeatures | undefined {
    return this.known;
  }

  /** Endpoint and features, discovered once per token (one version-document request). */
  async resolve(): Promise<{ endpoint: string; features: ComputeFeatures }> {
    if (this.discovered === undefined) {
      // Remembered with the token (not only by this context): a warm isolate's next tick skips the version document.
      const key = `compute-discovery|${this.request}|${this.session.region ?? ""}|${this.session.interface}`;
      this.discovered = this.session.memo(key, async () => {
        const configured = await this.session.endpoint("compute");
        return discoverCompute(this.session, configured, this.request);
      });
      // A fallback (discovery failed) serves this cloud's calls only: the next tick tries discovery again.
      void this.discovered.then(
        (d) => {
          this.known = d.features;
          this.fallback = d.features.discoveryFallback;
          if (d.features.discoveryFallback !== undefined) this.session.forget(key);
        },
        () => undefined,
      );
      // A failed discovery (e.g. a transient 503) is not remembered.
      this.discovered.catch(() => {
        this.discovered = undefined;
      });
    }
    return this.discovered;
  }

  /** Why discovery fell back to plain 2.1 for this cloud, once it has been tried; undefined otherwise. Sends nothing. */
  discoveryFallback(): string | undefined {
    return this.fallback;
  }

  async features(): Promise<ComputeFeatures> {
    return (await this.resolve()).features;
  }

  async endpoint(): Promise<string> {
    return (await this.resolve()).endpoint;
  }

  async send(call: ComputeCall): Promise<HttpResponse> {
    const { endpoint, features } = await this.resolve();
    const header = call.microversion ?? features.header;
    const headers: Record<string, string> =
      header === undefined ? {} : { "X-OpenStack-Nova-API-Version": header, "OpenStack-API-Version": `compute ${header}` };
    const url = withQuery(/^https?:\/\//.test(call.path) ? call.path : joinUrl(endpoint, call.path), call.query);
    const request = { method: call.method, url, headers, service: "compute" } as Parameters<Session["request"]>[0];
    if (call.json !== undefined) request.json = call.json;
    if (call.expect !== undefined) request.expect = call.expect;
    if (call.retry !== undefined) request.retry = call.retry;
    if (call.secrets !== undefined) request.secrets = call.secrets;
    return this.session.request(request);
  }

  /** The body of a metadata-item PUT in the dialect this API speaks: `{"meta": …}`, or the book's `{"metadata": …}`. */
  async metaItemBody(key: string, value: string): Promise<Record<string, Record<string, string>>> {
    return { [isBookComputeUrl(await this.endpoint()) ? "metadata" : "meta"]: { [key]: value } };
  }

  async call<T>(call: ComputeCall, schema: z.ZodType<T>): Promise<T> {
    return this.session.transport.parse(await this.send(call), schema);
  }
}

/** Path segment escaping for ids, metadata keys and tags. */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

/** The marker query of a `*_links` "next" link, applied to our own base URL (the link may name an internal host). */
export function nextPageQuery(links: ReadonlyArray<{ rel?: string | undefined; href: string }> | undefined): PageQuery | undefined {
  const next = links?.find((l) => l.rel === "next");
  if (next === undefined) return undefined;
  return pageQueryOf(next.href);
}
