// One webhook endpoint's page (admins only): its settings and state, its actions (send a test
// event, pause or resume, rotate its secret, delete after a confirmation) and its delivery log.

import { api, fail, go, h, link, note, pageNumber, pager, table } from "./core.js";
import { exactTime, facts, withQuery } from "./obs.js";
import { answerOk, answerText, flashOnList, lastAnswer, secretView, stateView, webhookApi, webhookPath } from "./webhooks.js";

export const PAGE_SIZE = 50;
const STATUSES = ["pending", "delivered", "dead"];

/** Return a delivery's status as a badge (delivered good, dead bad, pending in progress). */
export function deliveryBadge(status) {
  const kind = status === "delivered" ? "good" : status === "dead" ? "bad" : "";
  return h("span", { class: `badge ${kind}`.trim(), "data-value": status, text: status });
}

function endpointFacts(endpoint) {
  const failing = endpoint.consecutive_failures
    ? `${endpoint.consecutive_failures} in a row, since ${exactTime(endpoint.failing_since)}`
    : "none";
  return facts(
    [
      ["URL", h("code", { id: "webhook-url-shown", text: endpoint.url })],
      ["Event types", endpoint.event_types.join(", ")],
      ["Format", endpoint.format],
      ["State", h("span", { id: "webhook-state" }, stateView(endpoint))],
      ["Failures", failing],
      ["Last answer", h("span", { id: "webhook-last" }, lastAnswer(endpoint.last_attempt))],
      ["Description", endpoint.description || "–"],
      ["Previous secret", endpoint.previous_secret_expires_at ? `signs too until ${exactTime(endpoint.previous_secret_expires_at)}` : "–"],
      ["Created", `${exactTime(endpoint.created_at)} by ${endpoint.created_by}`],
      ["Changed", `${exactTime(endpoint.updated_at)} by ${endpoint.updated_by}`],
    ],
    { id: "webhook-facts" },
  );
}

function deliveryRow(name, d) {
  return h(
    "tr",
    { "data-delivery": d.id, class: d.status === "dead" ? "failing" : null },
    h("td", {}, link(webhookPath(name, d.id), `#${d.id}`, { "aria-label": `Delivery ${d.id}` })),
    h("td", { text: d.event_type }),
    h("td", {}, deliveryBadge(d.status)),
    h("td", { class: "num", text: String(d.attempts) }),
    h("td", { class: answerOk(d.last_status_code) ? "clip" : "clip error-text", text: d.attempts ? answerText(d.last_status_code, d.last_error) : "–" }),
    h("td", { class: "nowrap", text: exactTime(d.occurred_at) }),
    h("td", { class: "nowrap", text: d.status === "pending" ? exactTime(d.next_attempt_at) : exactTime(d.delivered_at) }),
  );
}

