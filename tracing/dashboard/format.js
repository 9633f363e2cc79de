// Number and time formatting for the dashboard (USD, milliseconds, percentages, UTC times).

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const percentFormat = new Intl.NumberFormat(undefined, {
  style: "percent",
  maximumFractionDigits: 1,
});
const usdFormats = new Map();

function usdFormat(maxDigits) {
  if (!usdFormats.has(maxDigits)) {
    usdFormats.set(
      maxDigits,
      new Intl.NumberFormat(undefined, {
        style: "currency",
        currency: "USD",
        minimumFractionDigits: 2,
        maximumFractionDigits: maxDigits,
      }),
    );
  }
  return usdFormats.get(maxDigits);
}

/** Format a cost in USD, keeping enough digits for fractions of a cent. */
export function usd(value) {
  if (value == null) return "–";
  const size = Math.abs(value);
  const digits = size === 0 || size >= 1 ? 2 : size >= 0.01 ? 4 : 6;
  return usdFormat(digits).format(value);
}

/** Format a duration in milliseconds (seconds from 1000 ms). */
export function ms(value) {
  if (value == null) return "–";
  if (Math.abs(value) >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (value === 0) return "0 ms";
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
}

/** Format a 0..1 fraction as a percentage. */
export function percent(value) {
  return value == null ? "–" : percentFormat.format(value);
}

/** Format a whole count. */
export function count(value) {
  return value == null ? "–" : numberFormat.format(value);
}

/** Format a score (usually 0..1) with three decimals. */
export function score(value) {
  return value == null ? "–" : value.toFixed(3);
}

/** Format a population stability index. */
export function psi(value) {
  return value == null ? "–" : value.toFixed(3);
}

const hourFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
  timeZone: "UTC",
});
const dayFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  timeZone: "UTC",
});
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
  timeZone: "UTC",
});

/** Format a bucket start for an axis: the hour, with the day when the range spans days. */
export function bucketLabel(date, bucket, spansDays) {
  if (bucket === "day" || (spansDays && date.getUTCHours() === 0)) return dayFormat.format(date);
  return spansDays ? dateTimeFormat.format(date) : hourFormat.format(date);
}

/** Format a timestamp (ISO string or Date) as a short UTC date and time. */
export function when(value) {
  if (!value) return "–";
  return `${dateTimeFormat.format(new Date(value))} UTC`;
}
