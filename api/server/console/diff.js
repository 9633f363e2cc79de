// Side-by-side diff of two versions: each message line by line, and the config key by key.

import { api, fail, go, h, link, note, promptApi, promptPath, table } from "./core.js";

const MAX_CELLS = 4_000_000; // LCS table size beyond which a block is shown as replaced whole

/** Return line operations turning `a` into `b`: [{op: "same"|"del"|"add", line}]. */
export function diffLines(a, b) {
  const n = a.length;
  const m = b.length;
  if (n * m > MAX_CELLS) return [...a.map((line) => ({ op: "del", line })), ...b.map((line) => ({ op: "add", line }))];
  // lengths[i][j]: longest common subsequence of a[i:] and b[j:]
  const lengths = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i][j] = a[i] === b[j] ? lengths[i + 1][j + 1] + 1 : Math.max(lengths[i + 1][j], lengths[i][j + 1]);
    }
  }
  const ops = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ op: "same", line: a[i++] });
      j++;
    } else if (lengths[i + 1][j] >= lengths[i][j + 1]) ops.push({ op: "del", line: a[i++] });
    else ops.push({ op: "add", line: b[j++] });
  }
  while (i < n) ops.push({ op: "del", line: a[i++] });
  while (j < m) ops.push({ op: "add", line: b[j++] });
  return ops;
}

/** Pair operations into side-by-side rows: removed lines beside the added ones that replace them. */
export function sideBySide(ops) {
  const rows = [];
  let left = 1;
  let right = 1;
  for (let k = 0; k < ops.length; ) {
    if (ops[k].op === "same") {
      rows.push({ kind: "same", left: [left++, ops[k].line], right: [right++, ops[k].line] });
      k++;
      continue;
    }
    const dels = [];
    const adds = [];
    while (k < ops.length && ops[k].op === "del") dels.push(ops[k++].line);
    while (k < ops.length && ops[k].op === "add") adds.push(ops[k++].line);
    for (let x = 0; x < Math.max(dels.length, adds.length); x++) {
      rows.push({
        kind: x < dels.length && x < adds.length ? "changed" : x < dels.length ? "removed" : "added",
        left: x < dels.length ? [left++, dels[x]] : null,
        right: x < adds.length ? [right++, adds[x]] : null,
      });
    }
  }
  return rows;
}

function flatten(value, prefix = "", out = new Map()) {
  if (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, out);
  } else if (prefix) out.set(prefix, JSON.stringify(value));
  return out;
}

/** Return the config's changes: [{key, change: "added"|"removed"|"changed", before, after}]. */
export function diffConfig(a, b) {
  const before = flatten(a);
  const after = flatten(b);
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
  return keys.flatMap((key) => {
    if (!before.has(key)) return [{ key, change: "added", before: null, after: after.get(key) }];
    if (!after.has(key)) return [{ key, change: "removed", before: before.get(key), after: null }];
    if (before.get(key) !== after.get(key)) return [{ key, change: "changed", before: before.get(key), after: after.get(key) }];
    return [];
  });
}

function blocksOf(version) {
  if (!version.messages) return [{ role: "template", text: version.template ?? "" }];
  return version.messages.map((m) => ({ role: m.role, text: typeof m.content === "string" ? m.content : JSON.stringify(m.content, null, 2) }));
}

function cells(side) {
  return side
    ? [h("td", { class: "ln", text: String(side[0]) }), h("td", { class: "code" }, h("span", { text: side[1] }))]
    : [h("td", { class: "ln" }), h("td", { class: "code empty" })];
}

function messageDiff(index, before, after, a, b) {
  const rows = sideBySide(diffLines(before ? before.text.split("\n") : [], after ? after.text.split("\n") : []));
  const roles = before && after && before.role !== after.role ? `${before.role} → ${after.role}` : (before || after).role;
  const status = !before ? " (added)" : !after ? " (removed)" : rows.every((r) => r.kind === "same") ? " (unchanged)" : "";
  const body = rows.map((r) => h("tr", { class: r.kind }, ...cells(r.left), ...cells(r.right)));
  return h(
    "section",
    { class: "message-diff", "data-index": index },
    h("h3", { text: roles === "template" ? `Template${status}` : `Message ${index + 1}: ${roles}${status}` }),
    table(`Message ${index + 1}`, ["", `v${a}`, "", `v${b}`], body, { class: "diff" }),
  );
}

function configDiff(changes) {
  if (!changes.length) return note("The config is the same.");
  const rows = changes.map((c) =>
    h("tr", { class: c.change, "data-key": c.key }, h("th", { scope: "row", text: c.key }), h("td", { text: c.change }), h("td", {}, h("code", { text: c.before ?? "–" })), h("td", {}, h("code", { text: c.after ?? "–" }))),
  );
  return table("Config changes", ["Key", "Change", "Before", "After"], rows, { id: "config-diff" });
}

function pickForm(name, a, b) {
  const input = (id, label, value) =>
    h("div", { class: "field" }, h("label", { for: id, text: label }), h("input", { id, name: id, type: "number", min: 1, step: 1, required: true, value: value ?? "" }));
  const form = h("form", { id: "diff-pick", class: "filters" }, input("a", "Version", a), input("b", "against version", b), h("button", { type: "submit", text: "Compare" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(promptPath(name, `/diff?a=${form.elements.a.value}&b=${form.elements.b.value}`));
  });
  return form;
}

const VERSION_RE = /^[1-9][0-9]{0,8}$/;

/** Render /console/prompts/<name>/diff?a=&b=: two requests, one per version. */
export async function diffPage(main, { params: [name], query, isCurrent }) {
  const [a, b] = [query.get("a"), query.get("b")];
  const out = h("div", { id: "diff" });
  main.replaceChildren(
    h("p", { class: "crumbs" }, link("/console/prompts", "Prompts"), " / ", link(promptPath(name), name), " / "),
    h("h1", { tabindex: "-1", text: `Diff: ${name}` }),
    pickForm(name, a, b),
    out,
  );
  if (!VERSION_RE.test(a || "") || !VERSION_RE.test(b || "")) {
    out.replaceChildren(note("Give two version numbers (a and b) to compare."));
    return;
  }
  out.replaceChildren(note("Loading…", "loading"));
  let left;
  let right;
  try {
    [left, right] = await Promise.all([a, b].map((v) => api(promptApi(name, `/versions/${v}`))));
  } catch (error) {
    if (isCurrent()) fail(out, error);
    return;
  }
  if (!isCurrent()) return;
  const before = blocksOf(left);
  const after = blocksOf(right);
  const messages = Array.from({ length: Math.max(before.length, after.length) }, (_, i) => messageDiff(i, before[i], after[i], a, b));
  out.replaceChildren(
    h("p", { class: "hint", text: `v${a} by ${left.author} (${left.content_hash.slice(0, 12)}) against v${b} by ${right.author} (${right.content_hash.slice(0, 12)})` }),
    h("h2", { text: left.messages ? "Messages" : "Template" }),
    ...messages,
    h("h2", { text: "Config" }),
    configDiff(diffConfig(left.config, right.config)),
  );
}
