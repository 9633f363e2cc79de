// A dataset's page: its versions and one version's items, a page at a time (never all of them).

import { api, fail, h, link, note, pageNumber, pager, promptPath, table, when } from "./core.js";
import { datasetApi, datasetPath } from "./datasets.js";
import { callLink, exactTime, tracePath } from "./obs.js";

export const ITEM_PAGE_SIZE = 50;
export const VERSION_PAGE_SIZE = 50;
const CLIP = 240; // characters of a cell before it is cut

function clipped(value) {
  if (value == null) return "–";
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  return text.length > CLIP ? `${text.slice(0, CLIP)}…` : text;
}

function positiveInt(text) {
  const n = Number.parseInt(text ?? "", 10);
  return Number.isInteger(n) && n > 0 && String(n) === text ? n : null;
}

function versionRow(name, v, selected, vpage) {
  const hash = h("code", { title: v.content_hash, text: v.content_hash.slice(0, 12) });
  return h(
    "tr",
    { "data-version": v.version, "aria-current": v.version === selected ? "true" : null },
    h("td", {}, link(datasetPath(name, { version: v.version, vpage }), `v${v.version}`)),
    h("td", { class: "num", text: String(v.item_count) }),
    h("td", {}, hash),
    h("td", { text: v.message || "–" }),
    h("td", { text: v.author || "–" }),
    h("td", { text: when(v.created_at) }),
  );
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

/** Return the recorded call an item came from (metadata.source, set by curation), or null. */
function provenance(metadata) {
  const source = metadata?.source;
  if (source == null || typeof source !== "object" || Array.isArray(source)) return null;
  const id = Number.isInteger(source.generation_id) && source.generation_id > 0 ? source.generation_id : null;
  const trace = typeof source.trace_id === "string" && TRACE_ID.test(source.trace_id) ? source.trace_id : null;
  const span = typeof source.span_id === "string" && SPAN_ID.test(source.span_id) ? source.span_id : null;
  const prompt = typeof source.prompt === "string" && source.prompt ? source.prompt : null;
  const version = Number.isInteger(source.version) && source.version > 0 ? source.version : null;
  const label = typeof source.label === "string" && source.label ? source.label : null;
  const at = typeof source.called_at === "string" ? source.called_at : null;
  return id || trace || prompt ? { id, trace, span, prompt, version, label, at } : null;
}

/** Return an item's provenance: links to its call and trace, its prompt@version (label). */
function sourceCell(metadata) {
  const source = provenance(metadata);
  if (!source) return h("td", { class: "item-source" }, h("span", { class: "hint", text: "–" }));
  const links = [
    source.id ? callLink(source.id, `Call #${source.id}`) : null, // a reader cannot open calls
    source.trace ? link(tracePath(source.trace, source.span), "trace", { class: "source-trace", "aria-label": `Trace ${source.trace}` }) : null,
  ].filter(Boolean);
  const named = source.prompt && source.version ? `${source.prompt}@v${source.version}` : source.prompt;
  const prompt = source.prompt
    ? h(
        "span",
        { class: "source-prompt" },
        source.version ? link(promptPath(source.prompt, `?version=${source.version}`), named) : named,
        source.label ? h("span", { class: "hint", text: ` (${source.label})` }) : null,
      )
    : null;
  return h(
    "td",
    { class: "item-source" },
    h("span", { class: "source-links" }, ...links.flatMap((node, i) => (i ? [" · ", node] : [node]))),
    prompt ? h("br") : null,
    prompt,
    source.at ? h("span", { class: "hint source-time", text: ` ${exactTime(source.at)}` }) : null,
  );
}

function itemRow(item) {
  const cell = (value, cls) => h("td", { class: `clip ${cls}`, text: clipped(value) });
  return h(
    "tr",
    { "data-position": item.position },
    h("td", { class: "num", text: String(item.position) }),
    cell(item.input, "item-input"),
    cell(item.expected, "item-expected"),
    h("td", { class: "num", text: String(item.contexts.length) }),
    sourceCell(item.metadata),
    cell(Object.keys(item.metadata).length ? item.metadata : null, "item-metadata"),
  );
}

function versionsView(name, result, selected, vpage) {
  if (!result.items.length) return note(result.total ? "No versions on this page." : "This dataset has no versions.");
  const more = pager(result, VERSION_PAGE_SIZE, vpage, (n) => datasetPath(name, { version: selected, vpage: n > 1 ? n : null }), {
    "aria-label": "Version pages",
  });
  const headers = ["Version", "Items", "Content hash", "Message", "Author", "Created"];
  const rows = result.items.map((v) => versionRow(name, v, selected, vpage > 1 ? vpage : null));
  return h("div", {}, table("Versions", headers, rows, { id: "dataset-versions" }), result.total > VERSION_PAGE_SIZE ? more : null);
}

function itemsView(name, version, page, vpage) {
  const offset = (page - 1) * ITEM_PAGE_SIZE;
  const result = { items: version.items ?? [], total: version.item_count, offset };
  const href = (n) => datasetPath(name, { version: version.version, page: n > 1 ? n : null, vpage: vpage > 1 ? vpage : null });
  const more = pager(result, ITEM_PAGE_SIZE, page, href, { "aria-label": "Item pages" });
  if (!result.items.length) return h("div", {}, note(result.total ? "No items on this page." : "This version has no items."), result.total ? more : null);
  const headers = ["#", "Input", "Expected", "Contexts", "Source", "Metadata"];
  return h("div", {}, table("Items", headers, result.items.map(itemRow), { id: "dataset-items" }), more);
}

/**
 * Render /console/datasets/<name>?version=&page=&vpage=: a page of versions (one request) and a
 * page of the chosen version's items (one request; the current version when none is chosen).
 */
export async function datasetPage(main, { params, query, isCurrent }) {
  const name = params[0];
  const chosen = positiveInt(query.get("version"));
  const page = pageNumber(query);
  const vpage = Math.max(1, positiveInt(query.get("vpage")) ?? 1);
  const versionsBox = h("div", { id: "dataset-versions-box" }, note("Loading…", "loading"));
  const itemsBox = h("div", { id: "dataset-items-box" }, note("Loading…", "loading"));
  const itemsTitle = h("h2", { id: "items-title", text: chosen ? `Items of v${chosen}` : "Items of the current version" });
  main.replaceChildren(
    h("p", { class: "crumbs" }, link("/console/datasets", "Datasets"), " / "),
    h("h1", { tabindex: "-1", text: name }),
    h("section", { "aria-labelledby": "versions-title" }, h("h2", { id: "versions-title", text: "Versions" }), versionsBox),
    h("section", { "aria-labelledby": "items-title" }, itemsTitle, itemsBox),
  );
  const paging = { limit: ITEM_PAGE_SIZE, offset: (page - 1) * ITEM_PAGE_SIZE };
  const versionsRequest = api(datasetApi(name, "/versions"), { params: { limit: VERSION_PAGE_SIZE, offset: (vpage - 1) * VERSION_PAGE_SIZE } });
  const itemsRequest = chosen
    ? api(datasetApi(name, `/versions/${chosen}`), { params: paging })
    : api(datasetApi(name), { params: { items: true, ...paging } });
  const [versions, items] = await Promise.allSettled([versionsRequest, itemsRequest]);
  if (!isCurrent()) return;
  const selected = items.status === "fulfilled" ? items.value.version : chosen;
  if (versions.status === "fulfilled") versionsBox.replaceChildren(versionsView(name, versions.value, selected, vpage));
  else fail(versionsBox, versions.reason);
  if (items.status === "rejected") {
    fail(itemsBox, items.reason);
    return;
  }
  const version = items.value;
  itemsTitle.textContent = `Items of v${version.version}${chosen ? "" : " (current)"}`;
  itemsBox.replaceChildren(
    h("p", { class: "hint", id: "items-version" }, `${version.item_count} items · hash `, h("code", { text: version.content_hash.slice(0, 12) }), ` · ${when(version.created_at)}`),
    itemsView(name, version, page, vpage),
  );
}
