// One call's page: what was sent and answered (when recorded), usage, outcome, scores with their
// reasons, safety flags, attributes, and links to its prompt version, its run and its trace.

import { api, fail, h, link, note, promptApi, runPath, table } from "./core.js";
import {
  cost,
  dashboardHref,
  exactTime,
  facts,
  flagChips,
  modelOf,
  ms,
  outcome,
  promptCell,
  scoreFailed,
  scoreText,
  tokens,
  tracePath,
  withQuery,
} from "./obs.js";

const NOT_RECORDED =
  "Not recorded: this server keeps a call's messages and answer only with PROMPTLANE_TRACING_RECORD_CONTENT=true (and, without it, only while online evaluation scores the call).";
const REQUEST = "gen_ai.request.";

function textOf(value) {
  if (value == null) return "";
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function summaryView(call) {
  const model = call.request_model && call.response_model && call.request_model !== call.response_model
    ? `${call.request_model} → ${call.response_model}`
    : modelOf(call);
  return facts(
    [
      ["Time", exactTime(call.started_at)],
      ["Prompt", promptCell(call)],
      ["Content hash", call.content_hash ? h("code", { title: call.content_hash, text: call.content_hash.slice(0, 12) }) : "–"],
      ["Model", h("span", { id: "call-model", text: model })],
      ["Provider", call.provider],
      ["Tokens", h("span", { id: "call-tokens", text: tokens(call.input_tokens, call.output_tokens) })],
      ["Cost", h("span", { id: "call-cost", text: cost(call.cost_usd) })],
      ["Latency", ms(call.duration_ms)],
      ["Outcome", outcome(call)],
      ["Source", call.source + (call.is_duplicate ? " (client span of a gateway call: not counted)" : "")],
      ["Service", call.service_name],
      ["Operation", call.operation],
      ["Run", call.run_id != null ? link(runPath(call.run_id), `run #${call.run_id}`) : "–"],
      ["Online evaluation", [call.online_eval, call.attributes?.["promptlane.online_eval.reason"]].filter(Boolean).join(": ") || "not sampled"],
      ["Trace", link(tracePath(call.trace_id, call.span_id), call.trace_id, { id: "call-trace" })],
      ["Span", h("code", { text: call.span_id })],
      ["Response id", call.response_id],
    ],
    { id: "call-summary" },
  );
}

function messagesView(call) {
  if (!call.input_messages) return note(NOT_RECORDED);
  return h(
    "div",
    { id: "call-messages" },
    ...call.input_messages.map((m, i) =>
      h("div", { class: "message", "data-index": i }, h("p", { class: "message-role", text: m.role ?? "message" }), h("pre", { text: textOf(m.content ?? m) })),
    ),
  );
}

function outputView(call) {
  if (call.output_text == null) return note(call.is_error ? "No answer: the call failed." : NOT_RECORDED);
  return h("pre", { id: "call-output", text: call.output_text });
}

function scoresView(call) {
  const entries = Object.entries(call.scores || {}).sort(([a], [b]) => a.localeCompare(b));
  if (!entries.length) return note("No scores.");
  const rows = entries.map(([name, raw]) =>
    h(
      "tr",
      { "data-metric": name, class: scoreFailed(raw) ? "failing" : null },
      h("th", { scope: "row", text: name }),
      h("td", { text: scoreText(raw) }),
      h("td", { text: (typeof raw === "object" && raw?.reason) || "–" }),
      h("td", { class: "num", text: typeof raw === "object" ? cost(raw?.cost_usd) : "–" }),
    ),
  );
  return table("Scores", ["Metric", "Score", "Reason", "Cost"], rows, { id: "call-scores" });
}

function attributeTable(id, caption, entries) {
  const rows = entries.map(([key, value]) => h("tr", { "data-key": key }, h("th", { scope: "row", text: key }), h("td", {}, h("code", { class: "value", text: textOf(value) }))));
  return table(caption, ["Attribute", "Value"], rows, { id, class: "attributes" });
}

function attributesView(call) {
  const entries = Object.entries(call.attributes || {}).sort(([a], [b]) => a.localeCompare(b));
  const request = entries.filter(([k]) => k.startsWith(REQUEST));
  const other = entries.filter(([k]) => !k.startsWith(REQUEST));
  return h(
    "div",
    {},
    request.length ? attributeTable("call-parameters", "Request parameters", request) : note("The call recorded no request parameters (gen_ai.request.*)."),
    other.length ? h("div", {}, h("h3", { text: "Other attributes" }), attributeTable("call-attributes", "Other attributes", other)) : null,
    call.finish_reasons?.length ? h("p", {}, `Finish reasons: ${call.finish_reasons.join(", ")}`) : null,
  );
}

// The gateway records no request parameters on its calls: the version's config is what it sent,
// unless the request overrode some of them.
async function configView(call, container, isCurrent) {
  if (!call.prompt || call.version == null) return;
  try {
    const version = await api(promptApi(call.prompt, `/versions/${call.version}`));
    if (!isCurrent()) return;
    container.replaceChildren(
      h("h3", { text: `Config of ${call.prompt}@v${call.version}` }),
      h("p", { class: "hint", text: "The version's LLM config; a request may override some parameters." }),
      h("pre", { id: "call-config", text: JSON.stringify(version.config, null, 2) }),
    );
  } catch (error) {
    if (isCurrent()) fail(container, error);
  }
}

function section(id, title, ...body) {
  return h("section", { "aria-labelledby": id }, h("h2", { id, text: title }), ...body);
}

/** Render /console/calls/<id>: the call (one request) and its prompt version's config (one). */
export async function callPage(main, { params, isCurrent }) {
  const id = params[0];
  const title = h("h1", { tabindex: "-1", text: `Call #${id}` });
  main.replaceChildren(h("p", { class: "crumbs" }, link("/console/calls", "Calls"), " / "), title, note("Loading…", "loading"));
  let call;
  try {
    call = await api(`/v1/generations/${encodeURIComponent(id)}`);
  } catch (error) {
    if (isCurrent()) fail(main.lastChild, error);
    return;
  }
  if (!isCurrent()) return;
  const config = h("div", { id: "call-config-box" });
  const related = call.prompt
    ? h(
        "p",
        { class: "related" },
        link(withQuery("/console/calls", { prompt: call.prompt, version: call.version }), `Other calls of ${call.prompt}${call.version != null ? `@v${call.version}` : ""}`),
        " · ",
        h("a", { href: dashboardHref(call.prompt), text: "Charts per version (dashboard)" }),
      )
    : null;
  main.lastChild.replaceWith(
    h(
      "div",
      { class: "call-page", "data-error": String(call.is_error) },
      related,
      section("call-summary-title", "Summary", summaryView(call)),
      section("call-messages-title", "Messages", messagesView(call)),
      section("call-output-title", "Output", outputView(call)),
      section("call-scores-title", "Scores", scoresView(call)),
      section("call-flags-title", "Safety flags", h("p", { id: "call-flags" }, flagChips(call.safety_flags))),
      section("call-attributes-title", "Parameters and attributes", attributesView(call), config),
    ),
  );
  configView(call, config, isCurrent);
}
