// A suite's page: its versions with what each pins (dataset version, judge prompt versions), the
// chosen version's spec (scorers, gates, baseline), links to its runs, and "Start a run".

import { api, fail, h, link, note, promptPath, table, when } from "./core.js";
import { datasetPath, suiteApi, suitePath } from "./datasets.js";
import { startRunForm } from "./startrun.js";

function facts(id, pairs) {
  return h(
    "dl",
    { class: "facts", id },
    ...pairs.flatMap(([k, v]) => [h("dt", { text: k }), typeof v === "string" ? h("dd", { text: v }) : h("dd", {}, v)]),
  );
}

function short(hash) {
  return hash ? h("code", { title: hash, text: hash.slice(0, 12) }) : "–";
}

function datasetPin(v) {
  const name = v.spec.dataset.name;
  if (v.dataset_version == null) return h("span", { text: `${name} (not pinned: stored before suites pinned datasets)` });
  return link(datasetPath(name, { version: v.dataset_version }), `${name}@v${v.dataset_version}`, { class: "dataset-pin" });
}

function judgeLinks(v) {
  const pins = Object.values(v.judges);
  if (!pins.length) return "–";
  return h("span", { class: "chips" }, ...pins.map((j) => link(promptPath(j.name, `?version=${j.version}`), `${j.name}@v${j.version}`, { class: "judge-pin" })));
}

function versionRow(name, v, selected) {
  return h(
    "tr",
    { "data-version": v.version, "aria-current": v.version === selected ? "true" : null },
    h("td", {}, link(suitePath(name, { version: v.version }), `v${v.version}`), v.is_current ? h("span", { class: "chip", text: "current" }) : null),
    h("td", {}, datasetPin(v)),
    h("td", {}, judgeLinks(v)),
    h("td", { text: v.spec.scorers.map((s) => s.name).join(", ") }),
    h("td", { class: "num", text: String(v.spec.gates.length) }),
    h("td", {}, short(v.content_hash)),
    h("td", { text: v.author || "–" }),
    h("td", { text: when(v.created_at) }),
  );
}

function scorersView(spec) {
  const rows = spec.scorers.map((s) =>
    h(
      "tr",
      { "data-metric": s.name },
      h("th", { scope: "row", text: s.name }),
      h("td", { text: s.type }),
      h("td", { class: "clip", text: Object.keys(s.params).length ? JSON.stringify(s.params) : "–" }),
    ),
  );
  return table("Scorers", ["Metric", "Type", "Parameters"], rows, { id: "suite-scorers" });
}

function gatesView(spec) {
  if (!spec.gates.length) return note("No gate conditions: every completed run passes.");
  const rows = spec.gates.map((g) =>
    h("tr", { "data-metric": g.metric }, h("th", { scope: "row", text: g.metric }), h("td", { text: g.aggregate }), h("td", { class: "num", text: `${g.op} ${g.value}` })),
  );
  return table("Gate conditions", ["Metric", "Aggregate", "Threshold"], rows, { id: "suite-gates" });
}

function judgesView(v) {
  const rows = Object.entries(v.judges).map(([ref, j]) =>
    h(
      "tr",
      { "data-ref": ref },
      h("th", { scope: "row", text: ref }),
      h("td", {}, link(promptPath(j.name, `?version=${j.version}`), `${j.name}@v${j.version}`)),
      h("td", {}, short(j.content_hash)),
    ),
  );
  if (!rows.length) return note("No judge prompts: no scorer is judged by a model.");
  return table("Judge prompt pins", ["As written", "Pinned to", "Content hash"], rows, { id: "suite-judges" });
}

function baselineText(b) {
  if (!b) return "none";
  const direction = b.higher_is_better ? "higher is better" : "lower is better";
  return `${b.metric}: at most ${b.max_regression} worse (${direction}, ${b.confidence} confidence) than the version the label holds`;
}

function versionView(v) {
  const spec = v.spec;
  const written = spec.dataset.version ? `${spec.dataset.name}@v${spec.dataset.version}` : `${spec.dataset.name} (its current version when pushed)`;
  const pinned = h("span", {}, datasetPin(v), " ", v.dataset_content_hash ? short(v.dataset_content_hash) : null);
  return h(
    "section",
    { "aria-labelledby": "spec-title", id: "suite-version", "data-version": v.version },
    h("h2", { id: "spec-title", text: `Version ${v.version}${v.is_current ? " (current)" : ""}` }),
    facts("suite-facts", [
      ["Dataset as written", written],
      ["Pinned dataset", pinned],
      ["Repeats", String(spec.repeats)],
      ["Concurrency", String(spec.concurrency)],
      ["Timeout", `${spec.timeout_seconds} s`],
      ["Cache", spec.cache ? "on" : "off"],
      ["Baseline", baselineText(spec.baseline)],
      ["Content hash", short(v.content_hash)],
      ["Pushed by", `${v.author || "–"}, ${when(v.created_at)}`],
    ]),
    h("h3", { text: "Scorers" }),
    scorersView(spec),
    h("h3", { text: "Gate" }),
    gatesView(spec),
    h("h3", { text: "Judge prompts" }),
    judgesView(v),
  );
}

/** Render /console/suites/<name>?version=: every version (one request) and the chosen one's spec. */
export async function suitePage(main, { params, query, isCurrent }) {
  const name = params[0];
  const body = h("div", { id: "suite-body" }, note("Loading…", "loading"));
  main.replaceChildren(h("p", { class: "crumbs" }, link("/console/suites", "Suites"), " / "), h("h1", { tabindex: "-1", text: name }), body);
  let versions;
  try {
    versions = await api(suiteApi(name, "/versions"));
  } catch (error) {
    if (isCurrent()) fail(body, error);
    return;
  }
  if (!isCurrent()) return;
  const asked = Number.parseInt(query.get("version") ?? "", 10);
  const chosen = versions.find((v) => v.version === asked) ?? versions.find((v) => v.is_current) ?? versions[0];
  const runs = `/console/runs?${new URLSearchParams({ suite: name })}`;
  const form = startRunForm(name, versions.map((v) => v.version), chosen.version);
  const parts = [
    chosen.spec.description ? h("p", { id: "suite-description", text: chosen.spec.description }) : null,
    h("p", {}, link(runs, "Runs of this suite", { id: "suite-runs" })),
    Number.isInteger(asked) && asked !== chosen.version ? note(`This suite has no version ${asked}; showing v${chosen.version}.`) : null,
    form ? h("section", { "aria-labelledby": "start-title" }, h("h2", { id: "start-title", text: "Start a run" }), form) : null,
    h("section", { "aria-labelledby": "versions-title" }, h("h2", { id: "versions-title", text: "Versions" }),
      table("Versions", ["Version", "Dataset", "Judges", "Scorers", "Gates", "Content hash", "Pushed by", "Pushed"], versions.map((v) => versionRow(name, v, chosen.version)), { id: "suite-versions" })),
    versionView(chosen),
  ];
  body.replaceChildren(...parts.filter(Boolean));
}
