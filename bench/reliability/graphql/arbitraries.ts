// Values for every argument type of the schema, mostly plausible and partly hostile: IDs (own, another
// org's, malformed global ids), strings (unicode, control characters, huge), Ints (negative, past 32 bits,
// not integers), Booleans, DateTimes (valid and not), JSON (deep, large), enums (valid and not), input
// objects (fields missing, extra, null) and lists (empty, long, a single value) — and, for any of them,
// a value of another type.

import type { Arbitrary } from "fast-check";
import * as fc from "fast-check";
import {
  type GraphQLInputType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
} from "graphql";

export type IdPools = {
  /** Global ids of the fuzzed org's own objects */
  own: string[];
  /** Global ids of other orgs' objects: must answer as if they did not exist */
  foreign: string[];
  /** Row ids (not global ids) of real objects, for type confusion */
  rows: string[];
};

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

const wrongType: Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.integer(),
  fc.boolean(),
  fc.double(),
  fc.constant([]),
  fc.constant({}),
  fc.constant({ nested: { deeper: [1, "two", null] } }),
);

const hostileStrings: Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 64 }),
  fc.string({ unit: "grapheme", maxLength: 64 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "\u202e\u0000\u0007\u001b[31m",
    "' OR 1=1 --",
    '"; DROP TABLE "Org"; --',
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "%s%s%s%n",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text of a log4j-style injection, on purpose
    "${jndi:ldap://127.0.0.1/x}",
    "{{7*7}}",
    "__proto__",
    "constructor",
    "\ud800",
    "😀".repeat(500),
  ),
  fc.integer({ min: 1_000, max: 60_000 }).map((n) => "x".repeat(n)),
  fc.integer({ min: 1_000, max: 20_000 }).map((n) => "é\u0301😀".repeat(n / 4)),
);

const plausibleStrings: Arbitrary<string> = fc.constantFrom(
  "Acme",
  "https://app.example.com/stripe/connected",
  "http://127.0.0.1:1/return",
  "javascript:alert(1)",
  "https://marketplace.stripe.com/oauth/v2/chnlink_x/authorize",
  "https://evil.example/oauth/v2/chnlink_x/authorize",
  "sk_test_abc",
  "sk_live_0123456789abcdefghij",
  "rk_test_0123456789",
  "pk_test_wrongkind",
  "whsec_0123456789abcdef",
  "ca_0123456789abcdef",
  "paid",
  "in_transit",
  "payout.*",
  "*",
  "charge.succeeded",
  "po_123",
  "acct_123",
  "com.example.app",
  "0.0.1",
  '{"id":"com.example.app","version":"0.0.1","name":"x","stripe_api_access_type":"oauth","distribution_type":"public","permissions":[]}',
  "{not json",
  "[]",
);

function idArbitrary(pools: IdPools): Arbitrary<string> {
  const confused = fc
    .constantFrom("StripeConnection", "StripePayout", "StripeEvent", "Org", "ApiKey", "AccessToken", "Nope")
    .chain((type) =>
      fc.oneof(
        fc.string({ maxLength: 40 }).map((id) => base64(`${type}:${id}`)),
        pools.rows.length
          ? fc.constantFrom(...pools.rows).map((row) => base64(`${type}:${row}`))
          : fc.constant(base64(`${type}:`)),
      ),
    );
  return fc.oneof(
    { weight: 5, arbitrary: pools.own.length ? fc.constantFrom(...pools.own) : fc.constant("") },
    { weight: 2, arbitrary: pools.foreign.length ? fc.constantFrom(...pools.foreign) : fc.constant("") },
    {
      weight: 3,
      arbitrary: fc.oneof(
        fc.constantFrom(
          "",
          "=",
          "%%%",
          "not base64!!",
          "U3RyaXBlQ29ubmVjdGlvbjo",
          base64(":"),
          base64("StripeConnection:"),
        ),
        confused,
        fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString("base64")),
        fc.integer({ min: 1_000, max: 50_000 }).map((n) => base64(`StripeConnection:${"a".repeat(n)}`)),
      ),
    },
    { weight: 1, arbitrary: pools.rows.length ? fc.constantFrom(...pools.rows) : fc.constant("row") },
    { weight: 1, arbitrary: hostileStrings },
  );
}

const INT_EDGES = [
  0,
  -1,
  1,
  100,
  101,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  -(2 ** 31) - 1,
  2 ** 53,
  2 ** 53 + 2,
  1e21,
  1.5,
  -0.5,
];

const invalidDates = fc.constantFrom(
  "",
  "yesterday",
  "2026-02-30T00:00:00Z",
  "2026-13-01T00:00:00Z",
  "2026-01-01T25:61:00Z",
  "0000-00-00T00:00:00Z",
  "+275760-09-13T00:00:00.001Z",
  "-271821-04-20T00:00:00Z",
  "2026-01-01",
  "1700000000",
  "2026-01-01T00:00:00+25:00",
  "9999-12-31T23:59:59.999999999Z",
);

