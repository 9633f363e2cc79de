// The console's shell: sign-in, the nav bar and history.pushState routing to the pages.

import { callPage } from "./call.js";
import { callsPage } from "./calls.js";
import { comparePage } from "./compare.js";
import { ApiError, api, can, forget, go, h, keep, link, note, problemView, session, whenUnauthorized } from "./core.js";
import { datasetPage } from "./dataset.js";
import { datasetsPage } from "./datasets.js";
import { deliveryPage } from "./delivery.js";
import { diffPage } from "./diff.js";
import { incidentPage } from "./incident.js";
import { incidentsPage } from "./incidents.js";
import { monitorPage } from "./monitor.js";
import { monitorsPage } from "./monitors.js";
import { playgroundPage } from "./playground.js";
import { promptPage } from "./prompt.js";
import { promptsPage } from "./prompts.js";
import { runPage } from "./run.js";
import { runsPage } from "./runs.js";
import { suitePage } from "./suite.js";
import { suitesPage } from "./suites.js";
import { tracePage } from "./trace.js";
import { tracesPage } from "./traces.js";
import { webhookPage } from "./webhook.js";
import { webhooksPage } from "./webhooks.js";

// Only pages that exist are listed: a nav link to nothing is worse than no link.
const NAV = [
  { href: "/console/prompts", text: "Prompts", section: "prompts" },
  { href: "/console/runs", text: "Runs", section: "runs" },
  { href: "/console/suites", text: "Suites", section: "suites" },
  { href: "/console/datasets", text: "Datasets", section: "datasets" },
  { href: "/console/incidents", text: "Incidents", section: "incidents", need: "incidents.read" },
  { href: "/console/monitors", text: "Monitors", section: "monitors", need: "monitors.read" },
  { href: "/console/playground", text: "Playground", section: "playground" },
  { href: "/console/calls", text: "Calls", section: "calls", need: "calls.read" }, // may hold content
  { href: "/console/traces", text: "Traces", section: "traces" },
  { href: "/console/webhooks", text: "Webhooks", section: "webhooks", need: "webhooks.manage" }, // admins'
  { href: "/dashboard", text: "Dashboard", section: "dashboard", page: true }, // its own page, same key
];
// path pattern → page; a page is `async (main, { params, query, isCurrent }) => void`.
const ROUTES = [
  [/^\/console\/prompts\/?$/, promptsPage],
  [/^\/console\/prompts\/(.+)\/diff\/?$/, diffPage],
  [/^\/console\/prompts\/(.+?)\/?$/, promptPage],
  [/^\/console\/runs\/?$/, runsPage],
  [/^\/console\/runs\/compare\/?$/, comparePage], // before runs/<id>, which "compare" would match
  [/^\/console\/runs\/([^/]+)\/?$/, runPage],
  [/^\/console\/suites\/?$/, suitesPage],
  [/^\/console\/suites\/(.+?)\/?$/, suitePage],
  [/^\/console\/datasets\/?$/, datasetsPage],
  [/^\/console\/datasets\/(.+?)\/?$/, datasetPage],
  [/^\/console\/incidents\/?$/, incidentsPage],
  [/^\/console\/incidents\/([^/]+)\/?$/, incidentPage],
  [/^\/console\/monitors\/?$/, monitorsPage],
  [/^\/console\/monitors\/([^/]+)\/?$/, monitorPage],
  [/^\/console\/playground\/?$/, playgroundPage],
  [/^\/console\/calls\/?$/, callsPage],
  [/^\/console\/calls\/([^/]+)\/?$/, callPage],
  [/^\/console\/traces\/?$/, tracesPage],
  [/^\/console\/traces\/([^/]+)\/?$/, tracePage],
  [/^\/console\/webhooks\/?$/, webhooksPage],
  [/^\/console\/webhooks\/([^/]+)\/deliveries\/([^/]+)\/?$/, deliveryPage],
  [/^\/console\/webhooks\/([^/]+)\/?$/, webhookPage],
];

const $ = (id) => document.getElementById(id);
let generation = 0;
let routed = ""; // the path and query the current page was drawn for

