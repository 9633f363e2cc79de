// Promote and roll back from a prompt's page: the dry-run gate report first, a required reason,
// then the real move and the server's verdict (the moved label, or the 409 report, or a problem).

import { ApiError, api, can, fail, h, link, problemView, promptApi, runPath, table, when } from "./core.js";

let flash = null; // the verdict of the last move, shown once on the page drawn after it

/** Return (and forget) the verdict of the move that just redrew the page, if any. */
export function takeFlash() {
  const shown = flash;
  flash = null;
  return shown;
}

function policyText(policy) {
  if (!policy) return "none: the label is not gated (a protected label still needs an admin)";
  const scope = policy.prompt ? `for ${policy.prompt}` : "for all prompts";
  const age = policy.max_age_seconds ? `, runs at most ${policy.max_age_seconds} s old` : "";
  return `${policy.label} ${scope}: suites ${policy.required_suites.join(", ")}${age}; force needs ${policy.force_role}`;
}

function suiteRow(s) {
  const pinned = s.current_version != null ? `v${s.suite_version} (current v${s.current_version})` : `v${s.suite_version}`;
  return h(
    "tr",
    { "data-suite": s.suite },
    h("th", { scope: "row", text: s.suite }),
    h("td", { text: pinned }),
    h("td", {}, h("span", { class: `badge ${s.passed ? "good" : "bad"}`, text: s.passed ? "passed" : "missing" })),
    h("td", {}, s.run_id != null ? link(runPath(s.run_id), `run #${s.run_id}`) : "–"),
    h("td", { text: s.verdict || "–" }),
    h("td", { text: when(s.finished_at) }),
    h("td", { text: s.detail || "–" }),
  );
}

/** Return a gate report (the dry run's, or a 409's `gate` when `refused`): policy, suites, runs. */
export function gateReportView(report, id = "gate-report", refused = false) {
  const verdict = refused ? "Refused" : report.allowed ? "Would be allowed" : "Would be refused";
  const move = `${report.label}: ${report.current_version ? `v${report.current_version}` : "unset"} → v${report.version}`;
  const facts = [
    ["Move", move],
    ["Content hash", report.content_hash.slice(0, 12)],
    ["Policy", policyText(report.policy)],
  ];
  if (report.rollback) facts.push(["Rollback of", `label event #${report.rollback.rollback_of} (${when(report.rollback.at)})`]);
  return h(
    "div",
    { id, class: "gate-report", "data-allowed": String(report.allowed) },
    h(
      "p",
      { class: "gate-verdict" },
      h("span", { class: `badge ${report.allowed ? "good" : "bad"}`, text: verdict }),
      ` ${report.detail}`,
    ),
    h("dl", { class: "facts" }, ...facts.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })])),
    report.suites.length
      ? table("Evidence per pinned suite", ["Suite", "Pinned", "Evidence", "Run", "Verdict", "Finished", "Why"], report.suites.map(suiteRow), { class: "gate-suites" })
      : null,
  );
}

function field(id, text, control, hint) {
  return h("div", { class: "field" }, h("label", { for: id, text }), control, hint ? h("span", { class: "hint", text: hint }) : null);
}

/**
 * Return the "Move a label" form for one version of `name`, or null when the key may not move
 * labels. `labels` are the prompt's labels (offered, others may be typed); `onMoved(event)`
 * runs after the server moved the label.
 */
export function moveForm(name, version, labels, { label = "", versions = [], onMoved }) {
  if (!can("labels.move")) return null;
  const labelInput = h("input", { id: "move-label", name: "label", list: "move-labels", required: true, maxlength: 64, value: label, autocomplete: "off" });
  const choices = h("datalist", { id: "move-labels" }, ...labels.map((l) => h("option", { value: l })));
  const versionPick = h(
    "select",
    { id: "move-version", name: "version" },
    ...versions.map((v) => h("option", { value: v, selected: v === version, text: `v${v}` })),
  );
  const reason = h("textarea", { id: "move-reason", name: "reason", rows: 2, maxlength: 2000, required: true });
  const force = can("labels.force") ? h("input", { id: "move-force", name: "force", type: "checkbox" }) : null;
  const report = h("div", { id: "move-report", "aria-live": "polite" });
  const verdict = h("div", { id: "move-verdict", role: "status", "aria-live": "polite" });
  const target = () => ({ label: labelInput.value.trim(), version: Number(versionPick.value) });

  async function dryRun() {
    const { label: l, version: v } = target();
    verdict.replaceChildren();
    if (!l) {
      report.replaceChildren(problemView(new ApiError(0, "A label is needed", "Pick or type the label to move.")));
      return;
    }
    report.replaceChildren(h("p", { class: "state loading", text: "Checking the gate…" }));
    try {
      const gate = await api(promptApi(name, `/labels/${encodeURIComponent(l)}/check`), { params: { version: v } });
      report.replaceChildren(gateReportView(gate));
    } catch (error) {
      fail(report, error);
    }
  }

  async function move(event) {
    event.preventDefault();
    const { label: l, version: v } = target();
    if (!l || !reason.value.trim()) {
      verdict.replaceChildren(problemView(new ApiError(0, "A reason is required", "Say why this label moves: the reason is kept in the audit trail.")));
      (l ? reason : labelInput).focus();
      return;
    }
    verdict.replaceChildren(h("p", { class: "state loading", text: "Moving the label…" }));
    const body = { version: v, reason: reason.value, force: Boolean(force?.checked) };
    try {
      const moved = await api(promptApi(name, `/labels/${encodeURIComponent(l)}`), { method: "PUT", body });
      flash = { label: l, version: v, forced: moved.is_forced };
      onMoved(moved);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && error.problem.gate) {
        verdict.replaceChildren(problemView(error), gateReportView(error.problem.gate, "refusal-report", true));
      } else {
        fail(verdict, error);
      }
    }
  }

  const form = h(
    "form",
    { id: "move-form", class: "move-form", novalidate: true, onsubmit: move },
    h(
      "div",
      { class: "filters" },
      field("move-label", "Label", labelInput),
      choices,
      field("move-version", "Version", versionPick),
      h("button", { type: "button", id: "move-check", class: "secondary", onclick: dryRun, text: "Check the gate (dry run)" }),
    ),
    report,
    field("move-reason", "Reason (required, audited)", reason),
    force ? h("p", {}, h("label", { for: "move-force" }, force, " Force past a failed gate (admins; marked forced in the history)")) : null,
    h("button", { type: "submit", id: "move-submit", text: "Move label" }),
    verdict,
  );
  form.dryRun = dryRun;
  form.aim = (l, v) => {
    labelInput.value = l;
    versionPick.value = String(v);
    dryRun();
    reason.focus();
  };
  return form;
}

/** Return the notice of a move that just succeeded (from takeFlash), or null. */
export function flashView(moved) {
  if (!moved) return null;
  const text = `${moved.label} now points at v${moved.version}${moved.forced ? " (forced)" : ""}.`;
  return h("p", { id: "move-done", class: "notice info", role: "status", text });
}
