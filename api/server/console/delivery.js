// One webhook delivery's page (admins only): its state, every attempt and what came back, the
// event's data, and "Redeliver" (the same webhook-id, so receivers can deduplicate). While it is
// pending the page re-reads it, so a redelivery's new attempt shows up without a reload.

import { api, fail, h, link, note, table } from "./core.js";
import { exactTime, facts, ms } from "./obs.js";
import { deliveryBadge } from "./webhook.js";
import { answerOk, answerText, webhookApi, webhookPath } from "./webhooks.js";

const POLL_MS = 1000;
const POLLS = 120; // a pending delivery's next try may be minutes away: stop asking after this

function attemptRow(attempt, index) {
  return h(
    "tr",
    { "data-attempt": index + 1, class: answerOk(attempt.status_code) ? null : "failing" },
    h("td", { class: "num", text: String(index + 1) }),
    h("td", { class: "nowrap", text: exactTime(attempt.attempted_at) }),
    h("td", { class: "num", text: attempt.status_code == null ? "–" : String(attempt.status_code) }),
    h("td", { class: "num", text: ms(attempt.duration_ms) }),
    h("td", { class: "clip", text: attempt.error || (attempt.status_code == null ? "–" : "") }),
    h("td", { text: attempt.is_manual ? "by hand" : "scheduled" }),
  );
}

function deliveryView(name, d) {
  const summary = facts(
    [
      ["Status", h("span", { id: "delivery-status" }, deliveryBadge(d.status))],
      ["Event", d.event_type],
      ["webhook-id", h("code", { text: d.webhook_id })],
      ["Occurred", exactTime(d.occurred_at)],
      ["Attempts", h("span", { id: "delivery-attempts", text: String(d.attempts) })],
      ["Last answer", d.attempts ? answerText(d.last_status_code, d.last_error) : "–"],
      ["Next try", d.status === "pending" ? exactTime(d.next_attempt_at) : "–"],
      ["Delivered", exactTime(d.delivered_at)],
    ],
    { id: "delivery-facts" },
  );
  const attempts = d.history.length
    ? table("Attempts", ["#", "Time (UTC)", "Status", "Took", "Answer or error", "Why"], d.history.map(attemptRow), { id: "attempt-table" })
    : note("Not tried yet: it is sent at its next try (a paused endpoint's deliveries wait until it is resumed).");
  return [
    summary,
    h("section", { "aria-labelledby": "attempts-title" }, h("h2", { id: "attempts-title", text: "Attempts" }), attempts),
    h("section", { "aria-labelledby": "event-title" }, h("h2", { id: "event-title", text: "Event data" }), h("pre", { id: "delivery-data", text: JSON.stringify(d.data, null, 2) })),
  ];
}

/** Render /console/webhooks/<name>/deliveries/<id>: the delivery with its attempts (one request). */
export async function deliveryPage(main, { params, isCurrent }) {
  const [name, id] = params;
  const box = h("div", { id: "delivery-box" }, note("Loading…", "loading"));
  const status = h("div", { id: "delivery-action-status", role: "status", "aria-live": "polite" });
  const redeliver = h("button", { type: "button", id: "delivery-redeliver", text: "Redeliver" });
  const actions = h("div", { class: "row actions", hidden: true }, redeliver);
  main.replaceChildren(
    h("p", { class: "crumbs" }, link("/console/webhooks", "Webhooks"), " / ", link(webhookPath(name), name), " / "),
    h("h1", { tabindex: "-1", text: `Delivery #${id}` }),
    actions,
    status,
    box,
  );
  const path = webhookApi(name, `/deliveries/${encodeURIComponent(id)}`);
  let polls = 0;
  let polling = false;
  const draw = async () => {
    let delivery;
    try {
      delivery = await api(path);
    } catch (error) {
      if (isCurrent()) fail(box, error);
      return null;
    }
    if (!isCurrent()) return null;
    actions.hidden = false;
    box.replaceChildren(...deliveryView(name, delivery));
    return delivery;
  };
  // Re-read while it is pending; not awaited by the page (the router focuses its heading first).
  const follow = async (delivery) => {
    if (polling) return; // one loop at a time; a redelivery restarts its count
    polling = true;
    try {
      while (delivery?.status === "pending" && polls < POLLS && isCurrent()) {
        polls += 1;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        if (isCurrent()) delivery = await draw();
      }
    } finally {
      polling = false;
    }
  };
  redeliver.addEventListener("click", async () => {
    redeliver.disabled = true;
    status.replaceChildren(note("Queueing it again…", "loading"));
    try {
      await api(webhookApi(name, `/deliveries/${encodeURIComponent(id)}/redeliver`), { method: "POST" });
      status.replaceChildren(h("p", { class: "notice info", text: "Queued again with the same webhook-id: it is sent within seconds." }));
      polls = 0;
      follow(await draw());
    } catch (error) {
      fail(status, error);
    } finally {
      redeliver.disabled = false;
    }
  });
  follow(await draw());
}
