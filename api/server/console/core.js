// The console's kernel: DOM building, the JSON API client, the signed-in key and its role.
// Text reaches the DOM through textContent only (the CSP requires Trusted Types for sinks).

// The dashboard (/dashboard, same origin) reads the same entry: one sign-in for both.
const KEY_STORAGE = "promptlane.console.key";
const RANK = { reader: 0, writer: 1, admin: 2 };
// What each action needs; later pages add theirs. Unknown actions are never allowed.
const NEEDS = {
  "prompts.read": "reader",
  "prompts.render": "reader",
  "prompts.publish": "writer",
  "labels.move": "writer",
  "labels.force": "admin", // a policy may lower its force_role; the server has the last word
  "runs.start": "writer",
  "keys.manage": "admin",
  "gateway.call": "reader", // the playground: the gateway takes reader keys (applications' keys)
  "calls.read": "writer", // a call may hold recorded message content (GET /v1/generations)
  "traces.read": "reader",
  "datasets.curate": "writer", // add recorded calls to a dataset (from-generations)
  "webhooks.manage": "admin", // a URL the server calls, and its secret, are admins' alone
  "incidents.read": "reader",
  "incidents.resolve": "writer", // closes the record only: no label, pin or policy changes
  "monitors.read": "reader", // creating and changing them is admins' (CLI or API, not here)
};

/** The signed-in key (kept in sessionStorage only), its name and role. */
export const session = { key: sessionStorage.getItem(KEY_STORAGE), name: null, role: null };

/** Whether the signed-in key's role may do `action` (a name from NEEDS). */
export function can(action) {
  const needed = NEEDS[action];
  return needed !== undefined && session.role in RANK && RANK[session.role] >= RANK[needed];
}

/** Remember a key whose identity the server confirmed. */
export function keep(key, identity) {
  Object.assign(session, { key, name: identity.name, role: identity.role });
  sessionStorage.setItem(KEY_STORAGE, key);
}

/** Forget the key (sign out). */
export function forget() {
  Object.assign(session, { key: null, name: null, role: null });
  sessionStorage.removeItem(KEY_STORAGE);
}

/** Create an element: attributes (`text` sets textContent, `on<event>` adds a listener) and children. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((c) => c != null && c !== false));
  return node;
}

/** Return a paragraph for an empty or loading state. */
export function note(text, kind = "empty") {
  return h("p", { class: `state ${kind}`, text });
}

/** Return the console URL of a prompt page (each name segment encoded; '/' kept). */
export function promptPath(name, suffix = "") {
  return `/console/prompts/${name.split("/").map(encodeURIComponent).join("/")}${suffix}`;
}

/** Return the API path of a prompt (`/v1/prompts/<name><suffix>`). */
export function promptApi(name, suffix = "") {
  return `/v1/prompts/${name.split("/").map(encodeURIComponent).join("/")}${suffix}`;
}

/** Return the console URL of a run page, with an optional query (`{ item: 3 }`). */
export function runPath(id, query = {}) {
  const search = new URLSearchParams(Object.entries(query).filter(([, v]) => v != null && v !== ""));
  return `/console/runs/${id}${search.size ? `?${search}` : ""}`;
}

/** Return the console URL comparing run `base` with run `head` (`changed`: only changed items). */
export function comparePath(base, head, { changed = false, page = 1 } = {}) {
  const query = new URLSearchParams({ base: String(base), head: String(head) });
  if (changed) query.set("changed", "1");
  if (page > 1) query.set("page", String(page));
  return `/console/runs/compare?${query}`;
}

/** Go to a console URL without reloading (app.js routes on this event). */
export function go(href) {
  history.pushState(null, "", href);
  dispatchEvent(new Event("console:navigate"));
}

/** A link the console follows without reloading (see app.js). */
export function link(href, text, attrs = {}) {
  return h("a", { href, "data-nav": true, text, ...attrs });
}

/** An API answer other than 2xx: the problem JSON's title and detail (RFC 9457). */
export class ApiError extends Error {
  constructor(status, title, detail, errors = [], problem = {}) {
    super(detail || title);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.errors = errors;
    this.problem = problem; // the whole body: a 409 gate refusal carries its report in `gate`
  }
}

