/**
 * A number typed with a unit (`upload_base_kbits '20mbit'`, `SQMA_DOWNLOAD_BASE_KBITS=100M`,
 * `--tick-interval 500ms`) is refused like any other non-number, and the message says what to
 * write instead: the number alone, in the setting's unit, converted (docs/operation.md, "Rates in
 * Mbit/s where kbit/s is meant").
 */

/** Factors to each setting unit from the unit words an owner types (lower case). */
const TO_UNIT: Record<string, Record<string, number>> = {
  "kbit/s": { k: 1, m: 1e3, g: 1e6, bit: 1e-3 },
  "ms": { ms: 1, s: 1e3 },
  "s": { ms: 1e-3, s: 1, min: 60 },
  "min": { s: 1 / 60, min: 1, h: 60 },
};

// A number, then a unit word: rates as 20M, 20mbit, 20 Mbit/s, 20mbps, 20000kbit; times as 500ms,
// 2s, 15 min.
const WITH_UNIT = /^(\d+(?:\.\d+)?)\s*([a-z]+)(?:\/s)?$/i;

function unitWord(unit: string, word: string): string | undefined {
  const w = word.toLowerCase();
  if (unit !== "kbit/s") return w === "sec" ? "s" : w === "mins" ? "min" : w;
  if (w === "bit" || w === "bps" || w === "b") return "bit";
  // k, kb, kbit, kbps, kibit (read as k: a hint, not a conversion to the last bit)
  const m = /^([kmg])(?:i?b(?:it|ps)?)?$/.exec(w);
  return m?.[1];
}

/**
 * The hint for `raw` given to a setting measured in `unit`, e.g. `a number alone, in kbit/s:
 * 20mbit is 20000`; undefined when `raw` is not a number with a unit this knows.
 */
export function unitHint(raw: string, unit: string | undefined): string | undefined {
  if (unit === undefined) return undefined;
  const factors = TO_UNIT[unit];
  const m = WITH_UNIT.exec(raw.trim());
  if (factors === undefined || m === null) return undefined;
  const word = unitWord(unit, m[2]);
  const factor = word === undefined ? undefined : factors[word];
  if (factor === undefined) return undefined;
  const value = Number((Number(m[1]) * factor).toPrecision(12));
  return `a number alone, in ${unit}: ${raw.trim()} is ${value}`;
}
