/**
 * Bytes a byte counter moved between two readings, across a 32-bit wrap (docs/operation.md,
 * "Byte counters that go backwards"). Shared by the control loop's load and idle detection.
 */

/**
 * Where a 32-bit counter wraps: a driver that keeps its statistics in an `unsigned long` on a
 * 32-bit kernel (many MIPS and ARM routers) reports bytes modulo 2^32, through `ip` and sysfs
 * alike.
 */
export const COUNTER32_WRAP = 2 ** 32;

/**
 * A wrap is taken as one only while the bytes it implies fit this many times the direction's
 * highest rate over the interval; a bigger "wrap" is a counter reset to about 0.
 */
export const WRAP_RATE_FACTOR = 4;

/** Bytes → kbit. */
const KBIT_PER_BYTE = 8 / 1000;

/**
 * Bytes counted from `prev` to `cur` (`dtS` seconds apart), or `undefined` when the counter was
 * reset. A decrease of a counter below 2^32 is a 32-bit wrap when the bytes it implies,
 * `cur + 2^32 − prev`, are at most `WRAP_RATE_FACTOR` × `maxKbit` over `dtS`; any other decrease
 * (a counter zeroed, a 64-bit one gone back) and a non-finite value are a reset.
 */
export function counterDelta(
  prev: number,
  cur: number,
  options: { dtS: number; maxKbit: number },
): number | undefined {
  const d = cur - prev;
  if (!Number.isFinite(d)) return undefined;
  if (d >= 0) return d;
  if (prev >= COUNTER32_WRAP || cur < 0) return undefined;
  const wrapped = d + COUNTER32_WRAP;
  const plausible = WRAP_RATE_FACTOR * options.maxKbit * Math.max(0, options.dtS) / KBIT_PER_BYTE;
  return wrapped <= plausible ? wrapped : undefined;
}
