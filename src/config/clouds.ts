// Named clouds: NOVASCALE_CLOUDS (the text of an openstacksdk clouds.yaml, YAML or JSON) plus OS_* as the cloud `default`, parsed at the edge.
import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";
import { type Env, type OpenStackSettings, OpenStackSettingsSchema } from "./env.ts";
import { CloudNameSchema, DEFAULT_CLOUD, RegionNameSchema } from "./placement.ts";

export { CLOUD_NAME_PATTERN, CloudNameSchema, DEFAULT_CLOUD, RegionNameSchema } from "./placement.ts";

/*
 * One deployment speaks to several clouds (credential sets: a project on a Keystone) and, per cloud, to
 * one or more regions (catalog endpoints). A group or snapshot policy names its `cloud` (default
 * "default") and `region` (default: the cloud's first region). The secret's keys are openstacksdk's, so
 * an operator pastes the clouds.yaml they already use:
 *
 *   clouds:
 *     prod:
 *       auth: { auth_url: https://keystone.example/v3, application_credential_id: ..., application_credential_secret: ... }
 *       auth_type: v3applicationcredential
 *       regions: [RegionOne, RegionTwo]
 *       interface: public
 *       identity_api_version: 3
 *
 * Each entry is parsed on its own: a broken entry is a cloud with a `problem` (its groups record it as
 * their error), the others still work. Messages name the cloud and the field, never a value (a value may be a
 * secret); a YAML syntax error gives its line and column only (the parser's excerpt of the line could hold a password).
 */

export type AuthKind = "application-credential" | "password" | "token";

export interface CloudConfig {
  name: string;
  /** Where it was defined. */
  source: "NOVASCALE_CLOUDS" | "OS_*";
  /** Regions the config names, the default first; empty: none named (the catalog's first endpoint of each service is used). */
  regions: string[];
  /** Set when the entry cannot be used: why, naming the cloud and the field (no value). Then `settings` is absent. */
  problem?: string;
  authKind?: AuthKind;
  /** The entry as the client reads it (OS_* names), without a region (set per region when a cloud-region is opened). */
  settings?: OpenStackSettings;
  /** A Keystone token given as the credential (auth_type token): the client authenticates with it instead of a password. */
  token?: { token: string; projectId?: string; projectName?: string; projectDomainName?: string; projectDomainId?: string };
  /** compute_api_version "2.N": the microversion to send instead of negotiating. */
  microversion?: string;
  /** Keys read but not honoured, with the reason (shown in GET /v1/clouds). */
  notes: string[];
}

export interface CloudsConfig {
  /** By name; `default` is there when OS_AUTH_URL is set or the secret names it. */
  clouds: Map<string, CloudConfig>;
  /** A problem with the secret as a whole (not YAML, no `clouds` map): names no cloud, shown for every cloud it would have held. */
  secretProblem?: string;
}

/** Where a group or policy runs: one cloud and one of its regions (undefined: the cloud names none). */
export interface Placement {
  cloud: string;
  region: string | undefined;
}

/** A map key for a cloud-region ("prod/RegionOne"; "default/" when the cloud names no region). */
export function placementKey(p: Placement): string {
  return `${p.cloud}/${p.region ?? ""}`;
}

/** Where a placement is, in a sentence: "cloud 'prod', region 'RegionOne'". */
export function placementLabel(p: Placement): string {
  return `cloud '${p.cloud}'${p.region === undefined ? "" : `, region '${p.region}'`}`;
}

/** A snapshot policy and the group it selects run in different cloud-regions: the policy lists none of the group's servers. */
export interface GroupElsewhere {
  /** The policy's field to change: `cloud` when the clouds differ, else `region`. */
  field: "cloud" | "region";
  group: string;
  groupAt: Placement;
  policyAt: Placement;
}

/**
 * Whether a policy selecting `group` by name runs where the group does (a policy lists its own
 * cloud-region only, so it would snapshot none of the group's servers). Undefined: same place.
 */
export function groupElsewhere(
  config: CloudsConfig,
  policy: { cloud?: string | undefined; region?: string | undefined },
  group: { name: string; rules: { cloud?: string | undefined; region?: string | undefined } },
): GroupElsewhere | undefined {
  const policyAt = placementOf(config, policy);
  const groupAt = placementOf(config, group.rules);
  if (placementKey(policyAt) === placementKey(groupAt)) return undefined;
  return { field: policyAt.cloud === groupAt.cloud ? "region" : "cloud", group: group.name, groupAt, policyAt };
}

