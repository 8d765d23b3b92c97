// Builders for tests against the recorded Zed cloud: a session, a Nova client and the facade, over a replay script.
import { createComputeCloud, type ComputeCloudOptions } from "../../../src/openstack/compute-cloud.ts";
import { createNovaClient } from "../../../src/openstack/compute/client.ts";
import type { MicroversionRequest } from "../../../src/openstack/compute/versions.ts";
import { credentialsFromSettings } from "../../../src/openstack/keystone.ts";
import { Session } from "../../../src/openstack/session.ts";
import zedToken from "../../fixtures/real-zed/keystone-token-demo.json";
import versionDoc from "../../fixtures/real-zed/nova-version-v2.1.json";
import { answer, type Canned, fakeClock, replay, type Responder, zedSettings } from "./replay.ts";

/** The recorded token and compute version document, with the version document claiming another range if asked. */
export function preamble(range?: { min: string; max: string }): Canned[] {
  const doc = answer(versionDoc);
  if (range !== undefined) doc.body = { version: { ...versionDoc.response.body.version, min_version: range.min, version: range.max } };
  return [answer(zedToken), doc];
}

export function zedSession(script: Responder[]) {
  const r = replay(...script);
  const c = fakeClock();
  const settings = zedSettings();
  const session = new Session({ authUrl: settings.OS_AUTH_URL, credentials: credentialsFromSettings(settings), fetch: r.fetch, clock: c.clock, sleep: c.sleep, random: () => 0 });
  return { r, c, session };
}

/** A Nova client on the recorded cloud; the first two requests are auth and version discovery. */
export function zedNova(script: Responder[], options: { range?: { min: string; max: string }; microversion?: MicroversionRequest } = {}) {
  const { r, c, session } = zedSession([...preamble(options.range), ...script]);
  return { r, c, session, nova: createNovaClient(session, options.microversion ?? "auto") };
}

export function zedCloud(script: Responder[], options: ComputeCloudOptions & { settings?: Record<string, string> } = {}) {
  const r = replay(...script);
  const c = fakeClock();
  const cloud = createComputeCloud(zedSettings(options.settings), { fetch: r.fetch, clock: c.clock, sleep: c.sleep, random: () => 0, ...options });
  return { r, c, cloud };
}