/**
 * JSON thousands of levels deep cannot go through JSON.stringify (nor a recursive literal printer): it is
 * a placeholder string here, which the request body swaps for the nested text (withDeepJson).
 */
const deepJson = fc.integer({ min: 100, max: 5_000 }).map((depth) => `@@deep-json-${depth}@@`);

/** The request body with each deep-JSON placeholder replaced: GraphQL syntax inside the query, JSON in variables. */
export function withDeepJson(body: string): string {
  const nested = (depth: number, open: (i: number) => string, close: (i: number) => string) => {
    const parts: string[] = [];
    for (let i = 0; i < depth; i++) parts.push(open(i));
    parts.push("0");
    for (let i = depth - 1; i >= 0; i--) parts.push(close(i));
    return parts.join("");
  };
  return body
    .replace(/\\"@@deep-json-(\d+)@@\\"/g, (_, depth: string) =>
      nested(
        Number(depth),
        (i) => (i % 2 ? "[" : "{d: "),
        (i) => (i % 2 ? "]" : "}"),
      ),
    )
    .replace(/"@@deep-json-(\d+)@@"/g, (_, depth: string) =>
      nested(
        Number(depth),
        (i) => (i % 2 ? "[" : '{"d":'),
        (i) => (i % 2 ? "]" : "}"),
      ),
    );
}

const largeJson = fc
  .integer({ min: 1_000, max: 8_000 })
  .map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i % 3 ? i : `v${i}`])));

function scalarArbitrary(name: string, pools: IdPools): Arbitrary<unknown> {
  switch (name) {
    case "ID":
      return idArbitrary(pools);
    case "String":
      return fc.oneof(
        { weight: 4, arbitrary: plausibleStrings },
        { weight: 3, arbitrary: fc.string() },
        { weight: 3, arbitrary: hostileStrings },
      );
    case "Int":
    case "SafeInt":
      return fc.oneof(
        { weight: 5, arbitrary: fc.integer({ min: -5, max: 150 }) },
        { weight: 3, arbitrary: fc.constantFrom(...INT_EDGES) },
        { weight: 1, arbitrary: fc.integer() },
      );
    case "Float":
      return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(...INT_EDGES));
    case "Boolean":
      return fc.boolean();
    case "DateTime":
      return fc.oneof(
        {
          weight: 4,
          arbitrary: fc
            .date({ min: new Date("1970-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
            .map((d) => d.toISOString()),
        },
        { weight: 3, arbitrary: invalidDates },
        { weight: 1, arbitrary: fc.integer() },
      );
    case "JSON":
      return fc.oneof(
        { weight: 5, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
        { weight: 1, arbitrary: deepJson },
        { weight: 1, arbitrary: largeJson },
        { weight: 1, arbitrary: fc.object() },
      );
    default:
      return fc.oneof(fc.string(), fc.integer(), fc.jsonValue({ maxDepth: 2 }));
  }
}

/** A value for an argument or input field of `type`. */
export function inputValue(type: GraphQLInputType, pools: IdPools, depth = 0): Arbitrary<unknown> {
  if (isNonNullType(type))
    return fc.oneof(
      { weight: 15, arbitrary: inputValue(type.ofType, pools, depth) },
      { weight: 1, arbitrary: fc.constant(null) },
    );
  const value = ((): Arbitrary<unknown> => {
    if (isListType(type)) {
      const item = inputValue(type.ofType, pools, depth + 1);
      return fc.oneof(
        { weight: 8, arbitrary: fc.array(item, { maxLength: 4 }) },
        { weight: 1, arbitrary: fc.array(item, { minLength: 100, maxLength: 1_500 }) },
        { weight: 1, arbitrary: item },
        { weight: 1, arbitrary: fc.constant(null) },
      );
    }
    if (isEnumType(type)) {
      const names = type.getValues().map((v) => v.name);
      return fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...names) },
        { weight: 1, arbitrary: fc.constantFrom("INVALID", "ready", "", `${names[0]} `, "__typename") },
      );
    }
    if (isInputObjectType(type)) {
      if (depth > 4) return fc.constant(null);
      const fields = Object.values(type.getFields());
      const model = Object.fromEntries(
        fields.map((field) => [field.name, inputValue(field.type, pools, depth + 1)]),
      );
      const required = fields.filter((field) => isNonNullType(field.type)).map((field) => field.name);
      return fc.oneof(
        { weight: 8, arbitrary: fc.record(model, { requiredKeys: required }) },
        { weight: 1, arbitrary: fc.record(model, { requiredKeys: [] }) },
        {
          weight: 1,
          arbitrary: fc
            .tuple(
              fc.record(model, { requiredKeys: required }),
              fc.string({ minLength: 1, maxLength: 12 }),
              fc.jsonValue({ maxDepth: 1 }),
            )
            .map(([object, key, extra]) => ({ ...object, [key]: extra })),
        },
      );
    }
    if (isScalarType(type)) return scalarArbitrary(type.name, pools);
    return wrongType;
  })();
  return fc.oneof({ weight: 12, arbitrary: value }, { weight: 1, arbitrary: wrongType });
}
