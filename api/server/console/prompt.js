// A prompt's page: versions, where labels point (and their open incidents), the selected version, render preview, label history.

import { api, chips, fail, go, h, link, note, promptApi, promptPath, runPath, table, when } from "./core.js";
import { incidentPath } from "./monitors.js";
import { versionObsLinks } from "./obs.js";
import { playgroundPath } from "./playground.js";
import { flashView, moveForm, takeFlash } from "./promote.js";
import { renderPreview } from "./render.js";

const MAX_VERSIONS = 200; // the API's page limit; older versions are listed as a count

function versionHref(name, version, label) {
  const query = new URLSearchParams({ version: String(version) });
  if (label) query.set("label", label);
  return promptPath(name, `?${query}`);
}

function versionTable(name, versions, selected, label) {
  const rows = versions.map((v, i) =>
    h(
      "tr",
      { "data-version": v.version, "aria-current": v.version === selected.version ? "true" : null },
      h("td", {}, link(versionHref(name, v.version, label), `v${v.version}`)),
      h("td", { text: v.author }),
      h("td", { text: when(v.created_at) }),
      h("td", { text: v.message || "–" }),
      h("td", {}, h("code", { title: v.content_hash, text: v.content_hash.slice(0, 12) })),
      h("td", {}, chips(v.labels)),
      h("td", {}, i + 1 < versions.length ? link(promptPath(name, `/diff?a=${versions[i + 1].version}&b=${v.version}`), "diff with previous") : null),
      h("td", {}, link(playgroundPath(name, v.version), "Open in playground", { class: "playground-link" })),
    ),
  );
  return table("Versions", ["Version", "Author", "Created", "Message", "Content hash", "Labels", "", ""], rows, { id: "version-table" });
}

function incidentBadge(id) {
  if (id == null) return null;
  return link(incidentPath(id), "incident", { class: "badge bad incident-badge", "data-incident": id, title: `Open incident #${id}` });
}

function labelTable(name, pointers, label, incidents) {
  if (!pointers.length) return note("No labels point at any version yet.");
  const rows = pointers.map(([l, version]) =>
    h("tr", { "data-label": l }, h("th", { scope: "row", text: l }), h("td", {}, link(versionHref(name, version, label), `v${version}`), incidents[l] != null ? " " : null, incidentBadge(incidents[l]))),
  );
  return table("Labels", ["Label", "Points at"], rows, { id: "label-table" });
}

/** Return each label's open incident (label → id); none when the labels cannot be read. */
async function openIncidents(name) {
  try {
    const found = await api(promptApi(name, "/labels"));
    return Object.fromEntries(found.filter((l) => l.incident_id != null).map((l) => [l.name, l.incident_id]));
  } catch {
    return {}; // the versions' answer says what is wrong; the badges are extra
  }
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]));
}

function contentView(version) {
  const blocks = version.messages
    ? version.messages.map((m, i) =>
        h("div", { class: "message", "data-index": i }, h("p", { class: "message-role", text: m.role }), h("pre", { text: typeof m.content === "string" ? m.content : JSON.stringify(m.content, null, 2) })),
      )
    : [h("pre", { class: "template", text: version.template ?? "" })];
  const facts = [
    ["Kind", version.kind],
    ["Template format", version.template_format],
    ["Variables", version.variables.join(", ") || "none"],
  ];
  return h(
    "div",
    { id: "version-content" },
    h("dl", { class: "facts" }, ...facts.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })])),
    h("h3", { text: version.messages ? "Messages" : "Template" }),
    ...blocks,
    h("h3", { text: "Config" }),
    h("pre", { id: "version-config", text: JSON.stringify(sortKeys(version.config), null, 2) }),
  );
}

