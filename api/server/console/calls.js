// The calls list: recorded LLM calls (generations), filtered from the URL, one page at a time.

import { api, can, fail, go, h, link, note, pageNumber, pager, table } from "./core.js";
import { curatePanel, tickBox } from "./curate.js";
import {
  callPath,
  cost,
  dashboardHref,
  exactTime,
  flagChips,
  formParams,
  modelOf,
  ms,
  outcome,
  promptCell,
  scoresLine,
  timeFields,
  timeFilter,
  timeParams,
  timeText,
  tokens,
  tracePath,
  withQuery,
} from "./obs.js";

export const PAGE_SIZE = 50;
const SOURCES = ["gateway", "ingest", "run"];
const TEXT_FILTERS = ["prompt", "version", "label", "model"];
const FILTERS = [...TEXT_FILTERS, "source", "errors", "range", "start", "end"];

function readFilters(query) {
  const filters = Object.fromEntries(FILTERS.map((name) => [name, query.get(name) || ""]));
  // A hand-edited URL: values the form cannot show are dropped, not sent.
  if (!SOURCES.includes(filters.source)) filters.source = "";
  if (!["true", "false"].includes(filters.errors)) filters.errors = "";
  return { ...filters, ...timeFilter(query) };
}

function select(name, label, options, chosen) {
  return h(
    "div",
    { class: "field" },
    h("label", { for: `filter-${name}`, text: label }),
    h("select", { id: `filter-${name}`, name }, ...options.map(([value, text]) => h("option", { value, selected: value === chosen, text }))),
  );
}

function filterForm(filters) {
  const text = (name, label, attrs) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: `filter-${name}`, text: label }),
      h("input", { id: `filter-${name}`, name, value: filters[name], spellcheck: "false", ...attrs }),
    );
  const form = h(
    "form",
    { id: "call-filters", class: "filters", role: "search" },
    text("prompt", "Prompt", { type: "search", maxlength: 200, placeholder: "exact name" }),
    text("version", "Version", { type: "number", min: 1, step: 1, class: "narrow" }),
    text("label", "Label", { type: "search", maxlength: 64, class: "narrow" }),
    text("model", "Model", { type: "search", maxlength: 200 }),
    select("source", "Source", [["", "any"], ...SOURCES.map((s) => [s, s])], filters.source),
    select("errors", "Outcome", [["", "any"], ["true", "errors only"], ["false", "no errors"]], filters.errors),
    ...timeFields(filters),
    h("button", { type: "submit", text: "Apply" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(withQuery("/console/calls", formParams(form, FILTERS)));
  });
  return form;
}

function callRow(call) {
  const tick = tickBox(call);
  return h(
    "tr",
    { "data-call": call.id, "data-trace": call.trace_id, class: call.is_error ? "failing" : null },
    tick ? h("td", {}, tick) : null,
    h("td", { class: "nowrap" }, link(callPath(call.id), exactTime(call.started_at).replace(" UTC", ""), { "aria-label": `Call ${call.id}` })),
    h("td", {}, promptCell(call)),
    h("td", { text: modelOf(call) }),
    h("td", { class: "num nowrap", text: tokens(call.input_tokens, call.output_tokens) }),
    h("td", { class: "num", text: cost(call.cost_usd) }),
    h("td", { class: "num", text: ms(call.duration_ms) }),
    h("td", {}, outcome(call)),
    h("td", {}, call.safety_flags.length ? flagChips(call.safety_flags) : "–"),
    h("td", { class: "clip", text: scoresLine(call.scores) }),
    h("td", {}, link(tracePath(call.trace_id, call.span_id), "trace", { "aria-label": `Trace of call ${call.id}` })),
  );
}

function emptyText(result, filters) {
  if (result.total) return "No calls on this page.";
  const narrowed = TEXT_FILTERS.some((name) => filters[name]) || filters.source || filters.errors;
  if (narrowed) return `No calls match these filters in ${timeText(filters)}.`;
  return `No calls recorded in ${timeText(filters)}. Calls made through the gateway (/v1/chat/completions), by eval runs, or reported over OTLP (POST /v1/traces) show up here.`;
}

/** Render /console/calls: one request for the page of calls. */
export async function callsPage(main, { query, isCurrent }) {
  const title = h("h1", { tabindex: "-1", text: "Calls" });
  if (!can("calls.read")) {
    // The server refuses readers (rows may hold recorded message content); say why up front.
    main.replaceChildren(
      title,
      note("Calls may hold recorded message content, so listing them takes a writer or admin key. A reader key sees each call's model, tokens, cost and scores in its trace."),
      h("p", {}, link("/console/traces", "Go to the traces")),
    );
    return;
  }
  const filters = readFilters(query);
  const page = pageNumber(query);
  const results = h("div", { id: "call-results" }, note("Loading…", "loading"));
  const charts = filters.prompt
    ? h("p", { class: "hint" }, h("a", { href: dashboardHref(filters.prompt), id: "call-charts", text: `Charts of ${filters.prompt} per version` }), " (the dashboard, same key)")
    : null;
  main.replaceChildren(...[title, filterForm(filters), charts, curatePanel(filters, results), results].filter(Boolean));
  const params = {
    ...Object.fromEntries(["prompt", "version", "label", "model", "source", "errors"].map((n) => [n, filters[n]])),
    ...timeParams(filters),
    limit: PAGE_SIZE,
    offset: (page - 1) * PAGE_SIZE,
  };
  let result;
  try {
    result = await api("/v1/generations", { params });
  } catch (error) {
    if (isCurrent()) fail(results, error);
    return;
  }
  if (!isCurrent()) return;
  const kept = Object.fromEntries(FILTERS.map((name) => [name, filters[name]]));
  const more = pager(result, PAGE_SIZE, page, (n) => withQuery("/console/calls", kept, n));
  if (!result.items.length) {
    const why = note(emptyText(result, filters));
    results.replaceChildren(...(result.total ? [why, more] : [why]));
    return;
  }
  const headers = [...(can("datasets.curate") ? ["Select"] : []), "Time (UTC)", "Prompt", "Model", "Tokens", "Cost", "Latency", "Outcome", "Flags", "Scores", "Trace"];
  results.replaceChildren(table("Calls", headers, result.items.map(callRow), { id: "call-table" }), more);
}