/** Call the JSON API with the signed-in key; throw ApiError unless it answers 2xx. */
export async function api(path, { params = {}, method = "GET", body, key = session.key } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params)) {
    if (value != null && value !== "") url.searchParams.append(name, String(value));
  }
  const headers = { Authorization: `Bearer ${key}`, Accept: "application/json, application/problem+json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ApiError(0, "Server unreachable", "The server could not be reached; is it running?");
  }
  if (response.status === 204) return null; // a DELETE: no body
  if (response.ok) return response.json();
  let problem = {};
  try {
    problem = await response.json();
  } catch {
    // not problem JSON (a proxy's error page): the status line says enough
  }
  const title = problem.title || response.statusText || "Request failed";
  const errors = Array.isArray(problem.errors) ? problem.errors : [];
  throw new ApiError(response.status, `${title} (${response.status})`, problem.detail || "", errors, problem);
}

/** Return an alert showing an error: the problem's title, detail and field errors. */
export function problemView(error) {
  if (!(error instanceof ApiError)) error = new ApiError(0, "Unexpected error", String(error));
  const fields = error.errors.map((e) =>
    h("li", { text: [e.pointer || e.parameter || e.header, e.detail || e.msg].filter(Boolean).join(": ") || JSON.stringify(e) }),
  );
  return h(
    "div",
    { class: "problem", role: "alert", "data-status": error.status },
    h("p", { class: "problem-title", text: error.title }),
    error.detail ? h("p", { class: "problem-detail", text: error.detail }) : null,
    fields.length ? h("ul", { class: "problem-errors" }, ...fields) : null,
  );
}

let onUnauthorized = () => {};

/** Set what happens when the server refuses the key (app.js: back to sign-in). */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/** Show `error` in `container`; a refused key (401) signs out instead. */
export function fail(container, error) {
  if (error instanceof ApiError && error.status === 401) {
    onUnauthorized(`The server no longer accepts this API key: ${error.detail || error.title}. Sign in again.`);
    return;
  }
  container.replaceChildren(problemView(error));
}

/** Return a scrollable table with a (visually hidden) caption. */
export function table(caption, headers, rows, attrs = {}) {
  const head = h("tr", {}, ...headers.map((t) => h("th", { scope: "col", text: t })));
  return h(
    "div",
    { class: "table-wrap" },
    h("table", attrs, h("caption", { class: "visually-hidden", text: caption }), h("thead", {}, head), h("tbody", {}, ...rows)),
  );
}

/** Return chips ("production → v2") for label/version pairs. */
export function chips(items) {
  return h("span", { class: "chips" }, ...items.map((text) => h("span", { class: "chip", text })));
}

const dateTime = new Intl.DateTimeFormat("en-US", {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
  timeZone: "UTC",
});

/** Format a timestamp as a UTC date and time. */
export function when(value) {
  return value ? `${dateTime.format(new Date(value))} UTC` : "–";
}

/** Format a cost in US dollars ("–" when unknown). */
export function money(value) {
  if (value == null) return "–";
  return `$${value < 0.01 && value > 0 ? value.toPrecision(2) : value.toFixed(value < 10 ? 4 : 2)}`;
}

/** Format the time between two timestamps ("–" until both are known). */
export function duration(start, end) {
  if (!start || !end) return "–";
  const seconds = (new Date(end) - new Date(start)) / 1000;
  return seconds < 60 ? `${seconds.toFixed(1)} s` : `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

/** Return the page number in `query` (1 when missing or not a positive integer). */
export function pageNumber(query) {
  return Math.max(1, Number.parseInt(query.get("page") || "1", 10) || 1);
}

/** Return a pager for one page of an API list; `hrefFor(n)` is the console URL of page n. */
export function pager(result, size, page, hrefFor, attrs = {}) {
  const pages = Math.max(1, Math.ceil(result.total / size));
  const first = result.total ? result.offset + 1 : 0;
  const last = result.offset + result.items.length;
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages", ...attrs },
    page > 1 ? link(hrefFor(page - 1), "← Previous", { rel: "prev" }) : null,
    h("span", { class: "pager-status", text: `${first}–${last} of ${result.total} · page ${page} of ${pages}` }),
    page < pages ? link(hrefFor(page + 1), "Next →", { rel: "next" }) : null,
  );
}
