/**
 * Test assertions with the familiar std names, built on `node:assert` (JSR's @std/assert cannot be
 * installed here).
 */
import nodeAssert from "node:assert/strict";

/** Asserts deep equality. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, message);
}

/** Asserts a condition is truthy. */
export function assert(condition: unknown, message?: string): asserts condition {
  nodeAssert.ok(condition, message);
}

/** Asserts `|actual − expected| ≤ tolerance`. */
export function assertAlmostEquals(actual: number, expected: number, tolerance = 1e-7): void {
  nodeAssert.ok(
    Math.abs(actual - expected) <= tolerance,
    `expected ${actual} to be within ${tolerance} of ${expected}`,
  );
}

/** Asserts `fn` throws an instance of `ErrorClass` and returns it. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  ErrorClass: new (...args: never[]) => E,
): E {
  try {
    fn();
  } catch (e) {
    nodeAssert.ok(e instanceof ErrorClass, `expected ${ErrorClass.name}, got ${e}`);
    return e as E;
  }
  throw new nodeAssert.AssertionError({ message: `expected ${ErrorClass.name} to be thrown` });
}

/** Asserts the promise returned by `fn` rejects with `ErrorClass` and returns the error. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  ErrorClass: new (...args: never[]) => E,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    nodeAssert.ok(e instanceof ErrorClass, `expected ${ErrorClass.name}, got ${e}`);
    return e as E;
  }
  throw new nodeAssert.AssertionError({ message: `expected ${ErrorClass.name} to be rejected` });
}

/**
 * Polls `cond` every 10 ms until it holds, failing after `ms` — for tests that wait on real child
 * processes (virtual time cannot speed those up).
 */
export async function waitUntil(
  cond: () => boolean,
  ms = 5000,
  what = "condition",
): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Asserts `actual` contains `expected`; the message shows both. */
export function assertStringIncludes(actual: string, expected: string, message?: string): void {
  if (!actual.includes(expected)) {
    throw new Error(message ?? `expected to find ${JSON.stringify(expected)} in:\n${actual}`);
  }
}
