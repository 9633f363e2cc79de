// The render preview: a variables form (from the version's JSON schema when it has one, else a
// JSON textarea) posted to the server's render endpoint; shows the messages or the problem.
// The playground (playground.js) reuses the variables form.

import { ApiError, api, fail, h, note, promptApi } from "./core.js";


function typeOf(spec) {
  const type = Array.isArray(spec.type) ? spec.type.find((t) => t !== "null") : spec.type;
  return type || (spec.enum ? "string" : "json");
}

function schemaField(name, spec, required) {
  const id = `var-${name}`;
  const type = typeOf(spec);
  const hint = [type, required ? "required" : null, spec.description].filter(Boolean).join(" · ");
  let input;
  if (spec.enum) {
    input = h("select", { id, name }, h("option", { value: "", text: "–" }), ...spec.enum.map((v) => h("option", { value: JSON.stringify(v), text: String(v) })));
  } else if (type === "boolean") {
    input = h("input", { id, name, type: "checkbox" });
  } else if (type === "number" || type === "integer") {
    input = h("input", { id, name, type: "number", step: type === "integer" ? "1" : "any" });
  } else if (type === "string") {
    input = h("textarea", { id, name, rows: 2 });
  } else {
    input = h("textarea", { id, name, rows: 3, class: "json", placeholder: "JSON" });
  }
  const field = h("div", { class: "field", "data-type": type }, h("label", { for: id, text: name }), input, h("span", { class: "hint", text: hint }));
  return { name, type, input, field, isEnum: Boolean(spec.enum) };
}

function readSchemaFields(fields) {
  const variables = {};
  for (const f of fields) {
    const raw = f.input.value;
    if (f.type === "boolean") variables[f.name] = f.input.checked;
    else if (raw === "") continue; // left empty: the server says whether it was required
    else if (f.isEnum) variables[f.name] = JSON.parse(raw);
    else if (f.type === "number" || f.type === "integer") variables[f.name] = Number(raw);
    else if (f.type === "string") variables[f.name] = raw;
    else variables[f.name] = parseJson(raw, `the value of ${f.name}`);
  }
  return variables;
}

function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError(0, "Invalid JSON", `${what} is not valid JSON: ${error.message}`);
  }
}

function renderedView(result) {
  const blocks = result.messages.map((m, i) =>
    h("div", { class: "message", "data-index": i }, h("p", { class: "message-role", text: m.role }), h("pre", { text: m.content })),
  );
  return h("div", { class: "rendered" }, h("p", { class: "hint", text: `Rendered v${result.version} (${result.content_hash.slice(0, 12)}):` }), ...blocks);
}

/**
 * Return a version's variables input: one field per property of its JSON schema, else one JSON
 * textarea prefilled with `names` (its variables); `read()` returns the object or throws ApiError.
 */
export function variablesInput(version, names = version.variables) {
  const schema = version.variables_schema;
  const properties = schema && schema.type === "object" && schema.properties ? schema.properties : null;
  const required = new Set(schema?.required || []);
  const fields = properties ? Object.entries(properties).map(([n, spec]) => schemaField(n, spec || {}, required.has(n))) : [];
  const textarea = properties
    ? null
    : h("textarea", {
        id: "variables-json",
        name: "variables",
        rows: Math.min(12, names.length + 3),
        class: "json",
        spellcheck: "false",
      });
  if (textarea) textarea.value = JSON.stringify(Object.fromEntries(names.map((v) => [v, ""])), null, 2);
  const node = properties
    ? h("fieldset", {}, h("legend", { text: "Variables (from the version's JSON schema)" }), ...fields.map((f) => f.field))
    : h("div", { class: "field" }, h("label", { for: "variables-json", text: "Variables (JSON object)" }), textarea);
  const read = () => {
    const variables = properties ? readSchemaFields(fields) : parseJson(textarea.value || "{}", "The variables");
    if (variables === null || typeof variables !== "object" || Array.isArray(variables)) {
      throw new ApiError(0, "Invalid variables", "The variables must be a JSON object.");
    }
    return variables;
  };
  return { node, read };
}

/** Return the render preview form for one version. */
export function renderPreview(name, version) {
  const variables = variablesInput(version);
  const output = h("div", { id: "render-output", "aria-live": "polite" });
  const form = h("form", { id: "render-form", class: "render-form" }, variables.node, h("button", { type: "submit", text: "Render" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    output.replaceChildren(note("Rendering…", "loading"));
    try {
      const body = { version: version.version, variables: variables.read() };
      output.replaceChildren(renderedView(await api(promptApi(name, "/render"), { method: "POST", body })));
    } catch (error) {
      fail(output, error);
    }
  });
  return h("div", {}, form, output);
}
