// A trace's page: its spans as a tree and a waterfall (offset and duration bars drawn with CSS
// widths); selecting a span shows its attributes and, for a model call, the call's summary.

import { api, fail, h, link, note, table } from "./core.js";
import {
  callLink,
  cost,
  exactTime,
  facts,
  flagChips,
  modelOf,
  ms,
  outcome,
  promptCell,
  scoresLine,
  tokens,
  tracePath,
} from "./obs.js";

function flatten(roots) {
  const rows = [];
  const walk = (node, depth) => {
    rows.push({ node, depth });
    for (const child of node.children) walk(child, depth + 1);
  };
  for (const root of roots) walk(root, 0);
  return rows;
}

function nameOf(node) {
  if (node.name) return node.name;
  const call = node.generation;
  return call ? `${call.operation || "chat"} ${modelOf(call)}` : "(unnamed span)";
}

function kindOf(node) {
  return node.kind ?? (node.generation ? `${node.generation.source} call` : "");
}

// Offsets and widths as percentages of the trace's extent (first start to last end).
function timeline(rows) {
  const start = Math.min(...rows.map(({ node }) => Date.parse(node.started_at)));
  const end = Math.max(...rows.map(({ node }) => Date.parse(node.started_at) + (node.duration_ms ?? 0)));
  const span = Math.max(end - start, 1);
  return (node) => {
    const offset = Date.parse(node.started_at) - start;
    return { offset, left: (offset / span) * 100, width: ((node.duration_ms ?? 0) / span) * 100 };
  };
}

function bar(place, node) {
  const fill = h("span", { class: node.is_error ? "bar error" : node.generation ? "bar call" : "bar" });
  // CSSOM, not a style attribute: the CSP allows no inline styles.
  fill.style.marginLeft = `${Math.min(place.left, 100).toFixed(3)}%`;
  fill.style.width = `max(2px, ${Math.min(place.width, 100 - place.left).toFixed(3)}%)`;
  return h("span", { class: "track", "aria-hidden": "true" }, fill);
}

function spanRow(traceId, { node, depth }, place, onSelect) {
  const open = h("a", { href: tracePath(traceId, node.span_id), class: "span-link", "data-span": node.span_id, text: nameOf(node) });
  open.addEventListener("click", (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return; // a new tab
    event.preventDefault();
    onSelect(node.span_id, true);
  });
  const name = h(
    "td",
    { class: "span-cell" },
    open,
    h("span", { class: "hint", text: ` ${kindOf(node)}` }),
    node.is_error ? [" ", h("span", { class: "badge bad", text: "error" })] : null,
  );
  name.style.paddingLeft = `${0.6 + Math.min(depth, 24) * 1.1}rem`;
  return h(
    "tr",
    { "data-span": node.span_id, "data-depth": depth, class: [node.is_error ? "failing" : null, node.generation ? "generation" : null].filter(Boolean).join(" ") || null },
    name,
    h("td", { class: "nowrap", text: node.service_name ?? "–" }),
    h("td", { class: "num nowrap", text: `+${ms(place.offset)}` }),
    h("td", { class: "num nowrap", text: ms(node.duration_ms) }),
    h("td", { class: "timeline" }, bar(place, node)),
  );
}

function attributesView(node) {
  const entries = Object.entries(node.attributes || {}).sort(([a], [b]) => a.localeCompare(b));
  if (!entries.length) {
    const why = node.name ? "This span has no stored attributes." : "This call was recorded by promptlane itself (gateway or eval run), not sent as a span: its fields are the call's.";
    return note(why);
  }
  const rows = entries.map(([key, value]) =>
    h("tr", { "data-key": key }, h("th", { scope: "row", text: key }), h("td", {}, h("code", { class: "value", text: typeof value === "string" ? value : JSON.stringify(value) }))),
  );
  return table("Span attributes", ["Attribute", "Value"], rows, { id: "span-attributes", class: "attributes" });
}

function callView(call) {
  return h(
    "div",
    { id: "span-call" },
    h("h3", { text: "Model call" }),
    facts([
      ["Call", callLink(call.id, `Call #${call.id}`)],
      ["Prompt", promptCell(call)],
      ["Model", modelOf(call)],
      ["Tokens", tokens(call.input_tokens, call.output_tokens)],
      ["Cost", cost(call.cost_usd)],
      ["Latency", ms(call.duration_ms)],
      ["Outcome", outcome(call)],
      ["Scores", scoresLine(call.scores)],
      ["Safety flags", flagChips(call.safety_flags)],
      ["Source", call.source + (call.is_duplicate ? " (client span of a gateway call)" : "")],
    ]),
  );
}