function statusFilter(name, chosen) {
  const select = h(
    "select",
    { id: "filter-status", name: "status" },
    h("option", { value: "", text: "any" }),
    ...STATUSES.map((s) => h("option", { value: s, selected: s === chosen, text: s })),
  );
  const form = h(
    "form",
    { id: "delivery-filters", class: "filters", role: "search" },
    h("div", { class: "field" }, h("label", { for: "filter-status", text: "Status" }), select),
    h("button", { type: "submit", text: "Apply" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(withQuery(webhookPath(name), { status: select.value }));
  });
  return form;
}

async function drawDeliveries(box, name, status, page, isCurrent) {
  let result;
  try {
    const params = { status, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE };
    result = await api(webhookApi(name, "/deliveries"), { params });
  } catch (error) {
    if (isCurrent()) fail(box, error);
    return;
  }
  if (!isCurrent()) return;
  const more = pager(result, PAGE_SIZE, page, (n) => withQuery(webhookPath(name), { status }, n));
  if (!result.items.length) {
    const why = result.total ? "No deliveries on this page." : status ? `No ${status} deliveries.` : "No deliveries yet: send a test event, or wait for an event it wants.";
    box.replaceChildren(...(result.total ? [note(why), more] : [note(why)]));
    return;
  }
  const headers = ["Delivery", "Event", "Status", "Attempts", "Last answer", "Occurred (UTC)", "Delivered or next try"];
  box.replaceChildren(table("Deliveries", headers, result.items.map((d) => deliveryRow(name, d)), { id: "delivery-table" }), more);
}

function confirmDelete(name, status) {
  const box = h("div", { id: "webhook-delete-confirm", class: "notice error", role: "group", "aria-labelledby": "webhook-delete-question" });
  const cancel = h("button", { type: "button", id: "webhook-delete-cancel", class: "secondary", text: "Cancel" });
  const confirm = h("button", { type: "button", id: "webhook-delete-yes", text: `Delete ${name}` });
  cancel.addEventListener("click", () => {
    box.remove();
    document.getElementById("webhook-delete")?.focus();
  });
  confirm.addEventListener("click", async () => {
    confirm.disabled = true;
    try {
      await api(webhookApi(name), { method: "DELETE" });
    } catch (error) {
      confirm.disabled = false;
      fail(status, error);
      return;
    }
    flashOnList(`Deleted ${name} and its delivery log.`);
    go("/console/webhooks");
  });
  box.append(
    h("p", { id: "webhook-delete-question", text: `Delete ${name}? Its delivery log goes with it, nothing more is sent to it, and this cannot be undone.` }),
    h("div", { class: "row" }, confirm, cancel),
  );
  return { box, focus: () => cancel.focus() };
}

function actions(name, endpoint, redraw, status, secret) {
  const act = async (button, request, done) => {
    button.disabled = true;
    status.replaceChildren(note("Working…", "loading"));
    try {
      done(await request());
    } catch (error) {
      fail(status, error);
    } finally {
      button.disabled = false;
    }
  };
  const test = h("button", { type: "button", id: "webhook-test", text: "Send a test event" });
  test.addEventListener("click", () =>
    act(test, () => api(webhookApi(name, "/test"), { method: "POST" }), (delivery) => {
      status.replaceChildren(h("p", { class: "notice info" }, "Test event queued as ", link(webhookPath(name, delivery.id), `delivery #${delivery.id}`), "."));
      redraw({ keepStatus: true, focus: "webhook-test" });
    }),
  );
  const pausing = !endpoint.is_paused;
  const toggle = h("button", { type: "button", id: "webhook-pause", class: "secondary", text: pausing ? "Pause" : "Resume" });
  toggle.addEventListener("click", () =>
    act(toggle, () => api(webhookApi(name), { method: "PATCH", body: { is_paused: pausing } }), () => {
      status.replaceChildren(h("p", { class: "notice info", text: pausing ? "Paused: new events are not queued for it, pending deliveries wait." : "Resumed: its failures are forgotten and waiting deliveries go out." }));
      redraw({ keepStatus: true, focus: "webhook-pause" });
    }),
  );
  const rotate = h("button", { type: "button", id: "webhook-rotate", class: "secondary", text: "Rotate secret" });
  rotate.addEventListener("click", () =>
    act(rotate, () => api(webhookApi(name, "/rotate-secret"), { method: "POST" }), (rotated) => {
      status.replaceChildren();
      secret.replaceChildren(secretView(rotated, true)); // shown here once; kept nowhere
      secret.querySelector("input").focus();
      redraw({ keepStatus: true });
    }),
  );
  const remove = h("button", { type: "button", id: "webhook-delete", class: "secondary", text: "Delete…" });
  remove.addEventListener("click", () => {
    if (document.getElementById("webhook-delete-confirm")) return;
    const asked = confirmDelete(name, status);
    remove.parentElement.after(asked.box);
    asked.focus();
  });
  return h("div", { class: "row actions", id: "webhook-actions" }, test, toggle, rotate, remove);
}

/** Render /console/webhooks/<name>?status=&page=: the endpoint (one request), its deliveries (one). */
export async function webhookPage(main, { params, query, isCurrent }) {
  const name = params[0];
  const status = STATUSES.includes(query.get("status")) ? query.get("status") : "";
  const page = pageNumber(query);
  const box = h("div", { id: "webhook-box" }, note("Loading…", "loading"));
  const notice = h("div", { id: "webhook-status", role: "status", "aria-live": "polite" });
  const secret = h("div", { id: "webhook-secret-box" });
  const deliveries = h("div", { id: "delivery-results" }, note("Loading…", "loading"));
  const log = h("section", { "aria-labelledby": "deliveries-title" }, h("h2", { id: "deliveries-title", text: "Deliveries" }), statusFilter(name, status), deliveries);
  main.replaceChildren(h("p", { class: "crumbs" }, link("/console/webhooks", "Webhooks"), " / "), h("h1", { tabindex: "-1", text: name }), secret, box, log);
  // A rotated secret stays shown until the page is left (another action may come before it is copied).
  const redraw = async ({ keepStatus = false, focus = null } = {}) => {
    if (!keepStatus) notice.replaceChildren();
    const [endpoint] = await Promise.allSettled([api(webhookApi(name)), drawDeliveries(deliveries, name, status, page, isCurrent)]);
    if (!isCurrent()) return;
    if (endpoint.status === "rejected") {
      fail(box, endpoint.reason);
      log.hidden = true; // the same refusal (403, 404) twice says nothing more
      return;
    }
    box.replaceChildren(endpointFacts(endpoint.value), actions(name, endpoint.value, redraw, notice, secret), notice);
    if (focus) document.getElementById(focus)?.focus();
  };
  await redraw();
}
