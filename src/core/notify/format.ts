// How each kind of destination receives an event: pure functions from an event to a request body and headers.
import type { NotifyEvent } from "./events.ts";

export type SinkKind = "webhook" | "slack" | "ntfy";

/** A request before signing: the shell adds the signature (webhook) and sends it. */
export interface Outgoing {
  body: string;
  headers: Record<string, string>;
}

/** Generic webhook: `{"version":1,"event":{...}}`, JSON; the shell signs the exact body. */
export function webhookRequest(event: NotifyEvent): Outgoing {
  return {
    body: JSON.stringify({ version: 1, event }),
    headers: { "Content-Type": "application/json", "Novascale-Event-Id": event.id, "Novascale-Event-Type": event.type },
  };
}

const SLACK_ICON: Record<NotifyEvent["severity"], string> = { critical: ":rotating_light:", warning: ":warning:", info: ":information_source:" };

/** Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat): `text` plus one section block. */
export function slackRequest(event: NotifyEvent): Outgoing {
  const icon = event.status === "resolved" ? ":white_check_mark:" : SLACK_ICON[event.severity];
  const text = `${icon} *${escapeSlack(event.title)}*\n${escapeSlack(event.message)}`;
  return {
    body: JSON.stringify({ text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }, { type: "context", elements: [{ type: "mrkdwn", text: `novascale · ${event.id}` }] }] }),
    headers: { "Content-Type": "application/json" },
  };
}

/** Slack's three control characters in message text. */
function escapeSlack(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const NTFY_PRIORITY: Record<NotifyEvent["severity"], string> = { critical: "urgent", warning: "high", info: "default" };

/** ntfy: POST the message to the topic URL, title, priority and tags in headers (ASCII only: headers are Latin-1). */
export function ntfyRequest(event: NotifyEvent): Outgoing {
  return {
    body: event.message,
    headers: {
      "Content-Type": "text/plain; charset=utf-8",
      Title: asciiHeader(event.title),
      Priority: event.status === "resolved" ? "default" : NTFY_PRIORITY[event.severity],
      Tags: event.status === "resolved" ? "white_check_mark" : event.severity === "info" ? "information_source" : "warning",
    },
  };
}

function asciiHeader(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
}

export function requestFor(kind: SinkKind, event: NotifyEvent): Outgoing {
  return kind === "webhook" ? webhookRequest(event) : kind === "slack" ? slackRequest(event) : ntfyRequest(event);
}

/** Retry schedule after a failed attempt n (1-based): 30 s, 2 min, 10 min, 1 h, 6 h; then the delivery is given up. */
export const RETRY_DELAYS_MS = [30_000, 120_000, 600_000, 3_600_000, 21_600_000] as const;

/** When to try again after `attempts` failed tries (undefined: give up). A refusal (4xx other than 408/429) is final. */
export function retryAt(attempts: number, lastAttemptMs: number, status: number | undefined): number | undefined {
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) return undefined;
  const delay = RETRY_DELAYS_MS[attempts - 1];
  return delay === undefined ? undefined : lastAttemptMs + delay;
}
