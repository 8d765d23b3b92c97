// The baseline: a scaling script written the way "Programming OpenStack Compute API" writes them (plain fetch, one job per group).
//
// What the book's examples do, and so what this script does, for every group in turn:
//   1. authenticate (the book's "Get OpenStack Credentials" snippet: a fresh token per script run),
//   2. list the servers and count the group's members by a metadata key (the book's "belongs-to"),
//   3. to grow: look the image and flavor up by name in Nova's /images and /flavors, then boot the
//      missing servers with one POST /servers each;
//      to shrink: DELETE /servers/{id} once per surplus server.
// It sends no microversion header (Compute v2.1's base behaviour, where Nova's /images proxy still
// answers and `networks` may be left out), and speaks Keystone v2.0 (the book's dialect) or v3
// (today's), whichever the auth URL names. It is deliberately not novascale's client: that is the
// point of the comparison. Run it directly:
//   node bench/node/book-style.ts --auth-url http://127.0.0.1:5000/v3 --user demo --password ... \
//     --project demo --group web=3 --group api=0 --image cirros --flavor m1.tiny [--network UUID]

/** The metadata key the book's example uses to record which load-balanced group a server belongs to. */
export const BOOK_GROUP_KEY = "belongs-to";

export interface BookCredentials {
  /** OS_AUTH_URL: ends in /v2.0 for the book's Keystone, /v3 for today's. */
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName?: string;
  projectDomainName?: string;
  /** OS_REGION_NAME; the first endpoint is taken when unset (the book takes `[0]`). */
  regionName?: string;
}

export interface BookJob {
  group: string;
  desired: number;
  image: string;
  flavor: string;
  /** Network ids to attach. The book's API had no such field; a cloud with several networks needs it (else 409). */
  networks?: string[];
}

export interface BookGroupResult {
  group: string;
  before: number;
  booted: number;
  deleted: number;
  requests: number;
  failures: string[];
}

export interface BookRunResult {
  groups: BookGroupResult[];
  /** Requests this script sent (the benchmark counts them again where they arrive). */
  requests: number;
  wallMs: number;
}

interface Session {
  token: string;
  novaUrl: string;
}

interface ListedServer {
  id: string | number;
  name: string;
  status: string;
  metadata?: Record<string, string>;
}

