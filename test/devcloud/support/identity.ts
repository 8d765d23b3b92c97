// A user and project in a domain other than Default, made with the devcloud's admin credentials (idempotent: found or created).
import { readFile } from "node:fs/promises";
import { join } from "node:path";

export interface DomainUser {
  domainName: string;
  domainId: string;
  projectName: string;
  projectId: string;
  username: string;
  password: string;
}

/** The admin's OS_* from $DEVCLOUD_DIR/adminrc (written by up.sh). */
export async function adminSettings(): Promise<Record<string, string>> {
  const dir = process.env.DEVCLOUD_DIR ?? "/tmp/devcloud";
  const text = await readFile(join(dir, "adminrc"), "utf8");
  return Object.fromEntries([...text.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!.replace(/^["']|["']$/g, "")]));
}

/** The admin's login (for Devcloud.login), from adminSettings(). */
export async function adminUser(): Promise<{ authUrl: string; username: string; password: string; projectName: string; userDomainName: string; projectDomainName: string }> {
  const rc = await adminSettings();
  return {
    authUrl: rc.OS_AUTH_URL!.replace(/\/+$/, ""),
    username: rc.OS_USERNAME!,
    password: rc.OS_PASSWORD!,
    projectName: rc.OS_PROJECT_NAME!,
    userDomainName: rc.OS_USER_DOMAIN_NAME ?? "Default",
    projectDomainName: rc.OS_PROJECT_DOMAIN_NAME ?? "Default",
  };
}

/**
 * Makes sure `names` exist: the domain, a project in it, a user in it with `password` (reset when the
 * user exists), and the member role for that user on that project. Runs as the cloud admin.
 */
export async function ensureDomainUser(names: { domain: string; project: string; user: string; password: string }): Promise<DomainUser> {
  const admin = await adminSettings();
  const authUrl = admin.OS_AUTH_URL!.replace(/\/+$/, "");
  const login = await fetch(`${authUrl}/auth/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: { methods: ["password"], password: { user: { name: admin.OS_USERNAME, domain: { name: admin.OS_USER_DOMAIN_NAME ?? "Default" }, password: admin.OS_PASSWORD } } },
        scope: { project: { name: admin.OS_PROJECT_NAME, domain: { name: admin.OS_PROJECT_DOMAIN_NAME ?? "Default" } } },
      },
    }),
  });
  const token = login.headers.get("x-subject-token");
  if (login.status !== 201 || token === null) throw new Error(`admin login -> ${login.status}`);
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${authUrl}${path}`, {
      method,
      headers: { "X-Auth-Token": token, Accept: "application/json", ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === "" ? null : JSON.parse(text) };
  };
  const created = new Set<string>();
  const findOrCreate = async (list: string, key: string, create: Record<string, unknown>): Promise<string> => {
    const found = await call("GET", list);
    const existing = found.body?.[`${key}s`]?.[0]?.id as string | undefined;
    if (existing !== undefined) return existing;
    const made = await call("POST", `/${key}s`, { [key]: create });
    if (made.status !== 201) throw new Error(`create ${key} ${JSON.stringify(create.name)} -> ${made.status}: ${JSON.stringify(made.body)}`);
    created.add(key);
    return made.body[key].id as string;
  };
  const q = encodeURIComponent;
  const domainId = await findOrCreate(`/domains?name=${q(names.domain)}`, "domain", { name: names.domain, enabled: true, description: "novascale test tier" });
  const projectId = await findOrCreate(`/projects?name=${q(names.project)}&domain_id=${domainId}`, "project", { name: names.project, domain_id: domainId, enabled: true });
  const userId = await findOrCreate(`/users?name=${q(names.user)}&domain_id=${domainId}`, "user", { name: names.user, domain_id: domainId, password: names.password, enabled: true });
  if (!created.has("user")) {
    const reset = await call("PATCH", `/users/${userId}`, { user: { password: names.password } });
    if (reset.status !== 200) throw new Error(`set the password of ${names.user} -> ${reset.status}`);
  }
  const roles = await call("GET", "/roles?name=member");
  const roleId = roles.body?.roles?.[0]?.id as string | undefined;
  if (roleId === undefined) throw new Error("the devcloud has no 'member' role");
  const grant = await call("PUT", `/projects/${projectId}/users/${userId}/roles/${roleId}`);
  if (grant.status !== 204) throw new Error(`grant member on ${names.project} -> ${grant.status}`);
  // A password reset or a grant revokes the user's tokens issued up to that second (Keystone's revocation
  // events have one-second resolution): a token taken in the same second would be refused by Nova.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  return { domainName: names.domain, domainId, projectName: names.project, projectId, username: names.user, password: names.password };
}
