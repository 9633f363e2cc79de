// Label incidents (every role reads them): open ones first, filtered by state, prompt and label.

import { api, fail, go, h, link, note, pageNumber, pager, promptPath, table } from "./core.js";
import { exactTime, formParams, withQuery } from "./obs.js";
import { incidentPath } from "./monitors.js";

export const PAGE_SIZE = 50;
const OPEN_MAX = 200; // one open incident per label: all of them on one page
const STATES = ["open", "resolved"];

/** Return an incident's state as a badge (open bad, resolved good). */
export function incidentBadge(incident) {
  const state = incident.is_open ? "open" : "resolved";
  return h("span", { class: `badge ${incident.is_open ? "bad" : "good"}`, "data-value": state, text: state });
}

/** Return the console URL of a prompt's page showing `label` (its history). */
export function labelPath(prompt, label) {
  return promptPath(prompt, `?${new URLSearchParams({ label })}`);
}

function incidentRow(incident) {
  return h(
    "tr",
    { "data-incident": incident.id, class: incident.is_open ? "failing" : null },
    h("td", {}, link(incidentPath(incident.id), `#${incident.id}`, { "aria-label": `Incident ${incident.id}` })),
    h("td", {}, link(promptPath(incident.prompt), incident.prompt)),
    h("td", {}, link(labelPath(incident.prompt, incident.label), incident.label)),
    h("td", { class: "nowrap", text: exactTime(incident.opened_at) }),
    h("td", { class: "num", text: String(incident.firings) }),
    h("td", {}, incidentBadge(incident)),
    h("td", { class: "clip", text: incident.is_open ? "–" : `${exactTime(incident.resolved_at)} by ${incident.resolved_by}` }),
  );
}

function filters(chosen) {
  const state = h(
    "select",
    { id: "filter-state", name: "state" },
    h("option", { value: "", text: "open first, then resolved" }),
    ...STATES.map((s) => h("option", { value: s, selected: s === chosen.state, text: s })),
  );
  const text = (name, label) =>
    h("div", { class: "field" }, h("label", { for: `filter-${name}`, text: label }), h("input", { id: `filter-${name}`, name, value: chosen[name], maxlength: name === "prompt" ? 200 : 64, spellcheck: "false", autocomplete: "off" }));
  const form = h(
    "form",
    { id: "incident-filters", class: "filters", role: "search" },
    h("div", { class: "field" }, h("label", { for: "filter-state", text: "State" }), state),
    text("prompt", "Prompt"),
    text("label", "Label"),
    h("button", { type: "submit", text: "Apply" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(withQuery("/console/incidents", formParams(form, ["state", "prompt", "label"])));
  });
  return form;
}

async function load(chosen, page) {
  const base = { prompt: chosen.prompt, label: chosen.label };
  const paged = { ...base, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE };
  if (chosen.state) return { listed: await api("/v1/incidents", { params: { ...paged, open: chosen.state === "open" } }), open: null };
  // Open first: every open incident on page 1, the resolved ones paged after them.
  const [open, listed] = await Promise.all([
    page === 1 ? api("/v1/incidents", { params: { ...base, open: true, limit: OPEN_MAX, offset: 0 } }) : null,
    api("/v1/incidents", { params: { ...paged, open: false } }),
  ]);
  return { listed, open };
}

/** Render /console/incidents?state=&prompt=&label=&page=: open ones first, then resolved ones. */
export async function incidentsPage(main, { query, isCurrent }) {
  const chosen = {
    state: STATES.includes(query.get("state")) ? query.get("state") : "",
    prompt: query.get("prompt") || "",
    label: query.get("label") || "",
  };
  const page = pageNumber(query);
  const results = h("div", { id: "incident-results" }, note("Loading…", "loading"));
  main.replaceChildren(
    h("h1", { tabindex: "-1", text: "Incidents" }),
    h("p", { class: "hint", text: "A monitor that fires on a label opens an incident on it; a writer resolves it with a reason (docs/monitoring.md)." }),
    filters(chosen),
    results,
  );
  let found;
  try {
    found = await load(chosen, page);
  } catch (error) {
    if (isCurrent()) fail(results, error);
    return;
  }
  if (!isCurrent()) return;
  const { listed, open } = found;
  const items = [...(open?.items ?? []), ...listed.items];
  const more = pager(listed, PAGE_SIZE, page, (n) => withQuery("/console/incidents", chosen, n), { "aria-label": chosen.state ? "Pages" : "Pages of resolved incidents" });
  const cut = open && open.total > open.items.length ? note(`Showing the newest ${open.items.length} of ${open.total} open incidents.`) : null;
  if (!items.length) {
    const what = chosen.state ? `${chosen.state} incidents` : "incidents";
    const why = listed.total || open?.total ? "No incidents on this page." : `No ${what}${chosen.prompt || chosen.label ? " match these filters" : " yet"}.`;
    results.replaceChildren(...[note(why), listed.total ? more : null].filter(Boolean));
    return;
  }
  const headers = ["Incident", "Prompt", "Label", "Opened", "Firings", "Status", "Resolved"];
  results.replaceChildren(...[table("Incidents", headers, items.map(incidentRow), { id: "incident-table" }), cut, more].filter(Boolean));
}
