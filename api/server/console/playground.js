// The playground: one or two versions of a prompt (by number or label) called through the
// OpenAI-compatible gateway on the same variables, side by side: output, tokens, cost, latency.

import { ApiError, api, can, fail, go, h, link, money, note, promptApi, promptPath, session } from "./core.js";
import { variablesInput } from "./render.js";

const MAX_VERSIONS = 200; // the API's page limit
const COST_HEADER = "promptlane-cost-usd"; // the gateway's cost of a non-streamed answer (USD)
const VERSION_RE = /^[1-9][0-9]{0,8}$/; // a number is a version; anything else is a label

/** Return the console URL of the playground for a prompt and one or two versions or labels. */
export function playgroundPath(name, a = "", b = "") {
  const query = new URLSearchParams({ prompt: name });
  if (a) query.set("a", String(a));
  if (b) query.set("b", String(b));
  return `/console/playground?${query}`;
}

/** Return the URL value of a label: `@` first when it would read as a version number. */
function labelRef(label) {
  return VERSION_RE.test(label) ? `@${label}` : label;
}

/**
 * Return what `ref` names (a version number; `latest`; a label, written `@label` when it is all
 * digits, as the gateway writes labels): the version and the model.
 */
function resolve(name, ref, versions) {
  const isVersion = VERSION_RE.test(ref);
  const label = ref.startsWith("@") ? ref.slice(1) : ref;
  let version;
  if (isVersion) version = versions.find((v) => v.version === Number(ref));
  else if (ref === "latest") version = versions[0];
  else version = versions.find((v) => v.labels.includes(label));
  if (!version) {
    const what = isVersion ? `no version ${ref}` : `no label ${JSON.stringify(label)}`;
    return { ref, error: new ApiError(0, "Unknown version or label", `The prompt ${name} has ${what}.`) };
  }
  const model = isVersion ? `promptlane/${name}:${ref}` : `promptlane/${name}@${ref === "latest" ? ref : label}`;
  const title = isVersion ? `v${version.version}` : `${ref === "latest" ? ref : label} (v${version.version})`;
  return { ref, version, model, title };
}

function refOptions(versions, chosen, { none = false } = {}) {
  const labels = versions.flatMap((v) => v.labels.map((l) => [labelRef(l), `${l} (v${v.version})`])).sort(([, x], [, y]) => x.localeCompare(y));
  const options = [
    ...(none ? [["", "none"]] : []),
    ...labels,
    ["latest", `latest (v${versions[0].version})`],
    ...versions.map((v) => [String(v.version), `v${v.version}`]),
  ];
  if (chosen && !options.some(([value]) => value === chosen)) options.push([chosen, `${chosen} (unknown)`]);
  return options.map(([value, text]) => h("option", { value, text, selected: value === chosen }));
}

function pickForm(name, versions, a, b, names) {
  const prompt = h("input", { id: "play-prompt", name: "prompt", type: "text", value: name, required: true, spellcheck: "false", autocomplete: "off", list: names ? "play-prompts" : null, maxlength: 200 });
  const field = (id, label, control) => h("div", { class: "field" }, h("label", { for: id, text: label }), control);
  const pickA = versions ? h("select", { id: "play-a", name: "a" }, ...refOptions(versions, a)) : null;
  const pickB = versions ? h("select", { id: "play-b", name: "b" }, ...refOptions(versions, b, { none: true })) : null;
  const form = h(
    "form",
    { id: "play-pick", class: "filters" },
    field("play-prompt", "Prompt", prompt),
    names ? h("datalist", { id: "play-prompts" }, ...names.map((n) => h("option", { value: n }))) : null,
    pickA ? field("play-a", "Version A", pickA) : null,
    pickB ? field("play-b", "Version B", pickB) : null,
    h("button", { type: "submit", text: "Open" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = prompt.value.trim();
    if (!chosen) return;
    go(chosen === name && pickA ? playgroundPath(chosen, pickA.value, pickB.value) : playgroundPath(chosen));
  });
  return form;
}

/** POST one call to the gateway; return its body, the server's cost and the round trip in ms. */
async function callGateway(model, variables) {
  const started = performance.now();
  let response;
  let body = null;
  try {
    response = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: { Authorization: `Bearer ${session.key}`, "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ model, variables }),
      cache: "no-store",
      credentials: "omit",
    });
    body = await response.json().catch(() => null);
  } catch {
    throw new ApiError(0, "Server unreachable", "The server could not be reached; is it running?");
  }
  const ms = performance.now() - started;
  if (!response.ok) {
    // The gateway answers errors in OpenAI's shape; a body refused before routing is problem JSON.
    const error = body?.error ?? {};
    const message = error.message || body?.detail || body?.title || response.statusText || "The call failed";
    const code = error.code ? `: ${error.code}` : "";
    throw new ApiError(response.status, `The gateway refused the call (${response.status}${code})`, message, [], body ?? {});
  }
  const cost = response.headers.get(COST_HEADER);
  return { body, ms, cost: cost == null || cost === "" ? null : Number(cost) };
}