/** The sentence for a policy whose group runs elsewhere, saying what to set. */
export function groupElsewhereMessage(e: GroupElsewhere): string {
  const set = [`"cloud": "${e.groupAt.cloud}"`, ...(e.groupAt.region === undefined ? [] : [`"region": "${e.groupAt.region}"`])].join(", ");
  return `group '${e.group}' runs in ${placementLabel(e.groupAt)}, the policy in ${placementLabel(e.policyAt)}: it would snapshot none of the group's servers; set ${set} in the policy`;
}

/** Text fields: clouds.yaml values may be written as numbers (`project_id: 12345`); failsafe YAML gives strings anyway. */
const text = z.string().trim().min(1, { message: "must not be empty" });

const AUTH_KEYS = [
  "auth_url",
  "username",
  "password",
  "project_name",
  "project_id",
  "user_domain_name",
  "user_domain_id",
  "project_domain_name",
  "project_domain_id",
  "domain_name",
  "domain_id",
  "default_domain_name",
  "default_domain_id",
  "application_credential_id",
  "application_credential_secret",
  "application_credential_name",
  "token",
] as const;

const AuthSchema = z.object(Object.fromEntries(AUTH_KEYS.map((k) => [k, text.optional()])) as Record<(typeof AUTH_KEYS)[number], z.ZodOptional<typeof text>>).catchall(z.unknown());

const RegionEntrySchema = z.union([RegionNameSchema, z.object({ name: RegionNameSchema }).catchall(z.unknown()).transform((r) => r.name)]);

const AUTH_TYPES = ["password", "v3password", "v2password", "v3applicationcredential", "applicationcredential", "token", "v3token", "v2token"] as const;

const CloudEntrySchema = z
  .object({
    auth: AuthSchema,
    auth_type: z.enum(AUTH_TYPES, { message: `supported: ${AUTH_TYPES.join(", ")}` }).optional(),
    region_name: RegionNameSchema.optional(),
    regions: z.array(RegionEntrySchema).min(1, { message: "list at least one region, or leave it out" }).optional(),
    interface: z.enum(["public", "internal", "admin", "publicURL", "internalURL", "adminURL"], { message: "public, internal or admin" }).optional(),
    identity_api_version: z.enum(["2", "2.0", "3"], { message: "2.0 or 3" }).optional(),
    compute_api_version: z
      .string()
      .regex(/^2(\.\d+)?$/, { message: "2 (negotiate) or a microversion 2.N" })
      .optional(),
    cacert: z.string().optional(),
    verify: z.string().optional(),
    cert: z.string().optional(),
    key: z.string().optional(),
  })
  // openstacksdk has many more per-service keys (block_storage_api_version, ...): not ours to refuse.
  .catchall(z.unknown());

/** Field path for messages: "clouds.prod.auth.username". */
function where(cloud: string, path: ReadonlyArray<PropertyKey>): string {
  return ["clouds", cloud, ...path.map(String)].join(".");
}

function broken(name: string, problem: string, regions: string[] = []): CloudConfig {
  return { name, source: "NOVASCALE_CLOUDS", regions, problem, notes: [] };
}

/** auth_url with the version identity_api_version names (a bare root is completed; a conflicting one is refused). */
function versionedAuthUrl(url: string, version: "2" | "2.0" | "3" | undefined, authType: string | undefined): string | { problem: string } {
  const wanted = version === "3" ? "v3" : version === "2" || version === "2.0" || authType === "v2password" || authType === "v2token" ? "v2.0" : undefined;
  const path = new URL(url).pathname.replace(/\/+$/, "");
  const has = /\/v3$/.test(path) ? "v3" : /\/v2\.0$/.test(path) ? "v2.0" : undefined;
  if (wanted === undefined || has === wanted) return url;
  if (has !== undefined) return { problem: `auth.auth_url ends in /${has} but identity_api_version (or auth_type) asks for ${wanted}` };
  return `${url.replace(/\/+$/, "")}/${wanted}`;
}