function compareForm(name, versions, selected) {
  const options = (chosen) => versions.map((v) => h("option", { value: v.version, selected: v.version === chosen, text: `v${v.version}` }));
  const older = versions.find((v) => v.version < selected.version)?.version ?? selected.version;
  const a = h("select", { id: "diff-a", name: "a" }, ...options(older));
  const b = h("select", { id: "diff-b", name: "b" }, ...options(selected.version));
  const form = h(
    "form",
    { id: "compare", class: "filters" },
    h("div", { class: "field" }, h("label", { for: "diff-a", text: "Compare" }), a),
    h("div", { class: "field" }, h("label", { for: "diff-b", text: "with" }), b),
    h("button", { type: "submit", text: "Show diff" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(promptPath(name, `/diff?a=${a.value}&b=${b.value}`));
  });
  return form;
}

function evidenceView(item) {
  if (item.rollback_of != null) return [`rollback to event #${item.rollback_of}`];
  if (item.run_id != null) {
    const suite = `${item.suite ?? "suite"}${item.suite_version ? ` v${item.suite_version}` : ""}: `;
    return [suite, link(runPath(item.run_id), `run #${item.run_id}`)];
  }
  return [JSON.stringify(item)];
}

function evidenceCell(evidence) {
  if (!evidence.length) return h("td", { class: "evidence", text: "–" });
  return h("td", { class: "evidence" }, ...evidence.flatMap((item, i) => [i ? "; " : null, ...evidenceView(item)]));
}

function rollbackCell(event, current, form) {
  // Any earlier target of this label may be moved back to; the gate decides (a rollback passes).
  if (!form || event.to_version == null || event.to_version === current) return h("td", {});
  const button = h("button", { type: "button", class: "secondary rollback", "data-version": event.to_version, text: `Roll back to v${event.to_version}` });
  button.addEventListener("click", () => {
    form.aim(event.label, event.to_version);
    form.scrollIntoView({ block: "nearest" });
  });
  return h("td", {}, button);
}

function historyView(page, current, form) {
  if (!page.items.length) return note("This label has no recorded moves.");
  const rows = page.items.map((e) =>
    h(
      "tr",
      { "data-event": e.id },
      h("td", { text: when(e.created_at) }),
      h("td", { text: `${e.from_version ? `v${e.from_version}` : "–"} → ${e.to_version ? `v${e.to_version}` : "unset"}` }),
      h("td", { text: e.actor_role ? `${e.actor} (${e.actor_role})` : e.actor }),
      h("td", { text: e.reason || "–" }),
      h("td", {}, e.is_forced ? h("span", { class: "badge bad", text: "forced" }) : "no"),
      evidenceCell(e.evidence),
      form ? rollbackCell(e, current, form) : null,
    ),
  );
  const more = page.total > page.items.length ? note(`Showing the latest ${page.items.length} of ${page.total} moves.`) : null;
  return h("div", {}, table("Label history", ["When", "Move", "Actor", "Reason", "Forced", "Evidence", ...(form ? [""] : [])], rows, { id: "history-table" }), more);
}

function historySection(name, labels, label, selected) {
  const picker = h(
    "select",
    { id: "history-label", "aria-label": "Label" },
    ...labels.map((l) => h("option", { value: l, selected: l === label, text: l })),
  );
  picker.addEventListener("change", () => go(versionHref(name, selected.version, picker.value)));
  return h("div", { class: "field" }, h("label", { for: "history-label", text: "Label" }), picker);
}

/** Render /console/prompts/<name>: the versions (one request) and one label's history (one). */
export async function promptPage(main, { params: [name], query, isCurrent }) {
  const title = h("h1", { tabindex: "-1", text: name });
  main.replaceChildren(h("p", { class: "crumbs" }, link("/console/prompts", "Prompts"), " / "), title, note("Loading…", "loading"));
  let page;
  const incidents = openIncidents(name);
  try {
    page = await api(promptApi(name, "/versions"), { params: { limit: MAX_VERSIONS } });
  } catch (error) {
    if (isCurrent()) fail(main.lastChild, error);
    return;
  }
  const open = await incidents;
  if (!isCurrent()) return;
  const versions = page.items;
  if (!versions.length) {
    main.lastChild.replaceWith(note("This prompt has no versions yet."));
    return;
  }
  const wanted = Number.parseInt(query.get("version") || "", 10);
  const selected = versions.find((v) => v.version === wanted) || versions[0];
  const pointers = versions.flatMap((v) => v.labels.map((l) => [l, v.version])).sort(([a], [b]) => a.localeCompare(b));
  const labels = pointers.map(([l]) => l);
  const label = labels.includes(query.get("label")) ? query.get("label") : labels.includes("production") ? "production" : labels[0];
  const history = h("div", { id: "label-history" }, label ? note("Loading…", "loading") : note("No labels yet, so no label history."));
  const moved = flashView(takeFlash());
  const form = moveForm(name, selected.version, labels, {
    label: label || "",
    versions: versions.map((v) => v.version),
    onMoved: (event) => go(versionHref(name, selected.version, event.label)),
  });
  const older = page.total > versions.length ? note(`Showing the newest ${versions.length} of ${page.total} versions.`) : null;
  main.lastChild.replaceWith(
    h(
      "div",
      { class: "prompt-page" },
      moved,
      h("section", { "aria-labelledby": "labels-title" }, h("h2", { id: "labels-title", text: "Labels" }), labelTable(name, pointers, label, open)),
      h("section", { "aria-labelledby": "versions-title" }, h("h2", { id: "versions-title", text: "Versions" }), versionTable(name, versions, selected, label), older, compareForm(name, versions, selected)),
      h("section", { "aria-labelledby": "selected-title" }, h("h2", { id: "selected-title", text: `Version ${selected.version}` }), versionObsLinks(name, selected.version), contentView(selected)),
      form ? h("section", { "aria-labelledby": "move-title" }, h("h2", { id: "move-title", text: "Promote or roll back" }), form) : null,
      h("section", { "aria-labelledby": "render-title" }, h("h2", { id: "render-title", text: `Render preview (v${selected.version})` }), renderPreview(name, selected)),
      h("section", { "aria-labelledby": "history-title" }, h("h2", { id: "history-title", text: "Label history" }), label ? historySection(name, labels, label, selected) : null, history),
    ),
  );
  if (!label) return;
  try {
    const events = await api(promptApi(name, `/labels/${encodeURIComponent(label)}/history`), { params: { limit: 50 } });
    const current = pointers.find(([l]) => l === label)?.[1];
    if (isCurrent()) history.replaceChildren(historyView(events, current, form));
  } catch (error) {
    if (isCurrent()) fail(history, error);
  }
}
