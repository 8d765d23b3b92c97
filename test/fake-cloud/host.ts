// Several isolated fake clouds behind one origin: the default one at "/", others at /clouds/{id}/ (one per test file).
import { z } from "zod";
import { FakeCloud } from "./cloud.ts";
import type { FakeCloudOptions } from "./model.ts";
import { isRecord, json, readJson } from "./http.ts";

const CloudIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

export class FakeCloudHost {
  readonly cloud: FakeCloud;
  readonly #clouds = new Map<string, FakeCloud>();
  #defaults: FakeCloudOptions;
  #seq = 0;

  constructor(options: FakeCloudOptions = {}) {
    this.#defaults = options;
    this.cloud = new FakeCloud(options);
  }

  /** A new isolated cloud at /clouds/{id}; options default to the host's. */
  createCloud(options: FakeCloudOptions = {}, id?: string): { id: string; cloud: FakeCloud } {
    const cloudId = CloudIdSchema.parse(id ?? `c${++this.#seq}`);
    if (this.#clouds.has(cloudId)) throw new RangeError(`cloud ${cloudId} exists`);
    const cloud = new FakeCloud({ ...this.#defaults, ...options }, `/clouds/${cloudId}`);
    this.#clouds.set(cloudId, cloud);
    return { id: cloudId, cloud };
  }

  getCloud(id: string): FakeCloud | undefined {
    return this.#clouds.get(id);
  }

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/_fake/clouds" && request.method === "POST") {
      const body = await readJson(request);
      try {
        const { id, cloud } = this.createCloud(isRecord(body) && isRecord(body.options) ? (body.options as FakeCloudOptions) : {}, isRecord(body) && typeof body.id === "string" ? body.id : undefined);
        return json(201, { id, url: `${url.origin}${cloud.mountPath}` });
      } catch (error) {
        return json(400, { error: error instanceof Error ? error.message : String(error) });
      }
    }
    const match = /^\/clouds\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (match !== null) {
      const cloud = this.#clouds.get(match[1] ?? "");
      if (cloud === undefined) return json(404, { error: `no cloud ${match[1] ?? ""}` });
      if (match[2] === "/_fake/cloud" && request.method === "DELETE") {
        this.#clouds.delete(match[1] ?? "");
        return new Response(null, { status: 204 });
      }
      return cloud.handle(request);
    }
    return this.cloud.handle(request);
  }

  readonly fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => this.handle(new Request(input, init));
}