/** One clouds.yaml entry -> a CloudConfig (with `problem` when it cannot be used). */
export function cloudFromEntry(name: string, raw: unknown): CloudConfig {
  const nameOk = CloudNameSchema.safeParse(name);
  if (!nameOk.success) return broken(name.slice(0, 63), `${where(name.slice(0, 63), [])}: the cloud's name: ${nameOk.error.issues[0]?.message ?? "invalid"}`);
  const parsed = CloudEntrySchema.safeParse(raw);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${where(name, i.path)}: ${i.message}`).join("; ");
    return broken(name, fields);
  }
  const e = parsed.data;
  const a = e.auth;
  const notes: string[] = [];
  const problems: string[] = [];
  const unknownAuth = Object.keys(a).filter((k) => !(AUTH_KEYS as readonly string[]).includes(k));
  if (unknownAuth.length > 0) problems.push(`${where(name, ["auth"])}: unsupported key(s) ${unknownAuth.join(", ")} (supported: ${AUTH_KEYS.join(", ")})`);

  // Regions: `regions` lists them (openstacksdk); region_name picks the default among them (or is the only one).
  let regions = e.regions ?? [];
  if (e.region_name !== undefined) {
    if (regions.length > 0 && !regions.includes(e.region_name)) problems.push(`${where(name, ["region_name"])}: not one of the cloud's regions (${regions.join(", ")})`);
    regions = [e.region_name, ...regions.filter((r) => r !== e.region_name)];
  }
  if (new Set(regions).size !== regions.length) problems.push(`${where(name, ["regions"])}: a region is listed twice`);

  if (a.auth_url === undefined) problems.push(`${where(name, ["auth", "auth_url"])}: required`);
  else if (!z.url().safeParse(a.auth_url).success || !/^https?:\/\//i.test(a.auth_url)) problems.push(`${where(name, ["auth", "auth_url"])}: must be an http(s) URL`);

  // Which credential: auth_type when given, else what the keys say (an application credential first, as the docs prefer).
  const type = e.auth_type;
  const kind: AuthKind =
    type === "v3applicationcredential" || type === "applicationcredential"
      ? "application-credential"
      : type === "token" || type === "v3token" || type === "v2token"
        ? "token"
        : type !== undefined || a.application_credential_id === undefined
          ? "password"
          : "application-credential";
  if (kind === "application-credential") {
    if (a.application_credential_id === undefined) {
      problems.push(
        a.application_credential_name !== undefined
          ? `${where(name, ["auth", "application_credential_name"])}: an application credential by name (with the user's password) is not supported; give application_credential_id`
          : `${where(name, ["auth", "application_credential_id"])}: required for an application credential`,
      );
    }
    if (a.application_credential_secret === undefined) problems.push(`${where(name, ["auth", "application_credential_secret"])}: required for an application credential`);
  } else if (kind === "password") {
    if (a.username === undefined) problems.push(`${where(name, ["auth", "username"])}: required for a password (or give application_credential_id and _secret, preferred)`);
    if (a.password === undefined) problems.push(`${where(name, ["auth", "password"])}: required for a password (or give application_credential_id and _secret, preferred)`);
    if (a.project_id === undefined && a.project_name === undefined) problems.push(`${where(name, ["auth", "project_name"])}: a password needs project_name or project_id (novascale works in one project)`);
  } else {
    if (a.token === undefined) problems.push(`${where(name, ["auth", "token"])}: required for auth_type ${type}`);
    notes.push("auth_type token: the token expires (Keystone's default is 1 hour) and novascale cannot renew it; use an application credential");
  }
  if (a.domain_id !== undefined || a.domain_name !== undefined) problems.push(`${where(name, ["auth", a.domain_id !== undefined ? "domain_id" : "domain_name"])}: a domain-scoped token lists no servers; scope to a project (project_name / project_id)`);
  if (e.cacert !== undefined) notes.push("cacert ignored: a Worker verifies TLS against the platform's public trust store and cannot load a private CA");
  if (e.verify !== undefined) notes.push("verify ignored: a Worker always verifies TLS certificates");
  if (e.cert !== undefined || e.key !== undefined) problems.push(`${where(name, [e.cert !== undefined ? "cert" : "key"])}: client certificates are not supported by a Worker's fetch`);

  // openstacksdk's <service>_endpoint_override keys.
  const overrides: Record<string, string> = {};
  for (const [key, value] of Object.entries(e)) {
    const m = /^([a-z_-]+)_endpoint_override$/.exec(key);
    if (m === null) continue;
    const service = (m[1] as string).replace(/_/g, "-");
    if (typeof value !== "string" || !/^https?:\/\//i.test(value)) problems.push(`${where(name, [key])}: must be an http(s) URL`);
    else overrides[service === "block-storage" ? "volumev3" : service] = value;
  }

  let authUrl: string | undefined;
  if (a.auth_url !== undefined && problems.every((p) => !p.includes(".auth.auth_url:"))) {
    const v = versionedAuthUrl(a.auth_url, e.identity_api_version, type);
    if (typeof v === "string") authUrl = v;
    else problems.push(`${where(name, ["identity_api_version"])}: ${v.problem}`);
  }
  if (problems.length > 0 || authUrl === undefined) return broken(name, problems.join("; "), regions);

  const settings = OpenStackSettingsSchema.safeParse({
    OS_AUTH_URL: authUrl,
    OS_INTERFACE: e.interface,
    OS_ENDPOINT_OVERRIDES: Object.keys(overrides).length > 0 ? JSON.stringify(overrides) : undefined,
    ...(kind === "application-credential"
      ? { OS_APPLICATION_CREDENTIAL_ID: a.application_credential_id, OS_APPLICATION_CREDENTIAL_SECRET: a.application_credential_secret }
      : {
          // A token cloud has no password: the settings' check is met by placeholders the client never sends (credentials replace them).
          OS_USERNAME: kind === "token" ? "token" : a.username,
          OS_PASSWORD: kind === "token" ? "token" : a.password,
          OS_PROJECT_NAME: a.project_name,
          OS_PROJECT_ID: a.project_id,
          OS_USER_DOMAIN_NAME: a.user_domain_name,
          OS_USER_DOMAIN_ID: a.user_domain_id,
          OS_PROJECT_DOMAIN_NAME: a.project_domain_name,
          OS_PROJECT_DOMAIN_ID: a.project_domain_id,
          OS_DEFAULT_DOMAIN_NAME: a.default_domain_name,
          OS_DEFAULT_DOMAIN_ID: a.default_domain_id,
        }),
  });
  if (!settings.success) return broken(name, `${where(name, [])}: ${settings.error.issues.map((i) => i.message).join("; ")}`, regions);
  const microversion = e.compute_api_version !== undefined && e.compute_api_version !== "2" ? e.compute_api_version : undefined;
  return {
    name,
    source: "NOVASCALE_CLOUDS",
    regions,
    authKind: kind,
    settings: settings.data,
    ...(kind === "token" && a.token !== undefined
      ? {
          token: {
            token: a.token,
            ...(a.project_id === undefined ? {} : { projectId: a.project_id }),
            ...(a.project_name === undefined ? {} : { projectName: a.project_name }),
            ...(a.project_domain_name === undefined ? {} : { projectDomainName: a.project_domain_name }),
            ...(a.project_domain_id === undefined ? {} : { projectDomainId: a.project_domain_id }),
          },
        }
      : {}),
    ...(microversion === undefined ? {} : { microversion }),
    notes,
  };
}

/** The OS_* variables as the cloud `default` (undefined when OS_AUTH_URL is not set at all). */
export function cloudFromOsVariables(env: Partial<Env>): CloudConfig | undefined {
  if (env.OS_AUTH_URL === undefined || env.OS_AUTH_URL.trim() === "") return undefined;
  const parsed = OpenStackSettingsSchema.safeParse(env);
  const region = env.OS_REGION_NAME?.trim();
  const regions = region === undefined || region === "" ? [] : [region];
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    return { name: DEFAULT_CLOUD, source: "OS_*", regions, problem: `OpenStack settings are incomplete (${fields})`, notes: [] };
  }
  // The region is set per cloud-region when one is opened.
  const settings = { ...parsed.data, OS_REGION_NAME: undefined };
  const authKind: AuthKind = settings.OS_APPLICATION_CREDENTIAL_ID !== undefined ? "application-credential" : "password";
  return { name: DEFAULT_CLOUD, source: "OS_*", regions, authKind, settings, notes: [] };
}

