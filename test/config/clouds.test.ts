// Named clouds: NOVASCALE_CLOUDS (clouds.yaml as YAML or JSON) and OS_* as `default`; every problem names the cloud and field, never a value.
import { describe, expect, it } from "vitest";
import { cloudFromEntry, cloudProblem, cloudsFromEnv, groupElsewhere, groupElsewhereMessage, placementOf, placementProblem, type CloudConfig } from "../../src/config/clouds.ts";

const SECRET = "s3cret-Value-9876";

const yamlSecret = `
clouds:
  prod:
    auth:
      auth_url: https://keystone.example/v3
      application_credential_id: 0123abcd
      application_credential_secret: ${SECRET}
    auth_type: v3applicationcredential
    regions: [RegionOne, RegionTwo]
    interface: internal
    identity_api_version: 3
  lab:
    auth:
      auth_url: https://lab.example:5000
      username: ops
      password: 0123
      project_name: lab
      user_domain_name: Default
      project_domain_name: Default
    region_name: LabRegion
`;

function cloud(env: Record<string, string>, name: string): CloudConfig {
  const found = cloudsFromEnv(env).clouds.get(name);
  if (found === undefined) throw new Error(`no cloud ${name}`);
  return found;
}

describe("NOVASCALE_CLOUDS: YAML", () => {
  it("reads an application credential cloud with its regions, interface and identity version", () => {
    const prod = cloud({ NOVASCALE_CLOUDS: yamlSecret }, "prod");
    expect(prod.problem).toBeUndefined();
    expect(prod.authKind).toBe("application-credential");
    expect(prod.regions).toEqual(["RegionOne", "RegionTwo"]);
    expect(prod.settings).toMatchObject({ OS_AUTH_URL: "https://keystone.example/v3", OS_APPLICATION_CREDENTIAL_ID: "0123abcd", OS_APPLICATION_CREDENTIAL_SECRET: SECRET, OS_INTERFACE: "internal" });
  });

  it("reads a password cloud, keeps a numeric-looking password as text and completes a bare auth URL from identity_api_version's default", () => {
    const lab = cloud({ NOVASCALE_CLOUDS: yamlSecret }, "lab");
    expect(lab.authKind).toBe("password");
    expect(lab.regions).toEqual(["LabRegion"]);
    expect(lab.settings).toMatchObject({ OS_AUTH_URL: "https://lab.example:5000", OS_USERNAME: "ops", OS_PASSWORD: "0123", OS_PROJECT_NAME: "lab", OS_USER_DOMAIN_NAME: "Default" });
  });

  it("appends /v3 to a bare auth URL when identity_api_version says 3", () => {
    const c = cloudFromEntry("x", { auth: { auth_url: "https://k.example:5000/", application_credential_id: "a", application_credential_secret: "b" }, identity_api_version: "3" });
    expect(c.settings?.OS_AUTH_URL).toBe("https://k.example:5000/v3");
  });

  it("reads regions given as {name} entries and puts region_name first", () => {
    const c = cloudFromEntry("x", { auth: { auth_url: "https://k.example/v3", application_credential_id: "a", application_credential_secret: "b" }, regions: [{ name: "A" }, { name: "B" }], region_name: "B" });
    expect(c.regions).toEqual(["B", "A"]);
  });

  it("prefers the application credential when an entry has both it and a password (no auth_type)", () => {
    const c = cloudFromEntry("x", { auth: { auth_url: "https://k.example/v3", username: "u", password: "p", project_name: "p", application_credential_id: "a", application_credential_secret: "b" } });
    expect(c.authKind).toBe("application-credential");
  });

  it("notes cacert as ignored, with the reason", () => {
    const c = cloudFromEntry("x", { auth: { auth_url: "https://k.example/v3", application_credential_id: "a", application_credential_secret: "b" }, cacert: "/etc/ca.pem" });
    expect(c.problem).toBeUndefined();
    expect(c.notes.join(" ")).toMatch(/cacert ignored: .*trust store/);
  });

  it("maps <service>_endpoint_override keys to endpoint overrides", () => {
    const c = cloudFromEntry("x", { auth: { auth_url: "https://k.example/v3", application_credential_id: "a", application_credential_secret: "b" }, compute_endpoint_override: "https://nova.example/v2.1" });
    expect(JSON.parse(c.settings?.OS_ENDPOINT_OVERRIDES ?? "{}")).toEqual({ compute: "https://nova.example/v2.1" });
  });
});