function detailView(node, place) {
  const prompt = node.prompt ? promptCell({ prompt: node.prompt, version: node.version, label: node.label }) : "–";
  const status = node.is_error ? `error${node.status_message ? `: ${node.status_message}` : ""}` : "ok";
  const spanOnly = node.name ? [["Scope", node.scope], ["Prompt link", prompt]] : []; // a call has its own
  return [
    h("h2", { id: "span-title", tabindex: "-1", text: nameOf(node) }),
    facts([
      ["Kind", kindOf(node) || "–"],
      ["Service", node.service_name],
      ["Status", h("span", { class: node.is_error ? "error-text" : null, text: status })],
      ["Started", `${exactTime(node.started_at)} (+${ms(place.offset)})`],
      ["Duration", ms(node.duration_ms)],
      ["Span id", h("code", { text: node.span_id })],
      ["Parent", node.parent_span_id ? h("code", { text: node.parent_span_id }) : "none (a root)"],
      ...spanOnly,
    ], { id: "span-facts" }),
    node.generation ? callView(node.generation) : null,
    h("h3", { text: "Attributes" }),
    attributesView(node),
  ].filter(Boolean);
}

function summaryView(trace) {
  return facts(
    [
      ["Trace id", h("code", { text: trace.trace_id })],
      ["Started", exactTime(trace.started_at)],
      ["Duration", ms(trace.duration_ms)],
      ["Spans", String(trace.spans)],
      ["Calls", String(trace.generations)],
      ["Errors", String(trace.errors)],
      ["Tokens", trace.generations ? tokens(trace.input_tokens, trace.output_tokens) : "–"],
      ["Cost", cost(trace.cost_usd)],
    ],
    { id: "trace-summary" },
  );
}

/** Render /console/traces/<id>?span=: the trace (one request); selecting a span needs none. */
export async function tracePage(main, { params, query, isCurrent }) {
  const id = params[0];
  const title = h("h1", { tabindex: "-1", text: `Trace ${id.slice(0, 12)}` });
  main.replaceChildren(h("p", { class: "crumbs" }, link("/console/traces", "Traces"), " / "), title, note("Loading…", "loading"));
  let trace;
  try {
    trace = await api(`/v1/traces/${encodeURIComponent(id)}`);
  } catch (error) {
    if (isCurrent()) fail(main.lastChild, error);
    return;
  }
  if (!isCurrent()) return;
  const rows = flatten(trace.roots);
  const placeOf = timeline(rows);
  const nodes = new Map(rows.map(({ node }) => [node.span_id, node]));
  const detail = h("aside", { id: "span-detail", class: "span-detail", "aria-live": "polite" }, note("Select a span to see its attributes."));
  const body = h("tbody", {});
  const select = (spanId, fromClick) => {
    const node = nodes.get(spanId);
    if (!node) return;
    for (const row of body.rows) row.setAttribute("aria-current", String(row.dataset.span === spanId));
    detail.replaceChildren(...detailView(node, placeOf(node)));
    if (fromClick) history.replaceState(null, "", tracePath(trace.trace_id, spanId));
    detail.querySelector("h2").focus({ preventScroll: !fromClick });
  };
  body.append(...rows.map((row) => spanRow(trace.trace_id, row, placeOf(row.node), select)));
  const headers = ["Span", "Service", "Start", "Duration", "Timeline"];
  const waterfall = h(
    "div",
    { class: "table-wrap" },
    h("table", { id: "span-table", class: "waterfall" }, h("caption", { class: "visually-hidden", text: "Spans" }), h("thead", {}, h("tr", {}, ...headers.map((t) => h("th", { scope: "col", text: t })))), body),
  );
  main.lastChild.replaceWith(
    h(
      "div",
      { class: "trace-page" },
      summaryView(trace),
      trace.truncated ? note("This trace has more spans than one answer holds: the first 10,000 are shown.") : null,
      h("section", { "aria-labelledby": "spans-title", class: "trace-layout" }, h("h2", { id: "spans-title", text: "Spans" }), waterfall, detail),
    ),
  );
  const wanted = query.get("span");
  if (wanted && nodes.has(wanted)) {
    select(wanted, false);
    body.querySelector(`tr[data-span="${CSS.escape(wanted)}"]`)?.scrollIntoView({ block: "nearest" });
  }
}