/** Where a YAML or JSON syntax error is, without the parser's excerpt of the line (it could hold a secret). */
function syntaxProblem(error: unknown, source: string): string {
  if (error instanceof YAMLParseError) {
    const offset = error.pos[0];
    const before = source.slice(0, offset).split("\n");
    const line = before.length;
    const col = (before.at(-1)?.length ?? 0) + 1;
    return `NOVASCALE_CLOUDS is not valid YAML or JSON (${error.code} at line ${line}, column ${col})`;
  }
  return "NOVASCALE_CLOUDS is not valid YAML or JSON";
}

/** The secret's text -> entries by name, or the problem with it as a whole. */
export function parseCloudsSecret(textValue: string): { entries: Array<[string, unknown]> } | { problem: string } {
  let doc: unknown;
  try {
    // The failsafe schema reads every scalar as a string: `password: 0123` stays "0123", not the number 123.
    // JSON is YAML flow syntax, so one parser reads both.
    doc = parseYaml(textValue, { schema: "failsafe", prettyErrors: false, uniqueKeys: true, maxAliasCount: 100 });
  } catch (error) {
    return { problem: syntaxProblem(error, textValue) };
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return { problem: "NOVASCALE_CLOUDS must be a map with a `clouds` key (clouds.yaml's shape)" };
  const clouds = (doc as Record<string, unknown>)["clouds"];
  if (clouds === null || typeof clouds !== "object" || Array.isArray(clouds)) return { problem: "NOVASCALE_CLOUDS: `clouds` must map cloud names to their settings (clouds.yaml's shape)" };
  return { entries: Object.entries(clouds as Record<string, unknown>) };
}

/** Every named cloud of a deployment: NOVASCALE_CLOUDS's entries plus OS_* as `default`. Never throws. */
export function cloudsFromEnv(env: Partial<Env>): CloudsConfig {
  const clouds = new Map<string, CloudConfig>();
  let secretProblem: string | undefined;
  const fromOs = cloudFromOsVariables(env);
  const secret = env.NOVASCALE_CLOUDS;
  if (secret !== undefined && secret.trim() !== "") {
    const read = parseCloudsSecret(secret);
    if ("problem" in read) secretProblem = read.problem;
    else for (const [name, raw] of read.entries) clouds.set(name, cloudFromEntry(name, raw));
  }
  if (fromOs !== undefined) {
    if (clouds.has(DEFAULT_CLOUD)) {
      // Two definitions of one cloud: neither is guessed at.
      const both = clouds.get(DEFAULT_CLOUD) as CloudConfig;
      clouds.set(DEFAULT_CLOUD, {
        ...broken(DEFAULT_CLOUD, "the cloud `default` is defined twice: by the OS_* variables and by NOVASCALE_CLOUDS's clouds.default; remove one of them", both.regions),
      });
    } else clouds.set(DEFAULT_CLOUD, fromOs);
  }
  return secretProblem === undefined ? { clouds } : { clouds, secretProblem };
}

/** Why `cloud` / `region` cannot be used (field named), or undefined. `default` is always accepted (it fails at the tick when unset, as before). */
export function placementProblem(config: CloudsConfig, wanted: { cloud?: string | undefined; region?: string | undefined }): { field: "cloud" | "region"; message: string } | undefined {
  const name = wanted.cloud ?? DEFAULT_CLOUD;
  const cloud = config.clouds.get(name);
  if (cloud === undefined) {
    if (name === DEFAULT_CLOUD) return undefined;
    const known = [...config.clouds.keys()];
    const why = config.secretProblem !== undefined ? ` (${config.secretProblem})` : known.length === 0 ? " (none is configured: set NOVASCALE_CLOUDS or the OS_* variables)" : ` (known: ${known.join(", ")})`;
    return { field: "cloud", message: `unknown cloud '${name}'${why}` };
  }
  if (wanted.region !== undefined && cloud.regions.length > 0 && !cloud.regions.includes(wanted.region)) {
    return { field: "region", message: `cloud '${name}' has no region '${wanted.region}' (its regions: ${cloud.regions.join(", ")})` };
  }
  return undefined;
}

/** The cloud-region a group or policy runs in: its cloud (default `default`) and region (default the cloud's first, when it names any). */
export function placementOf(config: CloudsConfig, rules: { cloud?: string | undefined; region?: string | undefined }): Placement {
  const cloud = rules.cloud ?? DEFAULT_CLOUD;
  return { cloud, region: rules.region ?? config.clouds.get(cloud)?.regions[0] };
}

/** Why a cloud cannot be opened (a message naming it), or undefined when it can. */
export function cloudProblem(config: CloudsConfig, name: string): string | undefined {
  const cloud = config.clouds.get(name);
  if (cloud === undefined) {
    if (config.secretProblem !== undefined) return `cloud '${name}': ${config.secretProblem}`;
    return name === DEFAULT_CLOUD
      ? "no cloud `default`: set the OS_* variables (OS_AUTH_URL, ...) or add clouds.default to NOVASCALE_CLOUDS"
      : `unknown cloud '${name}' (known: ${[...config.clouds.keys()].join(", ") || "none"})`;
  }
  return cloud.problem === undefined ? undefined : cloud.source === "OS_*" ? cloud.problem : `cloud '${name}': ${cloud.problem}`;
}
