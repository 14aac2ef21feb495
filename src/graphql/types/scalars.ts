import { GraphQLScalarType } from "graphql";
import { DateTimeResolver, JSONResolver, SafeIntResolver } from "graphql-scalars";
import { builder } from "../builder.ts";

const MS_PER_DAY = 86_400_000;
/** 10000-01-01T00:00:00Z: from there on toISOString writes six-digit years. */
const YEAR_10000 = 253_402_300_800_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, "0"));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, "0"));

/**
 * `date.toISOString()` (2026-01-31T09:05:03.042Z), written with integer arithmetic: graphql-scalars'
 * DateTime hands the Date itself to JSON.stringify, which then calls Date.toJSON per value (the profile's
 * 200 calls per 100-row page) and leaves its fast path for plain strings. Dates before 1970 or from the
 * year 10000 on take toISOString itself.
 */
export function isoString(date: Date): string {
  const time = date.getTime();
  if (!(time >= 0 && time < YEAR_10000)) return date.toISOString();
  const days = Math.floor(time / MS_PER_DAY);
  let ms = time - days * MS_PER_DAY;
  // Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil, inverted), all non-negative here.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(ms / 3_600_000);
  ms -= hours * 3_600_000;
  const minutes = Math.floor(ms / 60_000);
  ms -= minutes * 60_000;
  const seconds = Math.floor(ms / 1000);
  ms -= seconds * 1000;
  return `${year}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}T${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[ms]}Z`;
}

const dateTime = DateTimeResolver.toConfig();

/**
 * graphql-scalars' DateTime (same name, description, parsing and errors) that serializes to the string
 * JSON.stringify would have written for the Date it returns: toJSON's ISO 8601 text, milliseconds and Z.
 */
const DateTime = new GraphQLScalarType({
  ...dateTime,
  serialize(value) {
    if (value instanceof Date && !Number.isNaN(value.getTime())) return isoString(value);
    const serialized = dateTime.serialize(value);
    return serialized instanceof Date ? serialized.toJSON() : serialized;
  },
});

builder.addScalarType("DateTime", DateTime);
builder.addScalarType("JSON", JSONResolver);
builder.addScalarType("SafeInt", SafeIntResolver, {
  description:
    "An integer exact up to ±(2^53 − 1), sent as a JSON number. Every amount is one: Stripe amounts reach 12 digits (IDR) and JPY payouts pass 2,147,483,647, far past GraphQL's 32-bit Int.",
});

export const DateTimeRange = builder.inputType("DateTimeRange", {
  fields: (t) => ({
    gte: t.field({ type: "DateTime", required: false }),
    lte: t.field({ type: "DateTime", required: false }),
  }),
});