function matchRoute(path) {
  for (const [pattern, page] of ROUTES) {
    const found = pattern.exec(path);
    if (found) {
      try {
        return { page, params: found.slice(1).map(decodeURIComponent) };
      } catch {
        return null; // a malformed %-escape
      }
    }
  }
  return null;
}

function showNav() {
  const section = location.pathname.split("/")[2] || "";
  $("nav").replaceChildren(
    ...NAV.filter((item) => !item.need || can(item.need)).map((item) =>
      item.page ? h("a", { href: item.href, text: item.text }) : link(item.href, item.text, { "aria-current": item.section === section ? "page" : null }),
    ),
  );
  $("who").replaceChildren(
    h("span", { class: "who", text: `${session.name} · ` }, h("span", { class: "role", "data-role": session.role, text: session.role })),
    h("button", { type: "button", id: "sign-out", class: "secondary", onclick: () => signOut("Signed out: the key is forgotten.") }, "Sign out"),
  );
  $("nav").hidden = $("who").hidden = false;
}

/** Show the page for the current URL (signed in) or the sign-in form. */
async function route({ focus = false } = {}) {
  const current = ++generation;
  const main = $("main");
  if (!session.role) return;
  if (location.pathname === "/console" || location.pathname === "/console/") {
    history.replaceState(null, "", "/console/prompts");
  }
  routed = location.pathname + location.search;
  showNav();
  const found = matchRoute(location.pathname);
  main.replaceChildren(note("Loading…", "loading"));
  if (!found) {
    main.replaceChildren(h("h1", { tabindex: "-1", text: "Page not found" }), note(`There is no console page at ${location.pathname}.`));
  } else {
    const query = new URLSearchParams(location.search);
    try {
      await found.page(main, { params: found.params, query, isCurrent: () => current === generation });
    } catch (error) {
      if (current === generation) main.replaceChildren(problemView(error));
    }
  }
  // A page may have focused what the URL points at (a run's item); leave it there.
  if (focus && current === generation && !main.contains(document.activeElement)) main.querySelector("h1")?.focus();
}


function showSignIn(message = "", kind = "info") {
  generation += 1;
  $("nav").hidden = $("who").hidden = true;
  const input = h("input", { id: "api-key", name: "api-key", type: "password", placeholder: "pl_…", spellcheck: "false", autocomplete: "off", required: true });
  const status = h("p", { id: "sign-in-status", class: `notice ${kind}`, role: "status", "aria-live": "polite", text: message });
  const form = h(
    "form",
    { id: "sign-in", class: "sign-in", autocomplete: "off" },
    h("h1", { tabindex: "-1", text: "Sign in" }),
    h("p", { text: "Paste an API key. It stays in this browser tab only and is forgotten when the browser session ends." }),
    h("label", { for: "api-key", text: "API key" }),
    h("div", { class: "row" }, input, h("button", { type: "submit", text: "Sign in" })),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    status.textContent = "Checking the key…";
    status.className = "notice info";
    try {
      keep(key, await api("/v1/keys/me", { key }));
    } catch (error) {
      forget();
      const why = error instanceof ApiError && error.status === 401 ? "The server did not accept this API key" : "Could not sign in";
      status.replaceChildren(h("span", { text: `${why}.` }), problemView(error));
      status.className = "notice error";
      return;
    }
    input.value = "";
    route({ focus: true });
  });
  $("main").replaceChildren(form);
  input.focus();
}

function signOut(message) {
  forget();
  showSignIn(message, "error");
}

async function start() {
  whenUnauthorized(signOut);
  document.addEventListener("click", (event) => {
    const anchor = event.target.closest?.("a[data-nav]");
    if (!anchor || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return; // new tab
    event.preventDefault();
    go(anchor.getAttribute("href"));
  });
  addEventListener("console:navigate", () => route({ focus: true }));
  addEventListener("popstate", () => {
    // The skip link's #main is history too: a hash alone changes no page.
    if (location.pathname + location.search !== routed) route({ focus: true });
  });
  if (!session.key) {
    showSignIn("");
    return;
  }
  try {
    keep(session.key, await api("/v1/keys/me"));
  } catch (error) {
    forget();
    showSignIn(error instanceof ApiError && error.status === 401 ? "The saved key is no longer accepted. Sign in again." : error.message, "error");
    return;
  }
  route();
}

start();