function answerText(body) {
  const message = body.choices?.[0]?.message ?? {};
  if (message.content != null) return String(message.content);
  return message.tool_calls ? JSON.stringify(message.tool_calls, null, 2) : "";
}

function answerView({ body, ms, cost }) {
  const usage = body.usage ?? {};
  const facts = [
    ["Model", body.model ?? "–"],
    ["Tokens", `${usage.prompt_tokens ?? "–"} prompt · ${usage.completion_tokens ?? "–"} completion`],
    ["Cost", cost == null ? "– (no price)" : money(cost)],
    ["Latency", `${Math.round(ms)} ms`],
  ];
  return [
    h("pre", { class: "play-output", text: answerText(body) }),
    h(
      "dl",
      { class: "facts play-facts" },
      ...facts.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { "data-fact": k.toLowerCase(), text: v })]),
    ),
  ];
}

function panel(side, target) {
  const body = h("div", { class: "play-body" }, note("Running…", "loading"));
  const node = h(
    "section",
    { class: "play-result", "data-side": side, "aria-labelledby": `play-${side}-title`, "aria-busy": "true" },
    h("h3", { id: `play-${side}-title`, text: `${side.toUpperCase()}: ${target.title}` }),
    h("p", { class: "hint" }, "model ", h("code", { text: target.model })),
    body,
  );
  return { node, body };
}

function runOne(side, target, variables, isCurrent) {
  const { node, body } = panel(side, target);
  const done = (async () => {
    try {
      const answer = await callGateway(target.model, variables);
      if (isCurrent()) body.replaceChildren(...answerView(answer));
    } catch (error) {
      if (isCurrent()) fail(body, error);
    }
    node.removeAttribute("aria-busy");
  })();
  return { node, done };
}

function runForm(targets, isCurrent) {
  const [a, b] = targets;
  const names = [...new Set(targets.flatMap((t) => t.version.variables))];
  const variables = variablesInput(a.version, names);
  const results = h("div", { id: "play-results", class: "side-by-side", "aria-live": "polite" });
  const button = h("button", { type: "submit", id: "play-run", text: b ? "Run both" : "Run" });
  const form = h("form", { id: "play-form", class: "render-form" }, variables.node, can("gateway.call") ? button : null);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let values;
    try {
      values = variables.read();
    } catch (error) {
      fail(results, error);
      return;
    }
    button.disabled = true;
    const runs = targets.map((t, i) => runOne(i ? "b" : "a", t, values, isCurrent));
    results.replaceChildren(...runs.map((r) => r.node));
    await Promise.all(runs.map((r) => r.done));
    button.disabled = false;
  });
  const shared = b && a.version.variables_schema ? note("The variables follow version A's schema; both versions get the same ones.", "hint") : null;
  return [form, shared, results].filter(Boolean);
}

async function choosePrompt(picker, body, isCurrent) {
  let page;
  try {
    page = await api("/v1/prompts", { params: { limit: MAX_VERSIONS } });
  } catch (error) {
    if (isCurrent()) fail(body, error);
    return;
  }
  if (!isCurrent()) return;
  picker.replaceWith(pickForm("", null, "", "", page.items.map((p) => p.name)));
  body.replaceChildren(note(page.total ? "Pick a prompt, then one or two of its versions or labels." : "No prompts yet: push one with `promptlane push`."));
}

/** Render /console/playground?prompt=&a=&b=: the prompt's versions (one request), then calls. */
export async function playgroundPage(main, { query, isCurrent }) {
  const name = (query.get("prompt") || "").trim();
  const picker = h("div", { id: "play-picker" });
  const body = h("div", { id: "play-body" }, note("Loading…", "loading"));
  main.replaceChildren(
    h("h1", { tabindex: "-1", text: name ? `Playground: ${name}` : "Playground" }),
    h("p", { class: "hint", text: "Calls go through the gateway (POST /v1/chat/completions) and are recorded as gateway generations, cost included." }),
    picker,
    body,
  );
  if (!name) return choosePrompt(picker, body, isCurrent);
  picker.replaceWith(pickForm(name, null, "", "", null));
  let page;
  try {
    page = await api(promptApi(name, "/versions"), { params: { limit: MAX_VERSIONS } });
  } catch (error) {
    if (isCurrent()) fail(body, error);
    return;
  }
  if (!isCurrent()) return;
  const versions = page.items;
  if (!versions.length) {
    body.replaceChildren(note("This prompt has no versions yet."));
    return;
  }
  const a = (query.get("a") || "").trim() || (versions.some((v) => v.labels.includes("production")) ? "production" : String(versions[0].version));
  const b = (query.get("b") || "").trim();
  main.querySelector("#play-pick").replaceWith(pickForm(name, versions, a, b, null));
  const targets = [resolve(name, a, versions), ...(b ? [resolve(name, b, versions)] : [])];
  const broken = targets.find((t) => t.error);
  if (broken) {
    fail(body, broken.error);
    return;
  }
  body.replaceChildren(
    h("p", {}, link(promptPath(name, `?version=${targets[0].version.version}`), `Open ${name} v${targets[0].version.version}`)),
    ...runForm(targets, isCurrent),
  );
}
