// The traces list: traces applications sent over OTLP, newest first, filtered from the URL.

import { api, fail, go, h, link, note, pageNumber, pager, table } from "./core.js";
import { cost, exactTime, formParams, ms, timeFields, timeFilter, timeParams, timeText, tokens, tracePath, withQuery } from "./obs.js";

export const PAGE_SIZE = 50;
const FILTERS = ["service", "prompt", "errors", "range", "start", "end"];

function readFilters(query) {
  const filters = Object.fromEntries(FILTERS.map((name) => [name, query.get(name) || ""]));
  if (!["true", "false"].includes(filters.errors)) filters.errors = ""; // a hand-edited URL
  return { ...filters, ...timeFilter(query) };
}

function filterForm(filters) {
  const text = (name, label, placeholder) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: `filter-${name}`, text: label }),
      h("input", { id: `filter-${name}`, name, type: "search", value: filters[name], maxlength: 200, spellcheck: "false", placeholder }),
    );
  const errors = h(
    "select",
    { id: "filter-errors", name: "errors" },
    ...[["", "any"], ["true", "with errors"], ["false", "without errors"]].map(([value, label]) => h("option", { value, selected: value === filters.errors, text: label })),
  );
  const form = h(
    "form",
    { id: "trace-filters", class: "filters", role: "search" },
    text("service", "Service", "exact name"),
    text("prompt", "Prompt", "a call's prompt"),
    h("div", { class: "field" }, h("label", { for: "filter-errors", text: "Errors" }), errors),
    ...timeFields(filters),
    h("button", { type: "submit", text: "Apply" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(withQuery("/console/traces", formParams(form, FILTERS)));
  });
  return form;
}

function traceRow(trace) {
  return h(
    "tr",
    { "data-trace": trace.trace_id, class: trace.errors ? "failing" : null },
    h("td", {}, link(tracePath(trace.trace_id), trace.trace_id.slice(0, 12), { title: trace.trace_id, class: "mono" })),
    h("td", { text: trace.name ?? "(root not received)" }),
    h("td", { text: trace.service_name ?? "–" }),
    h("td", { class: "nowrap", text: exactTime(trace.started_at) }),
    h("td", { class: "num", text: ms(trace.duration_ms) }),
    h("td", { class: "num", text: String(trace.spans) }),
    h("td", { class: trace.errors ? "num error-text" : "num", text: String(trace.errors) }),
    h("td", { class: "num", text: String(trace.generations) }),
    h("td", { class: "num nowrap", text: trace.generations ? tokens(trace.input_tokens, trace.output_tokens) : "–" }),
    h("td", { class: "num", text: cost(trace.cost_usd) }),
  );
}

/** Render /console/traces: one request for the page of traces. */
export async function tracesPage(main, { query, isCurrent }) {
  const filters = readFilters(query);
  const page = pageNumber(query);
  const results = h("div", { id: "trace-results" }, note("Loading…", "loading"));
  main.replaceChildren(
    h("h1", { tabindex: "-1", text: "Traces" }),
    h("p", { class: "hint", text: "Traces applications sent over OTLP (POST /v1/traces). A gateway or eval-run call has a trace page too, reached from the call." }),
    filterForm(filters),
    results,
  );
  const params = {
    service: filters.service,
    prompt: filters.prompt,
    errors: filters.errors,
    ...timeParams(filters),
    limit: PAGE_SIZE,
    offset: (page - 1) * PAGE_SIZE,
  };
  let result;
  try {
    result = await api("/v1/traces", { params });
  } catch (error) {
    if (isCurrent()) fail(results, error);
    return;
  }
  if (!isCurrent()) return;
  const kept = Object.fromEntries(FILTERS.map((name) => [name, filters[name]]));
  const more = pager(result, PAGE_SIZE, page, (n) => withQuery("/console/traces", kept, n));
  if (!result.items.length) {
    const narrowed = filters.service || filters.prompt || filters.errors;
    const why = result.total ? "No traces on this page." : narrowed ? `No traces match these filters in ${timeText(filters)}.` : `No traces received in ${timeText(filters)}.`;
    results.replaceChildren(...(result.total ? [note(why), more] : [note(why)]));
    return;
  }
  const headers = ["Trace", "Root span", "Service", "Started", "Duration", "Spans", "Errors", "Calls", "Tokens", "Cost"];
  results.replaceChildren(table("Traces", headers, result.items.map(traceRow), { id: "trace-table" }), more);
}