/** One HTTP call, counted; like the book, every call is its own connection and its own little block. */
async function call(
  counter: { requests: number },
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<Response> {
  counter.requests += 1;
  const init: RequestInit = { method, headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  return fetch(url, init);
}

async function readJson(response: Response, what: string): Promise<Record<string, unknown>> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} ${text.slice(0, 200)}`);
  return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
}

/** The book's credentials snippet, in both Keystone dialects. */
async function authenticate(creds: BookCredentials, counter: { requests: number }): Promise<Session> {
  const base = creds.authUrl.replace(/\/+$/, "");
  if (base.endsWith("/v2.0")) {
    const response = await call(counter, "POST", `${base}/tokens`, {}, {
      auth: { passwordCredentials: { username: creds.username, password: creds.password }, tenantName: creds.projectName },
    });
    const dd = await readJson(response, "authenticate (v2.0)");
    // The book's catalog is a dict by service name; the later v2.0 one is a list of {type, endpoints}.
    const access = (dd["access"] ?? dd["auth"]) as Record<string, unknown>;
    const token = ((access["token"] as Record<string, unknown>)["id"]) as string;
    const catalog = access["serviceCatalog"] as unknown;
    let novaUrl: string | undefined;
    if (Array.isArray(catalog)) {
      const compute = catalog.find((s: Record<string, unknown>) => s["type"] === "compute") as Record<string, unknown> | undefined;
      const endpoints = (compute?.["endpoints"] ?? []) as Array<Record<string, string>>;
      const endpoint = endpoints.find((e) => creds.regionName === undefined || e["region"] === creds.regionName);
      novaUrl = endpoint?.["publicURL"];
    } else {
      const nova = (catalog as Record<string, Array<Record<string, string>>>)["nova"] ?? [];
      const endpoint = nova.find((e) => creds.regionName === undefined || e["region"] === creds.regionName);
      novaUrl = endpoint?.["publicURL"];
    }
    if (novaUrl === undefined) throw new Error("authenticate (v2.0): no compute endpoint in the catalog");
    return { token, novaUrl: novaUrl.replace(/\/+$/, "") };
  }
  const response = await call(counter, "POST", `${base}/auth/tokens`, {}, {
    auth: {
      identity: {
        methods: ["password"],
        password: { user: { name: creds.username, domain: { name: creds.userDomainName ?? "Default" }, password: creds.password } },
      },
      scope: { project: { name: creds.projectName, domain: { name: creds.projectDomainName ?? "Default" } } },
    },
  });
  const dd = await readJson(response, "authenticate (v3)");
  const token = response.headers.get("X-Subject-Token");
  if (token === null) throw new Error("authenticate (v3): no X-Subject-Token header");
  const catalog = ((dd["token"] as Record<string, unknown>)["catalog"] ?? []) as Array<Record<string, unknown>>;
  const compute = catalog.find((s) => s["type"] === "compute");
  const endpoints = (compute?.["endpoints"] ?? []) as Array<Record<string, string>>;
  const endpoint = endpoints.find(
    (e) => e["interface"] === "public" && (creds.regionName === undefined || e["region"] === creds.regionName || e["region_id"] === creds.regionName),
  );
  if (endpoint?.["url"] === undefined) throw new Error("authenticate (v3): no public compute endpoint in the catalog");
  return { token, novaUrl: endpoint["url"].replace(/\/+$/, "") };
}

/** GET /servers/detail, following `servers_links` (the book's listing had no pages; today's Nova pages at 1,000). */
async function listServers(session: Session, counter: { requests: number }): Promise<ListedServer[]> {
  const servers: ListedServer[] = [];
  let url: string | undefined = `${session.novaUrl}/servers/detail`;
  while (url !== undefined) {
    const dd = await readJson(await call(counter, "GET", url, { "X-Auth-Token": session.token }), "list servers");
    const page = (dd["servers"] ?? []) as ListedServer[];
    servers.push(...page);
    const next = ((dd["servers_links"] ?? []) as Array<Record<string, string>>).find((l) => l["rel"] === "next");
    url = page.length > 0 && next?.["href"] !== undefined ? next["href"] : undefined;
  }
  return servers;
}

/** The book finds refs by listing and matching; it takes the `links[0].href` of the match (or the id). */
async function findRef(session: Session, counter: { requests: number }, collection: "images" | "flavors", name: string): Promise<string> {
  const dd = await readJson(await call(counter, "GET", `${session.novaUrl}/${collection}`, { "X-Auth-Token": session.token }), `list ${collection}`);
  const items = (dd[collection] ?? []) as Array<{ id: string | number; name: string; links?: Array<{ href: string }> }>;
  const match = items.find((i) => i.name === name || String(i.id) === name);
  if (match === undefined) throw new Error(`no ${collection.slice(0, -1)} named '${name}'`);
  return String(match.id);
}

const GONE = new Set(["DELETED", "SOFT_DELETED"]);

/** One group's job, exactly as a crontab entry of the book's scripts would run it. */
export async function scaleGroupBookStyle(creds: BookCredentials, job: BookJob): Promise<BookGroupResult> {
  const counter = { requests: 0 };
  const result: BookGroupResult = { group: job.group, before: 0, booted: 0, deleted: 0, requests: 0, failures: [] };
  const session = await authenticate(creds, counter);
  const members = (await listServers(session, counter)).filter(
    (s) => s.metadata?.[BOOK_GROUP_KEY] === job.group && !GONE.has(s.status.toUpperCase()),
  );
  result.before = members.length;
  if (members.length < job.desired) {
    const imageRef = await findRef(session, counter, "images", job.image);
    const flavorRef = await findRef(session, counter, "flavors", job.flavor);
    for (let n = members.length; n < job.desired; n++) {
      const server: Record<string, unknown> = { name: `${job.group}${String(n).padStart(3, "0")}`, imageRef, flavorRef, metadata: { [BOOK_GROUP_KEY]: job.group } };
      if (job.networks !== undefined) server["networks"] = job.networks.map((uuid) => ({ uuid }));
      const s = { server };
      const response = await call(counter, "POST", `${session.novaUrl}/servers`, { "X-Auth-Token": session.token }, s);
      const answer = await response.text();
      if (response.ok) result.booted += 1;
      else result.failures.push(`boot: HTTP ${response.status} ${answer.slice(0, 300)}`);
    }
  } else if (members.length > job.desired) {
    // The book has no victim policy; take the newest names last-in-first-out as a person would.
    const victims = [...members].sort((a, b) => b.name.localeCompare(a.name)).slice(0, members.length - job.desired);
    for (const victim of victims) {
      const response = await call(counter, "DELETE", `${session.novaUrl}/servers/${victim.id}`, { "X-Auth-Token": session.token });
      const answer = await response.text();
      if (response.ok) result.deleted += 1;
      else result.failures.push(`delete ${victim.id}: HTTP ${response.status} ${answer.slice(0, 300)}`);
    }
  }
  result.requests = counter.requests;
  return result;
}

/** Every group in turn, as consecutive crontab lines would. */
export async function runBookStyle(creds: BookCredentials, jobs: readonly BookJob[]): Promise<BookRunResult> {
  const started = performance.now();
  const groups: BookGroupResult[] = [];
  for (const job of jobs) groups.push(await scaleGroupBookStyle(creds, job));
  return { groups, requests: groups.reduce((sum, g) => sum + g.requests, 0), wallMs: performance.now() - started };
}

function parseCommandLine(argv: readonly string[]): { creds: BookCredentials; jobs: BookJob[] } {
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    if (key === undefined || !key.startsWith("--") || value === undefined) throw new Error(`expected --flag value pairs, got '${key ?? ""}'`);
    flags.set(key.slice(2), [...(flags.get(key.slice(2)) ?? []), value]);
  }
  const one = (name: string, fallback?: string): string => {
    const value = flags.get(name)?.[0] ?? fallback;
    if (value === undefined) throw new Error(`--${name} is required`);
    return value;
  };
  const env = process.env;
  const creds: BookCredentials = {
    authUrl: one("auth-url", env["OS_AUTH_URL"]),
    username: one("user", env["OS_USERNAME"]),
    password: one("password", env["OS_PASSWORD"]),
    projectName: one("project", env["OS_PROJECT_NAME"]),
    userDomainName: one("user-domain", env["OS_USER_DOMAIN_NAME"] ?? "Default"),
    projectDomainName: one("project-domain", env["OS_PROJECT_DOMAIN_NAME"] ?? "Default"),
  };
  if (env["OS_REGION_NAME"]) creds.regionName = env["OS_REGION_NAME"];
  const image = one("image");
  const flavor = one("flavor");
  const networks = flags.get("network");
  const jobs = (flags.get("group") ?? []).map((spec): BookJob => {
    const [group, desired] = spec.split("=");
    if (group === undefined || desired === undefined || !/^\d+$/.test(desired)) throw new Error(`--group wants name=count, got '${spec}'`);
    return { group, desired: Number(desired), image, flavor, ...(networks === undefined ? {} : { networks }) };
  });
  return { creds, jobs };
}

if (import.meta.main) {
  const { creds, jobs } = parseCommandLine(process.argv.slice(2));
  const result = await runBookStyle(creds, jobs);
  for (const g of result.groups) {
    console.log(`${g.group}: had ${g.before}, booted ${g.booted}, deleted ${g.deleted}, ${g.requests} requests${g.failures.length ? `, failures: ${g.failures.join("; ")}` : ""}`);
  }
  console.log(`${result.requests} requests in ${result.wallMs.toFixed(0)} ms`);
}
