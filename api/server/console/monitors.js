// The monitors (every role reads them; admins create and change them with the CLI or the API):
// the list with each one's last check, and how a check's status and evidence are shown.

import { api, fail, h, link, note, promptPath, runPath, table } from "./core.js";
import { exactTime } from "./obs.js";

const GOOD = new Set(["ok"]);
const BAD = new Set(["fired", "error", "timed_out"]);

/** Return the console URL of a monitor's page. */
export function monitorPath(name) {
  return `/console/monitors/${encodeURIComponent(name)}`;
}

/** Return the API path of a monitor (`/v1/monitors/<name><suffix>`). */
export function monitorApi(name, suffix = "") {
  return `/v1/monitors/${encodeURIComponent(name)}${suffix}`;
}

/** Return the console URL of an incident's page. */
export function incidentPath(id) {
  return `/console/incidents/${id}`;
}

/** Return a check's status as a badge (ok good; fired, error, timed_out bad). */
export function eventBadge(status) {
  const kind = GOOD.has(status) ? "good" : BAD.has(status) ? "bad" : "";
  return h("span", { class: `badge ${kind}`.trim(), "data-value": status, text: status });
}

/** Return what a monitor watches, in words. */
export function watched(monitor) {
  if (monitor.prompt && monitor.label) return `${monitor.prompt} · ${monitor.label}`;
  if (monitor.label) return `${monitor.label} of every prompt`;
  if (monitor.prompt) return `every gated label of ${monitor.prompt}`;
  return "every gated or protected label";
}

/** Return a signal's condition in words ("error_rate > 0.05 over 3600 s"). */
export function signalText(signal) {
  const score = signal.score ? ` (${signal.score})` : "";
  return `${signal.metric}${score} ${signal.op} ${signal.threshold} over ${signal.window_seconds} s, at least ${signal.min_samples} samples`;
}

/** Return when and on what a monitor checks: its cron, its signal, or new dataset versions. */
export function cadence(monitor) {
  if (monitor.trigger === "dataset") return "on a new version of a pinned suite's dataset";
  const parts = [];
  if (monitor.cron) parts.push(`cron ${monitor.cron}`);
  if (monitor.signal) parts.push(signalText(monitor.signal));
  return parts.join(" · ") || "–";
}

function runsView(runs) {
  return runs.map((r, i) => [
    i ? "; " : null,
    r.run_id != null ? link(runPath(r.run_id), `run #${r.run_id}`) : "a run",
    ` (${r.suite ?? "suite"}${r.suite_version ? ` v${r.suite_version}` : ""}): ${r.verdict || r.status || "–"}`,
  ]);
}

function metricText(e) {
  const value = typeof e.value === "number" ? Number(e.value.toPrecision(4)) : (e.value ?? "–");
  const samples = e.samples != null ? `, ${e.samples} samples (min ${e.min_samples ?? "–"})` : "";
  return `${e.metric}${e.score ? ` (${e.score})` : ""} = ${value}; fires when ${e.op} ${e.threshold}${samples}`;
}

/** Return a check's evidence in one line: its runs, or its metric, its dataset, why it broke. */
export function evidenceSummary(evidence) {
  const e = evidence || {};
  const parts = [];
  if (e.dataset) parts.push(`candidate dataset ${e.dataset} v${e.dataset_version}; `);
  if (e.runs?.length) parts.push(...runsView(e.runs).flat());
  if (e.metric) parts.push(metricText(e));
  if (e.window) parts.push(`; window ${exactTime(e.window.start)} – ${exactTime(e.window.end)}`);
  if (e.detail) parts.push(`${parts.length ? "; " : ""}${e.detail}`);
  return h("span", { class: "evidence" }, ...(parts.length ? parts : ["–"]));
}

/** Return what an auto-rollback did: moved (linked to the label's history) or refused. */
export function rollbackView(rollback, prompt, label) {
  if (!rollback) return h("span", { class: "hint", text: "none (auto-rollback is off for this label)" });
  const history = link(promptPath(prompt, `?${new URLSearchParams({ label })}`), `${label} history`, { class: "rollback-history" });
  if (rollback.moved) {
    const event = rollback.label_event_id != null ? ` (label event #${rollback.label_event_id})` : "";
    return h("span", { class: "rollback", "data-moved": "true" }, `moved ${label} v${rollback.from_version} → v${rollback.to_version}${event}: `, history);
  }
  const why = [rollback.refusal, rollback.detail].filter(Boolean).join(": ");
  return h("span", { class: "rollback error-text", "data-moved": "false" }, `not moved: ${why || "refused"}; `, history);
}

async function lastEvent(name) {
  try {
    const page = await api(monitorApi(name, "/events"), { params: { limit: 1 } });
    return page.items[0] ?? null;
  } catch {
    return undefined; // the row says "unknown"; the monitor's page shows the problem
  }
}

function monitorRow(monitor, last) {
  const lastCell =
    last === undefined
      ? h("span", { class: "hint", text: "unknown" })
      : last === null
        ? h("span", { class: "hint", text: "none yet" })
        : h("span", {}, eventBadge(last.status), h("span", { class: "hint", text: ` · ${exactTime(last.finished_at || last.started_at)}` }));
  return h(
    "tr",
    { "data-monitor": monitor.name, class: last && BAD.has(last.status) ? "failing" : null },
    h("td", {}, link(monitorPath(monitor.name), monitor.name)),
    h("td", { text: watched(monitor) }),
    h("td", { text: monitor.trigger }),
    h("td", { class: "clip", text: cadence(monitor) }),
    h("td", { text: monitor.enabled ? "yes" : "paused" }),
    h("td", { class: "nowrap", text: monitor.enabled ? exactTime(monitor.next_due_at) : "–" }),
    h("td", {}, lastCell),
  );
}

/** Return the note saying monitors are read-only here. */
export function readOnlyNote() {
  return h("p", {
    class: "hint",
    id: "monitors-read-only",
    text: "Read-only: admins create, change and pause monitors with the CLI (promptlane monitors create …) or the API (POST /v1/monitors); see docs/monitoring.md.",
  });
}

/** Render /console/monitors: the monitors (one request), then each one's last check (one each). */
export async function monitorsPage(main, { isCurrent }) {
  const results = h("div", { id: "monitor-results" }, note("Loading…", "loading"));
  main.replaceChildren(h("h1", { tabindex: "-1", text: "Monitors" }), readOnlyNote(), results);
  let monitors;
  try {
    monitors = await api("/v1/monitors");
  } catch (error) {
    if (isCurrent()) fail(results, error);
    return;
  }
  if (!isCurrent()) return;
  if (!monitors.length) {
    results.replaceChildren(note("No monitors yet."));
    return;
  }
  const lasts = await Promise.all(monitors.map((m) => lastEvent(m.name)));
  if (!isCurrent()) return;
  const headers = ["Name", "Watches", "Trigger", "Schedule or signal", "Enabled", "Next due", "Last check"];
  results.replaceChildren(table("Monitors", headers, monitors.map((m, i) => monitorRow(m, lasts[i])), { id: "monitor-table" }));
}
