// The overview's notifications section: destinations, a "send test notification" button (operate role) and the last deliveries.
import { call, type Session } from "./api.ts";
import { h, replace } from "./dom.ts";
import { formatTime } from "./format.ts";
import { dataTable, errorBox } from "./widgets.ts";

interface Delivery {
  at: string;
  destination: string;
  type: string;
  group: string;
  attempt: number;
  outcome: "delivered" | "retrying" | "failed";
  status?: number;
  error?: string;
  nextAt?: string;
}
interface Status {
  destinations: Array<{ name: string; kind: string }>;
  problem?: string;
  pending: number;
}

function deliveryRow(d: Delivery): HTMLElement {
  const outcome = d.outcome === "retrying" && d.nextAt !== undefined ? `retrying ${formatTime(d.nextAt)}` : d.outcome;
  return h(
    "tr",
    {},
    h("td", { "data-label": "at" }, formatTime(d.at)),
    h("td", { "data-label": "destination" }, d.destination),
    h("td", { "data-label": "event" }, `${d.group} ${d.type}`),
    h("td", { "data-label": "outcome" }, outcome, d.error === undefined ? null : h("div", { class: "why" }, d.error)),
  );
}

/** Loads into `root` and answers a function that loads again. */
export function notificationsSection(root: HTMLElement, session: Session): () => Promise<void> {
  const result = h("p", { class: "muted", role: "status", "aria-live": "polite", id: "notify-result" });
  const load = async () => {
    try {
      const [status, log] = await Promise.all([
        call<Status>(session.token, "GET", "/v1/notifications"),
        call<{ deliveries: Delivery[] }>(session.token, "GET", "/v1/notifications/deliveries?limit=10"),
      ]);
      const names = status.destinations.map((d) => `${d.name} (${d.kind})`).join(", ");
      const button =
        session.role === "read" || status.destinations.length === 0
          ? null
          : h("button", { type: "button", class: "secondary", id: "notify-test", onclick: () => void sendTest() }, "Send test notification");
      replace(
        root,
        h("p", {}, status.problem ?? (names === "" ? "No destinations (set the NOVASCALE_NOTIFY secret; see docs/notifications.md)." : `Destinations: ${names}; ${status.pending} pending.`)),
        button,
        result,
        dataTable("Last deliveries", ["at", "destination", "event", "outcome"], log.deliveries.map(deliveryRow), { empty: "Nothing sent yet." }),
      );
    } catch (e) {
      replace(root, errorBox(e));
    }
  };
  const sendTest = async () => {
    replace(result, "sending…");
    try {
      const answer = await call<{ deliveries: Delivery[] }>(session.token, "POST", "/v1/notifications/test", {});
      await load();
      replace(result, answer.deliveries.map((d) => `${d.destination}: ${d.outcome}${d.status === undefined ? "" : ` (HTTP ${d.status})`}`).join("; "));
    } catch (e) {
      replace(result, errorBox(e));
    }
  };
  return load;
}
