import fc from "fast-check";
import { GraphQLError, type GraphQLScalarType } from "graphql";
import { describe, expect, it } from "vitest";
import { schema } from "../../src/graphql/schema.ts";
import { toSafeInt } from "../../src/graphql/stripe-objects.ts";

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

function rejection(value: bigint | number): GraphQLError {
  try {
    toSafeInt(value);
  } catch (error) {
    if (error instanceof GraphQLError) return error;
    throw error;
  }
  throw new Error(`${value} was accepted`);
}

describe("toSafeInt", () => {
  it("converts every BigInt within ±(2^53 − 1) to the number of exactly that value", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -MAX, max: MAX }), (value) => {
        const number = toSafeInt(value);
        expect(Number.isSafeInteger(number)).toBe(true);
        expect(BigInt(number)).toBe(value);
      }),
    );
    expect(toSafeInt(999_999_999_999n)).toBe(999_999_999_999);
    expect(toSafeInt(5_000_000_000n)).toBe(5_000_000_000);
    expect(toSafeInt(MAX)).toBe(Number.MAX_SAFE_INTEGER);
    expect(toSafeInt(-MAX)).toBe(Number.MIN_SAFE_INTEGER);
  });

  it("refuses every BigInt beyond, with a clear error that is not masked, instead of rounding", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.bigInt({ min: MAX + 1n, max: 2n ** 70n }),
          fc.bigInt({ min: -(2n ** 70n), max: -MAX - 1n }),
        ),
        (value) => {
          const error = rejection(value);
          expect(error.message).toContain(`(${value})`);
          expect(error.extensions.code).toBe("AMOUNT_OUT_OF_RANGE");
        },
      ),
    );
    expect(rejection(MAX + 1n).message).toBe(
      "This amount (9007199254740992) is beyond ±(2^53 − 1), past what a JSON number holds exactly; it is not sent rounded.",
    );
  });

  it("passes safe integer numbers (amounts read from raw JSON) and refuses the rest", () => {
    expect(toSafeInt(-5_000_000_000)).toBe(-5_000_000_000);
    for (const value of [2 ** 53, -(2 ** 53), 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(rejection(value).extensions.code).toBe("AMOUNT_OUT_OF_RANGE");
  });

  it("is what the SafeInt scalar of the schema sends as a JSON number", () => {
    const scalar = schema.getType("SafeInt") as GraphQLScalarType;
    expect(JSON.stringify({ amount: scalar.serialize(toSafeInt(999_999_999_999n)) })).toBe(
      '{"amount":999999999999}',
    );
    expect(() => scalar.serialize(2 ** 53)).toThrow();
  });
});
