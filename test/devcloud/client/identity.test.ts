// Client conformance against the real Keystone v3: password, application credential and token auth, catalog, auth errors.
import { afterAll, describe, expect, it } from "vitest";
import { OpenStackError, Session } from "../../../src/openstack/index.ts";
import { testName } from "../support/devcloud.ts";
import { failure, openCloud, rawCloud, settings } from "./cloud.ts";

const appCredentialIds: string[] = [];

afterAll(async () => {
  const raw = await rawCloud();
  for (const id of appCredentialIds) await raw.call("DELETE", `${raw.authUrl}/users/${raw.userId}/application_credentials/${id}`);
});

describe("Keystone v3 through the client", () => {
  it("password auth scoped to the demo project yields a token, the project id and a v3 catalog", async () => {
    const raw = await rawCloud();
    const cloud = openCloud();
    const auth = await cloud.session.auth();
    expect(auth.era).toBe("v3");
    expect(auth.projectId).toBe(raw.projectId);
    expect(auth.token.length).toBeGreaterThan(20);
    expect(auth.expiresAt).toBeGreaterThan(Date.now());
  });

  it("finds the public compute and image endpoints in the catalog", async () => {
    const raw = await rawCloud();
    const cloud = openCloud();
    expect(await cloud.session.endpoint("compute")).toBe(raw.computeUrl);
    expect((await cloud.session.endpoint("image")).replace(/\/+$/, "")).toBe(raw.imageUrl);
  });

  it("reuses one token for many calls (a token cache hit makes no Keystone request)", async () => {
    const cloud = openCloud();
    await cloud.nova.flavors.list();
    const afterFirst = cloud.stats().requests;
    await cloud.nova.flavors.list();
    expect(cloud.stats().requests).toBe(afterFirst + 1);
  });

  it("finds Keystone v3 from a bare auth URL (no /v3 suffix)", async () => {
    const cloud = openCloud({}, { OS_AUTH_URL: settings().OS_AUTH_URL.replace(/\/v3\/?$/, "") });
    const auth = await cloud.session.auth();
    expect(auth.era).toBe("v3");
    expect((await cloud.nova.flavors.list()).length).toBeGreaterThan(0);
  });

  it("authenticates with an application credential the demo user created for itself", async () => {
    const raw = await rawCloud();
    const created = await raw.call("POST", `${raw.authUrl}/users/${raw.userId}/application_credentials`, {
      application_credential: { name: testName("appcred"), description: "novascale real-tier test" },
    });
    expect(created.status).toBe(201);
    const credential = (created.body as { application_credential: { id: string; secret: string } }).application_credential;
    appCredentialIds.push(credential.id);

    const cloud = openCloud({}, { OS_APPLICATION_CREDENTIAL_ID: credential.id, OS_APPLICATION_CREDENTIAL_SECRET: credential.secret });
    const auth = await cloud.session.auth();
    expect(auth.projectId).toBe(raw.projectId);
    expect(Array.isArray(await cloud.listServers())).toBe(true);
  });

  it("works from an existing Keystone token (token auth re-scoped to the project)", async () => {
    const raw = await rawCloud();
    const cloud = openCloud({ credentials: { method: "token", token: raw.token, projectId: raw.projectId } });
    const auth = await cloud.session.auth();
    expect(auth.projectId).toBe(raw.projectId);
    expect(auth.token).not.toBe(raw.token);
    expect((await cloud.nova.flavors.list()).some((f) => f.name === "m1.tiny")).toBe(true);
  });

  it("a wrong password is an auth error (401) whose message does not contain the password", async () => {
    const wrong = "not-the-demo-password-42";
    const error = await failure(openCloud({}, { OS_PASSWORD: wrong }).session.auth());
    expect(error).toBeInstanceOf(OpenStackError);
    const e = error as OpenStackError;
    expect(e.status).toBe(401);
    expect(e.category).toBe("auth");
    expect(e.message).not.toContain(wrong);
    expect(JSON.stringify(e)).not.toContain(wrong);
  });

  it("a wrong application credential secret is an auth error (401)", async () => {
    const raw = await rawCloud();
    const created = await raw.call("POST", `${raw.authUrl}/users/${raw.userId}/application_credentials`, {
      application_credential: { name: testName("appcred-bad") },
    });
    const credential = (created.body as { application_credential: { id: string } }).application_credential;
    appCredentialIds.push(credential.id);
    const error = await failure(
      openCloud({}, { OS_APPLICATION_CREDENTIAL_ID: credential.id, OS_APPLICATION_CREDENTIAL_SECRET: "wrong-secret-value" }).session.auth(),
    );
    expect((error as OpenStackError).status).toBe(401);
    expect((error as OpenStackError).category).toBe("auth");
  });

  it("re-authenticates once and succeeds when the cached token has been revoked", async () => {
    const cloud = openCloud();
    const first = await cloud.session.auth();
    const raw = await rawCloud();
    // Revoke the client's token behind its back (a user may revoke its own tokens).
    const revoked = await raw.call("DELETE", `${raw.authUrl}/auth/tokens`, undefined, { "X-Subject-Token": first.token });
    expect(revoked.status).toBe(204);
    const flavors = await cloud.nova.flavors.list();
    expect(flavors.length).toBeGreaterThan(0);
    expect((await cloud.session.auth()).token).not.toBe(first.token);
  });

  it("a Keystone v2.0 auth URL on this cloud fails with 404 (v2.0 was removed in Queens)", async () => {
    const session = new Session({ authUrl: settings().OS_AUTH_URL.replace(/\/v3\/?$/, "/v2.0"), credentials: { method: "password", username: "demo", password: "x", projectName: "demo" } });
    const error = await failure(session.auth());
    expect((error as OpenStackError).status).toBe(404);
  });
});
