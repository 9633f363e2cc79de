// The webhook endpoints (admins only): the list, each one's state and last answer, and the form
// that registers one. Its signing secret is in the create answer only: shown once, never kept.

import { api, can, fail, h, link, note, table } from "./core.js";
import { exactTime, ms } from "./obs.js";

/** Return the console URL of an endpoint's page, or of one of its deliveries. */
export function webhookPath(name, delivery = null) {
  const base = `/console/webhooks/${encodeURIComponent(name)}`;
  return delivery == null ? base : `${base}/deliveries/${delivery}`;
}

/** Return the API path of an endpoint (`/v1/webhooks/<name><suffix>`). */
export function webhookApi(name, suffix = "") {
  return `/v1/webhooks/${encodeURIComponent(name)}${suffix}`;
}

/** Return an HTTP answer as text: its status code, or why there was none. */
export function answerText(statusCode, error) {
  if (statusCode != null) return error ? `${statusCode}: ${error}` : String(statusCode);
  return error ? `no answer: ${error}` : "–";
}

/** Return whether an answer took the delivery (2xx). */
export function answerOk(statusCode) {
  return statusCode != null && statusCode >= 200 && statusCode < 300;
}

/** Return an endpoint's state: "active", or "paused" with why. */
export function stateView(endpoint) {
  if (!endpoint.is_paused) return h("span", { class: "badge good", "data-value": "active", text: "active" });
  return h(
    "span",
    {},
    h("span", { class: "badge bad", "data-value": "paused", text: "paused" }),
    endpoint.paused_reason ? h("span", { class: "hint", text: ` (${endpoint.paused_reason})` }) : null,
  );
}

/** Return an endpoint's last answer: status (or error), when and how long; "none yet". */
export function lastAnswer(attempt) {
  if (!attempt) return h("span", { class: "hint", text: "none yet" });
  return h(
    "span",
    { class: answerOk(attempt.status_code) ? null : "error-text", "data-status": attempt.status_code ?? "none" },
    answerText(attempt.status_code, attempt.error),
    h("span", { class: "hint", text: ` · ${exactTime(attempt.attempted_at)} · ${ms(attempt.duration_ms)}` }),
  );
}

function eventChips(types) {
  return h("span", { class: "chips" }, ...types.map((t) => h("span", { class: "chip", text: t === "*" ? "* (all)" : t })));
}

function endpointRow(endpoint) {
  return h(
    "tr",
    { "data-webhook": endpoint.name, class: endpoint.is_paused ? "failing" : null },
    h("td", {}, link(webhookPath(endpoint.name), endpoint.name)),
    h("td", { class: "clip" }, h("code", { text: endpoint.url })),
    h("td", {}, eventChips(endpoint.event_types)),
    h("td", { text: endpoint.format }),
    h("td", {}, stateView(endpoint)),
    h("td", { class: "clip" }, lastAnswer(endpoint.last_attempt)),
  );
}

function field(id, text, control, hint) {
  return h("div", { class: "field" }, h("label", { for: id, text }), control, hint ? h("span", { class: "hint", id: `${id}-hint`, text: hint }) : null);
}

/** Read comma- or space-separated event types ("*" for every type). */
function eventTypes(text) {
  return text.split(/[\s,]+/).filter(Boolean);
}

/** Return the panel showing a new secret once, with a copy button and what it is for. */
export function secretView(created, rotated = false) {
  const value = h("input", { id: "webhook-secret-value", readonly: true, value: created.secret, spellcheck: "false", autocomplete: "off", "aria-describedby": "webhook-secret-hint" });
  const copied = h("span", { class: "hint", role: "status", "aria-live": "polite" });
  const copy = h("button", {
    type: "button",
    id: "webhook-secret-copy",
    class: "secondary",
    text: "Copy",
    onclick: async () => {
      value.select();
      try {
        await navigator.clipboard.writeText(created.secret);
        copied.textContent = "Copied.";
      } catch {
        copied.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
      }
    },
  });
  return h(
    "div",
    { id: "webhook-secret", class: "notice secret", role: "alert" },
    h("p", {}, h("strong", { text: `${rotated ? "New signing secret" : "Signing secret"} of ${created.name}` })),
    h("div", { class: "row" }, value, copy),
    h("p", {
      id: "webhook-secret-hint",
      class: "hint",
      text: rotated
        ? "Copy it now: it is shown only this once. For 24 hours every delivery is signed with the old secret too, so the receiver can switch to this one without losing a message."
        : "Copy it now: it is shown only this once. The receiver verifies each delivery's signature with it (Standard Webhooks); lost, it can only be replaced (Rotate secret, on the endpoint's page).",
    }),
    copied,
  );
}

