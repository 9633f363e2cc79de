// One monitor's page (every role): what it watches and when, and its recent checks with their
// evidence and incident. Read-only: admins change monitors with the CLI or the API.

import { api, fail, go, h, link, note, pageNumber, pager, promptPath, table } from "./core.js";
import { exactTime, facts, withQuery } from "./obs.js";
import { cadence, eventBadge, evidenceSummary, incidentPath, monitorApi, monitorPath, readOnlyNote, watched } from "./monitors.js";

export const PAGE_SIZE = 50;
const STATUSES = ["running", "fired", "ok", "insufficient", "superseded", "error", "timed_out"];

function monitorFacts(monitor) {
  return facts(
    [
      ["Watches", watched(monitor)],
      ["Trigger", monitor.trigger],
      ["Schedule or signal", cadence(monitor)],
      ["Enabled", monitor.enabled ? "yes" : "no (paused)"],
      ["Next due", monitor.enabled ? exactTime(monitor.next_due_at) : "–"],
      ["Description", monitor.description || "–"],
      ["Created", `${exactTime(monitor.created_at)} by ${monitor.created_by}`],
      ["Changed", `${exactTime(monitor.updated_at)} by ${monitor.updated_by}`],
    ],
    { id: "monitor-facts" },
  );
}

function eventRow(e) {
  const incident = e.evidence?.incident_id;
  return h(
    "tr",
    { "data-event": e.id, class: e.status === "fired" ? "failing" : null },
    h("td", { class: "num", text: `#${e.id}` }),
    h("td", {}, eventBadge(e.status)),
    h("td", { class: "clip" }, h("code", { text: e.period_key })),
    h("td", {}, link(promptPath(e.prompt, e.version != null ? `?version=${e.version}` : ""), `${e.prompt}${e.version != null ? `@v${e.version}` : ""}`), h("span", { class: "hint", text: ` (${e.label})` })),
    h("td", { class: "nowrap", text: exactTime(e.finished_at || e.started_at) }),
    h("td", {}, evidenceSummary(e.evidence)),
    h("td", {}, incident != null ? link(incidentPath(incident), `incident #${incident}`) : "–"),
  );
}

function statusFilter(name, chosen) {
  const select = h(
    "select",
    { id: "filter-status", name: "status" },
    h("option", { value: "", text: "any" }),
    ...STATUSES.map((s) => h("option", { value: s, selected: s === chosen, text: s })),
  );
  const form = h(
    "form",
    { id: "event-filters", class: "filters", role: "search" },
    h("div", { class: "field" }, h("label", { for: "filter-status", text: "Status" }), select),
    h("button", { type: "submit", text: "Apply" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(withQuery(monitorPath(name), { status: select.value }));
  });
  return form;
}

async function drawEvents(box, name, status, page, isCurrent) {
  let result;
  try {
    result = await api(monitorApi(name, "/events"), { params: { status, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE } });
  } catch (error) {
    if (isCurrent()) fail(box, error);
    return;
  }
  if (!isCurrent()) return;
  const more = pager(result, PAGE_SIZE, page, (n) => withQuery(monitorPath(name), { status }, n));
  if (!result.items.length) {
    const why = result.total ? "No checks on this page." : status ? `No ${status} checks.` : "No checks yet: it checks when it is next due (or when a writer triggers it).";
    box.replaceChildren(...(result.total ? [note(why), more] : [note(why)]));
    return;
  }
  const headers = ["Check", "Status", "Period", "Version checked", "Ended", "Evidence", "Incident"];
  box.replaceChildren(table("Checks", headers, result.items.map(eventRow), { id: "event-table" }), more);
}

/** Render /console/monitors/<name>?status=&page=: the monitor (one request), its checks (one). */
export async function monitorPage(main, { params: [name], query, isCurrent }) {
  const status = STATUSES.includes(query.get("status")) ? query.get("status") : "";
  const page = pageNumber(query);
  const box = h("div", { id: "monitor-box" }, note("Loading…", "loading"));
  const events = h("div", { id: "event-results" }, note("Loading…", "loading"));
  const log = h("section", { "aria-labelledby": "events-title" }, h("h2", { id: "events-title", text: "Recent checks" }), statusFilter(name, status), events);
  main.replaceChildren(h("p", { class: "crumbs" }, link("/console/monitors", "Monitors"), " / "), h("h1", { tabindex: "-1", text: name }), box, log, readOnlyNote());
  const [monitor] = await Promise.allSettled([api(monitorApi(name)), drawEvents(events, name, status, page, isCurrent)]);
  if (!isCurrent()) return;
  if (monitor.status === "rejected") {
    fail(box, monitor.reason);
    log.hidden = true; // the same refusal (404) twice says nothing more
    return;
  }
  box.replaceChildren(monitorFacts(monitor.value));
}
