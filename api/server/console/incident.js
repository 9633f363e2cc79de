// One incident's page (every role reads it): the label, who opened and resolved it and why, its
// monitor firings with their evidence and rollback, and for writers and admins the Resolve form.

import { ApiError, api, can, fail, h, link, note, problemView, promptPath } from "./core.js";
import { incidentBadge, labelPath } from "./incidents.js";
import { eventBadge, evidenceSummary, monitorPath, rollbackView } from "./monitors.js";
import { exactTime, facts } from "./obs.js";

const EVENTS_MAX = 200; // the API's page limit: an incident's first 200 firings are listed

function incidentFacts(incident) {
  const resolved = incident.is_open ? "not yet" : `${exactTime(incident.resolved_at)} by ${incident.resolved_by}`;
  return facts(
    [
      ["Prompt", link(promptPath(incident.prompt), incident.prompt)],
      ["Label", link(labelPath(incident.prompt, incident.label), incident.label, { id: "incident-label" })],
      ["Status", h("span", { id: "incident-status" }, incidentBadge(incident))],
      ["Opened", exactTime(incident.opened_at)],
      ["Resolved", h("span", { id: "incident-resolved", text: resolved })],
      ["Reason", h("span", { id: "incident-reason", text: incident.reason || "–" })],
      ["Firings", String(incident.firings)],
    ],
    { id: "incident-facts" },
  );
}

/** Return the page of an incident's firings (oldest first, at most EVENTS_MAX). */
async function firingsOf(incident) {
  return api(`/v1/incidents/${incident.id}/events`, { params: { limit: EVENTS_MAX } });
}

function firingView(incident, e) {
  return h(
    "article",
    { class: "firing", "data-event": e.id },
    h("h3", {}, `Check #${e.id} by `, link(monitorPath(e.monitor), e.monitor), " ", eventBadge(e.status)),
    facts([
      ["Period", h("code", { text: e.period_key })],
      ["Version checked", e.version != null ? link(promptPath(e.prompt, `?version=${e.version}`), `v${e.version}`) : "–"],
      ["Checked", `${exactTime(e.started_at)} – ${exactTime(e.finished_at)}`],
      ["Evidence", evidenceSummary(e.evidence)],
      ["Rollback", rollbackView(e.evidence?.rollback, incident.prompt, incident.label)],
    ]),
  );
}

async function drawFirings(box, incident, isCurrent) {
  let page;
  try {
    page = await firingsOf(incident);
  } catch (error) {
    if (isCurrent()) fail(box, error);
    return;
  }
  if (!isCurrent()) return;
  const firings = page.items;
  const missing = incident.firings - firings.length;
  const why = missing > 0 ? note(page.total > firings.length ? `The first ${firings.length} of its ${incident.firings} firings are listed.` : `${missing} of its ${incident.firings} firings are not listed: their monitor was deleted.`) : null;
  box.replaceChildren(...(firings.length ? firings.map((e) => firingView(incident, e)) : [note("No firing of this incident is listed.")]), ...(why ? [why] : []));
}

function resolveForm(incident, onResolved) {
  const reason = h("textarea", { id: "resolve-reason", name: "reason", rows: 2, maxlength: 2000, required: true, "aria-describedby": "resolve-hint" });
  const verdict = h("div", { id: "resolve-verdict", role: "status", "aria-live": "polite" });
  const submit = h("button", { type: "submit", id: "resolve-submit", text: "Resolve" });
  const form = h(
    "form",
    { id: "resolve-form", class: "render-form", novalidate: true }, // a blank reason: our own problem, focused
    h("div", { class: "field" }, h("label", { for: "resolve-reason", text: "Reason (required, audited)" }), reason),
    h("p", { id: "resolve-hint", class: "hint", text: "Resolving closes the record only: no label moves, no pin or policy changes. The next firing opens a new incident." }),
    submit,
    verdict,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!reason.value.trim()) {
      verdict.replaceChildren(problemView(new ApiError(0, "A reason is required", "Say why the incident is resolved: the reason is kept and sent as incident.resolved.")));
      reason.focus();
      return;
    }
    submit.disabled = true;
    verdict.replaceChildren(note("Resolving…", "loading"));
    try {
      onResolved(await api(`/v1/incidents/${incident.id}/resolve`, { method: "POST", body: { reason: reason.value } }));
    } catch (error) {
      fail(verdict, error);
      submit.disabled = false;
    }
  });
  return form;
}

function resolveSection(incident, box, redraw) {
  if (!incident.is_open || !can("incidents.resolve")) return null;
  const form = resolveForm(incident, (resolved) => {
    redraw(resolved);
    const done = h("p", { id: "resolve-done", class: "notice info", role: "status", tabindex: "-1", text: `Incident #${resolved.id} resolved by ${resolved.resolved_by}.` });
    box.prepend(done);
    done.focus();
  });
  return h("section", { "aria-labelledby": "resolve-title", id: "resolve-section" }, h("h2", { id: "resolve-title", text: "Resolve" }), form);
}

/** Render /console/incidents/<id>: the incident (one request), then its firings (one per monitor). */
export async function incidentPage(main, { params: [id], isCurrent }) {
  const box = h("div", { id: "incident-box" }, note("Loading…", "loading"));
  main.replaceChildren(h("p", { class: "crumbs" }, link("/console/incidents", "Incidents"), " / "), h("h1", { tabindex: "-1", text: `Incident #${id}` }), box);
  let incident;
  try {
    incident = await api(`/v1/incidents/${encodeURIComponent(id)}`);
  } catch (error) {
    if (isCurrent()) fail(box, error);
    return;
  }
  if (!isCurrent()) return;
  const firings = h("div", { id: "incident-firings" }, note("Loading…", "loading"));
  const draw = (shown) => {
    box.replaceChildren(
      ...[
        h("p", { class: "hint", text: `${shown.label} of ${shown.prompt}` }),
        incidentFacts(shown),
        resolveSection(shown, box, draw),
        h("section", { "aria-labelledby": "firings-title" }, h("h2", { id: "firings-title", text: "Monitor firings" }), firings),
      ].filter(Boolean),
    );
  };
  draw(incident);
  await drawFirings(firings, incident, isCurrent);
}
