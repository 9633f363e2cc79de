// Hand-written SVG charts: lines and stacked bars over time buckets, one series per version.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 220;
const MARGIN = { top: 12, right: 12, bottom: 30, left: 72 };
const MAX_TICKS_X = 8;
// Label every Nth bucket, N from these (in buckets), so hour labels land on 00:00, 06:00, ...
const TICK_STEPS = { hour: [1, 2, 3, 4, 6, 12, 24, 48, 168], day: [1, 2, 7, 14, 28] };
const TICKS_Y = 4;

// Okabe–Ito: distinguishable with the common colour-vision deficiencies.
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#7F7F7F"];

let nextId = 0;

/** Return the colour of a prompt version (stable across ranges and reloads). */
export function versionColor(version) {
  return PALETTE[(Math.max(1, version) - 1) % PALETTE.length];
}

/** Create an SVG element with attributes and optional text. */
export function svg(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

const STEPS = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];

/** Return the top of the y axis: TICKS_Y equal steps of a round size (whole for counts). */
export function axisMax(value, integer = false) {
  if (!(value > 0)) return integer ? TICKS_Y : 1;
  const raw = value / TICKS_Y;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = STEPS.map((s) => Number((s * power).toPrecision(12))).find(
    (c) => raw <= c * (1 + 1e-9) && (!integer || c < 1 || Number.isInteger(c)),
  );
  return (integer ? Math.max(1, step) : step) * TICKS_Y;
}

function frame(spec) {
  const id = `chart-${++nextId}`;
  const root = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: `chart chart-${spec.kind}`,
    role: "img",
    "aria-labelledby": `${id}-title ${id}-desc`,
    "data-chart": spec.id,
    "data-buckets": spec.buckets.length,
  });
  root.append(svg("title", { id: `${id}-title` }, spec.title));
  root.append(svg("desc", { id: `${id}-desc` }, spec.description || describe(spec)));
  return root;
}

function scales(spec, max) {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const step = plotWidth / Math.max(1, spec.buckets.length);
  return {
    step,
    x: (i) => MARGIN.left + (i + 0.5) * step,
    y: (v) => MARGIN.top + plotHeight - (v / max) * plotHeight,
  };
}

function axes(root, spec, scale, max) {
  const group = svg("g", { class: "axis", "aria-hidden": "true" });
  for (let i = 0; i <= TICKS_Y; i += 1) {
    const value = (max * i) / TICKS_Y;
    const y = scale.y(value);
    group.append(svg("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y, y2: y, class: "grid" }));
    group.append(svg("text", { x: MARGIN.left - 6, y: y + 4, "text-anchor": "end" }, spec.format(value)));
  }
  const steps = TICK_STEPS[spec.bucket] || [1];
  const wanted = spec.buckets.length / MAX_TICKS_X;
  const every = steps.find((s) => s >= wanted) || steps[steps.length - 1];
  const size = spec.bucket === "day" ? 86_400_000 : 3_600_000;
  spec.buckets.forEach((date, i) => {
    if (Math.round(date.getTime() / size) % every !== 0) return;
    const x = scale.x(i);
    group.append(svg("text", { x, y: HEIGHT - 10, "text-anchor": "middle" }, spec.label(date)));
  });
  root.append(group);
}

function pointTitle(spec, series, i, value) {
  return `${series.name} · ${spec.label(spec.buckets[i])} · ${spec.format(value)}`;
}

function drawLine(root, spec, scale, series) {
  const group = svg("g", { class: "series", "data-version": series.version });
  let d = "";
  let drawing = false;
  series.values.forEach((value, i) => {
    if (value == null) {
      drawing = false;
      return;
    }
    d += `${drawing ? "L" : "M"}${scale.x(i).toFixed(1)},${scale.y(value).toFixed(1)}`;
    drawing = true;
  });
  const path = svg("path", { d, fill: "none", stroke: series.color, "stroke-width": 2 });
  if (series.dashed) path.setAttribute("stroke-dasharray", "6 4");
  group.append(path);
  const radius = spec.buckets.length > 60 ? 2 : 3;
  series.values.forEach((value, i) => {
    if (value == null) return;
    const dot = svg("circle", {
      cx: scale.x(i).toFixed(1),
      cy: scale.y(value).toFixed(1),
      r: radius,
      fill: series.color,
      class: "point",
    });
    dot.append(svg("title", {}, pointTitle(spec, series, i, value)));
    group.append(dot);
  });
  root.append(group);
}

function drawBars(root, spec, scale) {
  const base = spec.buckets.map(() => 0);
  const width = Math.max(1, scale.step * 0.8);
  for (const series of spec.series) {
    const group = svg("g", { class: "series", "data-version": series.version });
    series.values.forEach((value, i) => {
      if (!value) return;
      const top = scale.y(base[i] + value);
      const rect = svg("rect", {
        x: (scale.x(i) - width / 2).toFixed(1),
        y: top.toFixed(1),
        width: width.toFixed(1),
        height: Math.max(0.5, scale.y(base[i]) - top).toFixed(1),
        fill: series.color,
        class: "bar",
      });
      rect.append(svg("title", {}, pointTitle(spec, series, i, value)));
      group.append(rect);
      base[i] += value;
    });
    root.append(group);
  }
}

function maxOf(spec) {
  if (spec.kind === "bar") {
    return Math.max(0, ...spec.buckets.map((_, i) => spec.series.reduce((t, s) => t + (s.values[i] || 0), 0)));
  }
  return Math.max(0, ...spec.series.flatMap((s) => s.values.filter((v) => v != null)));
}

/** Return whether any series of a chart spec has a value to draw. */
export function hasData(spec) {
  return spec.series.some((s) => s.values.some((v) => v != null && (spec.kind !== "bar" || v > 0)));
}

function describe(spec) {
  const parts = spec.series.map((s) => {
    const values = s.values.filter((v) => v != null);
    if (!values.length) return `${s.name}: no data`;
    if (spec.kind === "bar") return `${s.name}: total ${spec.format(values.reduce((a, b) => a + b, 0))}`;
    const low = spec.format(Math.min(...values));
    const high = spec.format(Math.max(...values));
    return `${s.name}: ${values.length} points from ${low} to ${high}`;
  });
  return `${spec.title}. ${parts.join("; ")}.`;
}

/**
 * Draw a chart.
 *
 * spec: {id, kind: "line"|"bar", title, description, bucket: "hour"|"day", buckets: Date[], label(Date),
 *        format(number), integer (whole-number ticks), max (the usual top, e.g. 1 for scores),
 *        series: [{name, version, color, values: (number|null)[], dashed}]}
 */
export function chart(spec) {
  const top = maxOf(spec);
  const max = spec.max != null && top <= spec.max ? spec.max : axisMax(top, spec.integer);
  const root = frame(spec);
  const scale = scales(spec, max);
  axes(root, spec, scale, max);
  if (spec.kind === "bar") drawBars(root, spec, scale);
  else for (const series of spec.series) drawLine(root, spec, scale, series);
  return root;
}

/** Return a small colour swatch for legends. */
export function swatch(color, dashed = false) {
  const root = svg("svg", { viewBox: "0 0 24 10", class: "swatch", "aria-hidden": "true" });
  const line = svg("line", { x1: 1, x2: 23, y1: 5, y2: 5, stroke: color, "stroke-width": 3 });
  if (dashed) line.setAttribute("stroke-dasharray", "5 3");
  root.append(line);
  return root;
}
