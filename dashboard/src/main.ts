// The dashboard's entry: sign in with an API token (sessionStorage, Bearer), then route #/ (overview; #/?cloud=&region= filters it), #/new and #/groups/<name>/edit (rules editor), #/groups/<name> (group page) and #/policies/<name> (snapshot policy page).
import { ApiError, signIn, storeToken, storedToken, type Session } from "./api.ts";
import { h, replace } from "./dom.ts";
import { editorPage } from "./editor.ts";
import { groupPage, WINDOWS, type PageHandle } from "./group.ts";
import { overviewPage } from "./overview.ts";
import { policyPage } from "./policy.ts";
import { errorBox } from "./widgets.ts";

let session: Session | null = null;
let page: PageHandle | undefined;

const main = () => document.getElementById("main") as HTMLElement;

function showWho(): void {
  const who = document.getElementById("who");
  const out = document.getElementById("signout") as HTMLButtonElement | null;
  if (who !== null) replace(who, session === null ? "" : `${session.name} (${session.role})`);
  if (out !== null) out.hidden = session === null;
}

function signInPage(problem?: unknown): void {
  page?.dispose();
  page = undefined;
  const token = h("input", { type: "password", id: "token", name: "token", autocomplete: "off", spellcheck: "false", required: true });
  const errors = h("div", { id: "signin-errors" }, problem === undefined ? null : errorBox(problem, "Sign-in failed: "));
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "card signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in"),
    h("p", {}, "Use a novascale API token (a read token sees; operate and admin tokens can also act). It is kept in this tab only and sent as a Bearer header."),
    h("div", { class: "field" }, h("label", { for: "token" }, "API token"), token),
    button,
    errors,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = token.value.trim();
    if (value === "") {
      replace(errors, errorBox(new Error("enter a token"), "Sign-in failed: "));
      return;
    }
    button.disabled = true;
    void (async () => {
      try {
        session = await signIn(value);
        storeToken(value);
        showWho();
        route();
      } catch (e) {
        replace(errors, errorBox(e, "Sign-in failed: "));
        button.disabled = false;
        token.focus();
      }
    })();
  });
  replace(main(), form);
  showWho();
  document.title = "Sign in · novascale";
  token.focus();
}

function route(): void {
  if (session === null) {
    signInPage();
    return;
  }
  page?.dispose();
  const hash = location.hash.replace(/^#/, "");
  const [path = "", query = ""] = hash.split("?");
  const group = /^\/groups\/([^/]+)$/.exec(path);
  const edit = /^\/groups\/([^/]+)\/edit$/.exec(path);
  const policy = /^\/policies\/([^/]+)$/.exec(path);
  if (path === "/new") {
    page = editorPage(main(), session, null);
  } else if (edit?.[1] !== undefined) {
    page = editorPage(main(), session, decodeURIComponent(edit[1]));
  } else if (group?.[1] !== undefined) {
    const asked = Number(new URLSearchParams(query).get("hours") ?? 48);
    const hours = (WINDOWS as readonly number[]).includes(asked) ? asked : 48;
    page = groupPage(main(), session, decodeURIComponent(group[1]), hours);
  } else if (policy?.[1] !== undefined) {
    page = policyPage(main(), session, decodeURIComponent(policy[1]));
  } else {
    page = overviewPage(main(), session, new URLSearchParams(query));
  }
  main().focus({ preventScroll: true });
}

async function start(): Promise<void> {
  document.getElementById("signout")?.addEventListener("click", () => {
    storeToken(null);
    session = null;
    signInPage();
  });
  window.addEventListener("hashchange", route);
  // The skip link focuses the content without touching the hash (the hash is the route).
  document.querySelector(".skip")?.addEventListener("click", (event) => {
    event.preventDefault();
    main().focus();
  });
  const token = storedToken();
  if (token === null) {
    signInPage();
    return;
  }
  try {
    session = await signIn(token);
    showWho();
    route();
  } catch (e) {
    // A stored token that no longer works (revoked, or the API changed) is forgotten.
    if (e instanceof ApiError && e.status === 401) storeToken(null);
    signInPage(e);
  }
}

void start();