function createForm(onCreated) {
  const name = h("input", { id: "webhook-name", name: "name", required: true, maxlength: 64, spellcheck: "false", autocomplete: "off", placeholder: "ops-alerts" });
  const url = h("input", { id: "webhook-url", name: "url", type: "url", required: true, maxlength: 2000, spellcheck: "false", autocomplete: "off", placeholder: "https://your-receiver/promptlane" });
  const events = h("input", { id: "webhook-events", name: "event_types", required: true, value: "*", spellcheck: "false", autocomplete: "off" });
  const format = h(
    "select",
    { id: "webhook-format", name: "format" },
    h("option", { value: "standard", text: "standard (the event as JSON)" }),
    h("option", { value: "slack", text: "slack (a message)" }),
  );
  const description = h("input", { id: "webhook-description", name: "description", maxlength: 2000 });
  const status = h("div", { id: "webhook-create-status", role: "status", "aria-live": "polite" });
  const submit = h("button", { type: "submit", id: "webhook-create", text: "Add endpoint" });
  const form = h(
    "form",
    { id: "webhook-form", class: "render-form" },
    h("div", { class: "filters" }, field("webhook-name", "Name", name), field("webhook-url", "Receiver URL", url)),
    h(
      "div",
      { class: "filters" },
      field("webhook-events", "Event types", events, "comma-separated (label.moved, run.finished, …) or * for all"),
      field("webhook-format", "Format", format),
      field("webhook-description", "Description", description),
    ),
    submit,
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: name.value.trim(), url: url.value.trim(), event_types: eventTypes(events.value), format: format.value, description: description.value };
    submit.disabled = true;
    status.replaceChildren(note("Adding the endpoint…", "loading"));
    try {
      const created = await api("/v1/webhooks", { method: "POST", body });
      form.reset();
      status.replaceChildren();
      onCreated(created);
    } catch (error) {
      fail(status, error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

let flash = ""; // a message for the list's next drawing (after a delete on an endpoint's page)

/** Show `message` on the webhooks list the next time it is drawn. */
export function flashOnList(message) {
  flash = message;
}

async function drawList(results, isCurrent) {
  let endpoints;
  try {
    endpoints = await api("/v1/webhooks");
  } catch (error) {
    if (isCurrent()) fail(results, error);
    return;
  }
  if (!isCurrent()) return;
  if (!endpoints.length) {
    results.replaceChildren(note("No webhook endpoints yet: add one below, and promptlane POSTs each event it wants to it, signed."));
    return;
  }
  const headers = ["Name", "URL", "Event types", "Format", "State", "Last answer"];
  results.replaceChildren(table("Webhook endpoints", headers, endpoints.map(endpointRow), { id: "webhook-table" }));
}

/** Render /console/webhooks: the endpoints (one request) and, for admins, the form adding one. */
export async function webhooksPage(main, { isCurrent }) {
  const results = h("div", { id: "webhook-results" }, note("Loading…", "loading"));
  const shown = flash ? h("p", { id: "webhook-flash", class: "notice info", role: "status", text: flash }) : null;
  flash = "";
  const secret = h("div", { id: "webhook-secret-box" });
  const adding = can("webhooks.manage")
    ? h(
        "section",
        { "aria-labelledby": "webhook-add-title" },
        h("h2", { id: "webhook-add-title", text: "Add an endpoint" }),
        createForm((created) => {
          secret.replaceChildren(secretView(created));
          secret.querySelector("input").focus();
          drawList(results, isCurrent);
        }),
      )
    : null;
  main.replaceChildren(
    ...[h("h1", { tabindex: "-1", text: "Webhooks" }), shown, secret, results, adding].filter(Boolean),
    h("p", { class: "hint", text: "Events, signatures and retries: docs/monitoring.md." }),
  );
  await drawList(results, isCurrent);
}