describe("NOVASCALE_CLOUDS: JSON", () => {
  it("reads the same keys from JSON text", () => {
    const json = JSON.stringify({ clouds: { east: { auth: { auth_url: "https://k.example/v3", username: "u", password: SECRET, project_id: "p1" }, auth_type: "password", region_name: "East" } } });
    const east = cloud({ NOVASCALE_CLOUDS: json }, "east");
    expect(east.problem).toBeUndefined();
    expect(east.settings).toMatchObject({ OS_USERNAME: "u", OS_PASSWORD: SECRET, OS_PROJECT_ID: "p1" });
    expect(east.regions).toEqual(["East"]);
  });

  it("reads numbers in JSON (identity_api_version: 3) as their text", () => {
    const json = JSON.stringify({ clouds: { east: { auth: { auth_url: "https://k.example", application_credential_id: "a", application_credential_secret: "b" }, identity_api_version: 3 } } });
    expect(cloud({ NOVASCALE_CLOUDS: json }, "east").settings?.OS_AUTH_URL).toBe("https://k.example/v3");
  });
});

describe("NOVASCALE_CLOUDS: broken entries", () => {
  it("names the cloud and the field of a missing password, without the username's value", () => {
    const c = cloudFromEntry("lab", { auth: { auth_url: "https://k.example/v3", username: "someone-secretish", project_name: "p" } });
    expect(c.problem).toContain("clouds.lab.auth.password: required");
    expect(c.problem).not.toContain("someone-secretish");
  });

  it("never puts a value into the message of a wrongly typed field", () => {
    const c = cloudFromEntry("lab", { auth: { auth_url: "https://k.example/v3", application_credential_id: "a", application_credential_secret: { nested: SECRET } } });
    expect(c.problem).toContain("clouds.lab.auth.application_credential_secret");
    expect(c.problem).not.toContain(SECRET);
  });

  it("refuses an unknown auth_type naming the field and the supported ones", () => {
    const c = cloudFromEntry("lab", { auth: { auth_url: "https://k.example/v3" }, auth_type: "v3oidcpassword" });
    expect(c.problem).toMatch(/clouds\.lab\.auth_type: supported: password/);
  });

  it("refuses a region_name that is not in the regions list", () => {
    const c = cloudFromEntry("lab", { auth: { auth_url: "https://k.example/v3", application_credential_id: "a", application_credential_secret: "b" }, regions: ["A"], region_name: "B" });
    expect(c.problem).toContain("clouds.lab.region_name: not one of the cloud's regions (A)");
  });

  it("refuses an auth URL whose version contradicts identity_api_version", () => {
    const c = cloudFromEntry("lab", { auth: { auth_url: "https://k.example/v3", application_credential_id: "a", application_credential_secret: "b" }, identity_api_version: "2.0" });
    expect(c.problem).toContain("clouds.lab.identity_api_version");
  });

  it("keeps the other clouds working when one entry is broken", () => {
    const text = `clouds:\n  good:\n    auth: {auth_url: "https://k.example/v3", application_credential_id: a, application_credential_secret: b}\n  bad:\n    auth: {username: u}\n`;
    const config = cloudsFromEnv({ NOVASCALE_CLOUDS: text });
    expect(cloudProblem(config, "good")).toBeUndefined();
    expect(cloudProblem(config, "bad")).toMatch(/^cloud 'bad': clouds\.bad\.auth\.auth_url: required/);
  });

  it("reports a YAML syntax error by line and column, without the line's text", () => {
    const text = `clouds:\n  prod:\n    auth: {password: "${SECRET}\n`;
    const config = cloudsFromEnv({ NOVASCALE_CLOUDS: text });
    expect(config.secretProblem).toMatch(/^NOVASCALE_CLOUDS is not valid YAML or JSON \(\w+ at line \d+, column \d+\)$/);
    expect(cloudProblem(config, "prod")).toContain("NOVASCALE_CLOUDS is not valid YAML");
    expect(JSON.stringify(config)).not.toContain(SECRET.slice(0, 8));
  });

  it("refuses a secret without a clouds map", () => {
    expect(cloudsFromEnv({ NOVASCALE_CLOUDS: "prod: {}" }).secretProblem).toMatch(/`clouds`/);
  });
});

