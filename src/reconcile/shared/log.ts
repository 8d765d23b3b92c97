// Structured logs: one JSON object per line (Workers Logs indexes its fields), never a secret (callers pass redacted text).
export type LogLevel = "info" | "warn" | "error";

/** Writes `{level, msg, ...fields}` as one JSON line; undefined fields are left out. */
export function logLine(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
