// Typed client for the fake cloud's /_fake control API over plain fetch (works in workerd tests and in Node).
import type { CloudStats, ImageSnapshot, SeedServerInput, ServerSnapshot } from "./cloud.ts";
import type { ActiveFault, FaultSpecInput } from "./faults.ts";
import type { FakeCloudOptions, Quotas } from "./model.ts";
import type { Capacity, CapacityBody } from "./capacity.ts";

type Fetcher = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

export class FakeCloudControl {
  /** Base URL of this cloud, e.g. http://127.0.0.1:41234 or http://127.0.0.1:41234/clouds/c3 */
  readonly url: string;
  readonly #fetch: Fetcher;

  constructor(url: string, fetcher: Fetcher = (input, init) => fetch(input, init)) {
    this.url = url.replace(/\/+$/, "");
    this.#fetch = fetcher;
  }

  /** A fresh cloud of its own on the same emulator (state, clock, faults, stats not shared with other tests). */
  static async isolated(hostUrl: string, options: FakeCloudOptions = {}, fetcher?: Fetcher): Promise<FakeCloudControl> {
    const doFetch: Fetcher = fetcher ?? ((input, init) => fetch(input, init));
    const res = await doFetch(`${hostUrl.replace(/\/+$/, "")}/_fake/clouds`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ options }),
    });
    if (res.status !== 201) throw new Error(`fake cloud: could not create a cloud (${res.status} ${await res.text()})`);
    const { url } = (await res.json()) as { url: string };
    return new FakeCloudControl(url, doFetch);
  }

  /** What OS_AUTH_URL should be for this cloud. */
  get authUrl(): string {
    return `${this.url}/identity/v3`;
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.headers = { "content-type": "application/json" };
      init.body = JSON.stringify(body);
    }
    const res = await this.#fetch(`${this.url}/_fake${path}`, init);
    if (!res.ok) throw new Error(`fake cloud: ${method} /_fake${path} answered ${res.status}: ${await res.text()}`);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  async servers(project?: string): Promise<ServerSnapshot[]> {
    const query = project === undefined ? "" : `?project=${encodeURIComponent(project)}`;
    return (await this.#call<{ servers: ServerSnapshot[] }>("GET", `/servers${query}`)).servers;
  }

  async seedServer(server: SeedServerInput): Promise<ServerSnapshot> {
    return (await this.#call<{ server: ServerSnapshot }>("POST", "/servers", server)).server;
  }

  async images(): Promise<ImageSnapshot[]> {
    return (await this.#call<{ images: ImageSnapshot[] }>("GET", "/images")).images;
  }

  /** Adds a public active image named `name`. */
  async addImage(name: string, properties: Record<string, string> = {}): Promise<ImageSnapshot> {
    return (await this.#call<{ image: ImageSnapshot }>("POST", "/images", { name, properties })).image;
  }

  /** Renames an image. */
  async renameImage(id: string, name: string): Promise<ImageSnapshot> {
    return (await this.#call<{ image: ImageSnapshot }>("PUT", `/images/${encodeURIComponent(id)}`, { name })).image;
  }

  /** The emulator's current time (ISO). */
  async now(): Promise<string> {
    return (await this.#call<{ now: string }>("GET", "/clock")).now;
  }

  async advance(ms: number): Promise<string> {
    return (await this.#call<{ now: string }>("POST", "/clock", { advanceMs: ms })).now;
  }

  async setTime(at: string | number): Promise<string> {
    return (await this.#call<{ now: string }>("POST", "/clock", { set: at })).now;
  }

  async addFault(fault: FaultSpecInput): Promise<string> {
    return (await this.#call<{ id: string }>("POST", "/faults", fault)).id;
  }

  async faults(): Promise<ActiveFault[]> {
    return (await this.#call<{ faults: ActiveFault[] }>("GET", "/faults")).faults;
  }

  async removeFault(id: string): Promise<void> {
    await this.#call<void>("DELETE", `/faults/${encodeURIComponent(id)}`);
  }

  async clearFaults(): Promise<void> {
    await this.#call<void>("DELETE", "/faults");
  }

  async revokeTokens(): Promise<number> {
    return (await this.#call<{ revoked: number }>("POST", "/tokens/revoke")).revoked;
  }

  async setQuota(project: string, quota: Partial<Quotas>): Promise<Quotas> {
    return (await this.#call<{ quota_set: Quotas }>("PUT", `/quotas/${encodeURIComponent(project)}`, quota)).quota_set;
  }

  /** Changes per-flavor capacity and the host pool (null clears a part); GET /_fake/capacity reads them. */
  async setCapacity(capacity: CapacityBody): Promise<Capacity> {
    return this.#call("PUT", "/capacity", capacity);
  }

  async stats(): Promise<CloudStats> {
    return this.#call<CloudStats>("GET", "/stats");
  }

  async resetStats(): Promise<void> {
    await this.#call<void>("DELETE", "/stats");
  }

  /** Everything back to a fresh cloud; `options` override the ones it was started with. */
  async reset(options?: FakeCloudOptions): Promise<void> {
    await this.#call<unknown>("POST", "/reset", options ?? {});
  }

  async state(): Promise<Record<string, unknown>> {
    return this.#call<Record<string, unknown>>("GET", "/state");
  }

  /** Removes an isolated cloud (made with `isolated`). */
  async dispose(): Promise<void> {
    await this.#call<void>("DELETE", "/cloud");
  }
}
