// Builders for the emulator's own tests: a fresh cloud with a logged-in demo session, and a standard boot body.
import { FakeCloud } from "./cloud.ts";
import type { FakeCloudOptions } from "./model.ts";
import { FakeSession } from "./session.ts";
import type { CallResult } from "./session.ts";

export const BASE = "http://fake-cloud.test";

export async function freshCloud(options: FakeCloudOptions = {}): Promise<{ cloud: FakeCloud; s: FakeSession }> {
  const cloud = new FakeCloud({ seed: 7, startAt: "2026-11-26T12:00:00Z", ...options });
  const s = await FakeSession.login(BASE, cloud.fetch);
  return { cloud, s };
}

export function cirrosId(cloud: FakeCloud): string {
  const image = [...cloud.images.values()].find((i) => i.name === "cirros");
  if (image === undefined) throw new Error("no cirros image");
  return image.id;
}

export function bootBody(cloud: FakeCloud, name: string, extra: Record<string, unknown> = {}) {
  return { server: { name, imageRef: cirrosId(cloud), flavorRef: "1", networks: "none", metadata: { "novascale:group": "web" }, ...extra } };
}

export function boot(cloud: FakeCloud, s: FakeSession, name: string, extra: Record<string, unknown> = {}, version = "latest"): Promise<CallResult> {
  return s.nova("POST", "/servers", bootBody(cloud, name, extra), version);
}

/** The body as a record (tests read fields from it). */
export function obj(result: CallResult): Record<string, any> {
  return result.body as Record<string, any>;
}

export function statusOf(cloud: FakeCloud, name: string): string | undefined {
  return [...cloud.servers.values()].find((s) => s.name === name)?.status;
}
