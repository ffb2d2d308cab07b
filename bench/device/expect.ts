// The few vitest `expect` matchers the parity harness (test/backend/parity-harness.ts) uses, for
// the bundled CUDA parity runner (bundle.mjs aliases "vitest" here: vitest does not travel).
import { isDeepStrictEqual, inspect } from "node:util";

const show = (v: unknown) => inspect(v, { depth: 4, maxArrayLength: 8, breakLength: Infinity });

/** A failed expectation; the message says what was compared. */
export class ExpectationError extends Error {}

export function expect(actual: unknown, label?: string) {
  const fail = (what: string) => {
    throw new ExpectationError(`${label ? `${label}: ` : ""}${what}`);
  };
  return {
    toBe(expected: unknown) {
      if (!Object.is(actual, expected)) fail(`expected ${show(actual)} to be ${show(expected)}`);
    },
    toEqual(expected: unknown) {
      if (!isDeepStrictEqual(actual, expected)) fail(`expected ${show(actual)} to equal ${show(expected)}`);
    },
    toBeLessThanOrEqual(limit: number) {
      if (!((actual as number) <= limit)) fail(`expected ${show(actual)} ≤ ${limit}`);
    },
    toBeGreaterThan(limit: number) {
      if (!((actual as number) > limit)) fail(`expected ${show(actual)} > ${limit}`);
    },
    toMatch(pattern: RegExp | string) {
      const ok = typeof pattern === "string" ? String(actual).includes(pattern) : pattern.test(String(actual));
      if (!ok) fail(`expected ${show(actual)} to match ${String(pattern)}`);
    },
  };
}
