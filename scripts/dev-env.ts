// Reading .dev.vars and writing the env file `npm start` hands to wrangler dev (dotenv syntax, safe quoting).

/** The settings `npm start` takes from the environment (over .dev.vars) and passes to the Worker. */
export const PASSED_KEYS = [
  "OS_AUTH_URL",
  "OS_USERNAME",
  "OS_PASSWORD",
  "OS_PROJECT_NAME",
  "OS_PROJECT_ID",
  "OS_USER_DOMAIN_NAME",
  "OS_USER_DOMAIN_ID",
  "OS_PROJECT_DOMAIN_NAME",
  "OS_PROJECT_DOMAIN_ID",
  "OS_DEFAULT_DOMAIN_ID",
  "OS_DEFAULT_DOMAIN_NAME",
  "OS_REGION_NAME",
  "OS_INTERFACE",
  "OS_APPLICATION_CREDENTIAL_ID",
  "OS_APPLICATION_CREDENTIAL_SECRET",
  "OS_ENDPOINT_OVERRIDES",
  "NOVASCALE_CLOUDS",
  "NOVASCALE_TOKENS",
  "NOVASCALE_TOKEN",
] as const;

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)?$/;

/**
 * Parses dotenv text the way wrangler reads .dev.vars: `KEY=value`, optional `export`, `#` comments,
 * single quotes literal, double quotes with \n, unquoted values cut at `#` and trimmed (as dotenv does).
 */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  for (let i = 0; i < lines.length; i += 1) {
    const match = LINE.exec(lines[i] ?? "");
    if (match === null) continue;
    const key = match[1] as string;
    let value = (match[2] ?? "").trim();
    const quote = value[0];
    if (quote === "'" || quote === '"' || quote === "`") {
      // A quoted value may span lines until its closing quote.
      let body = value.slice(1);
      while (!body.includes(quote) && i + 1 < lines.length) {
        i += 1;
        body += `\n${lines[i] ?? ""}`;
      }
      const end = body.indexOf(quote);
      value = end === -1 ? body : body.slice(0, end);
      if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\r/g, "\r");
    } else {
      const comment = value.indexOf("#");
      if (comment !== -1) value = value.slice(0, comment).trim();
    }
    out[key] = value;
  }
  return out;
}

/**
 * Writes values so that wrangler's --env-file loader (dotenv + dotenv-expand) reads them back exactly:
 * `$` is escaped (dotenv-expand would substitute variables), and the value is quoted with a quote
 * character it does not contain.
 */
export function serializeDotEnv(values: Record<string, string | undefined>): string {
  const lines: string[] = [];
  for (const [key, raw] of Object.entries(values)) {
    if (raw === undefined) continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`not a variable name: ${key}`);
    if (/[\r\n]/.test(raw)) {
      // Only double quotes turn \n back into a line break (dotenv); such a value cannot also hold `"`.
      if (raw.includes('"')) throw new Error(`${key}: a value with line breaks cannot also contain '"'`);
      lines.push(`${key}="${raw.replace(/\$/g, "\\$").replace(/\n/g, "\\n").replace(/\r/g, "\\r")}"`);
      continue;
    }
    const quote = ["'", '"', "`"].find((q) => !raw.includes(q));
    if (quote === undefined) throw new Error(`${key}: a value cannot contain all of ' " and \``);
    lines.push(`${key}=${quote}${raw.replace(/\$/g, "\\$")}${quote}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Everything in .dev.vars (wrangler skips that file once it is given --env-file, so nothing may be lost),
 * with novascale's own keys taken from the environment where set there.
 */
export function mergeSettings(devVars: Record<string, string>, environment: Record<string, string | undefined>): Record<string, string> {
  const merged: Record<string, string> = { ...devVars };
  for (const key of PASSED_KEYS) {
    const value = environment[key];
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}