describe("OS_* as the cloud `default`", () => {
  const os = { OS_AUTH_URL: "https://k.example/v3", OS_USERNAME: "u", OS_PASSWORD: SECRET, OS_PROJECT_NAME: "p", OS_REGION_NAME: "RegionOne" };

  it("forms `default` next to the secret's clouds, its region from OS_REGION_NAME", () => {
    const config = cloudsFromEnv({ ...os, NOVASCALE_CLOUDS: yamlSecret });
    expect([...config.clouds.keys()].sort()).toEqual(["default", "lab", "prod"]);
    expect(config.clouds.get("default")).toMatchObject({ source: "OS_*", regions: ["RegionOne"], authKind: "password" });
  });

  it("is a clear config error when the secret names `default` too", () => {
    const text = `clouds:\n  default:\n    auth: {auth_url: "https://k.example/v3", application_credential_id: a, application_credential_secret: b}\n`;
    expect(cloudProblem(cloudsFromEnv({ ...os, NOVASCALE_CLOUDS: text }), "default")).toMatch(/defined twice: by the OS_\* variables and by NOVASCALE_CLOUDS/);
  });

  it("says which OS_* setting is missing", () => {
    expect(cloudProblem(cloudsFromEnv({ OS_AUTH_URL: "https://k.example/v3", OS_USERNAME: "u" }), "default")).toMatch(/^OpenStack settings are incomplete \(OS_USERNAME: /);
  });
});

describe("placement: a group's cloud and region", () => {
  const config = cloudsFromEnv({ NOVASCALE_CLOUDS: yamlSecret });

  it("defaults the region to the cloud's first", () => {
    expect(placementOf(config, { cloud: "prod" })).toEqual({ cloud: "prod", region: "RegionOne" });
  });

  it("defaults the cloud to `default`", () => {
    expect(placementOf(config, {}).cloud).toBe("default");
  });

  it("refuses an unknown cloud, naming the field and the known clouds", () => {
    expect(placementProblem(config, { cloud: "nope" })).toEqual({ field: "cloud", message: "unknown cloud 'nope' (known: prod, lab)" });
  });

  it("refuses a region the cloud does not list", () => {
    expect(placementProblem(config, { cloud: "prod", region: "Mars" })?.field).toBe("region");
  });

  it("accepts `default` even when it is not configured (it fails at the tick, as before)", () => {
    expect(placementProblem(config, {})).toBeUndefined();
  });
});

describe("a snapshot policy and the group it selects by name", () => {
  const config = cloudsFromEnv({ NOVASCALE_CLOUDS: yamlSecret });
  const group = (rules: { cloud?: string; region?: string }) => ({ name: "web", rules });

  it("agree when both name nothing, or name the same cloud-region with defaults filled in", () => {
    expect(groupElsewhere(config, {}, group({}))).toBeUndefined();
    expect(groupElsewhere(config, { cloud: "prod" }, group({ cloud: "prod", region: "RegionOne" }))).toBeUndefined();
  });

  it("another cloud: the policy's `cloud` is the field to change, and the message says what to set", () => {
    const e = groupElsewhere(config, {}, group({ cloud: "prod", region: "RegionTwo" }));
    expect(e?.field).toBe("cloud");
    expect(groupElsewhereMessage(e!)).toBe(
      `group 'web' runs in cloud 'prod', region 'RegionTwo', the policy in cloud 'default': it would snapshot none of the group's servers; set "cloud": "prod", "region": "RegionTwo" in the policy`,
    );
  });

  it("the same cloud, another region: the field is `region` (the policy's default region is the cloud's first)", () => {
    expect(groupElsewhere(config, { cloud: "prod" }, group({ cloud: "prod", region: "RegionTwo" }))?.field).toBe("region");
  });
});
