/**
 * One way to put a layer around the shaper port: a shaper whose `setRate` or `check` does more
 * (the remote router check, the stop gate, the foreign-rate watch) and forwards everything else,
 * `queue` read live, so that a field added to `Shaper` is forwarded by every layer alike.
 */
import type { Shaper, ShaperPair } from "./ports.ts";

/** `shaper` with `over`'s `setRate` and `check` in place of its own; the rest forwarded. */
export function shaperWith(
  shaper: Shaper,
  over: Partial<Pick<Shaper, "setRate" | "check">>,
): Shaper {
  return {
    kind: shaper.kind,
    ifname: shaper.ifname,
    setRate: over.setRate ?? ((kbit) => shaper.setRate(kbit)),
    check: over.check ?? (() => shaper.check()),
    readRate: shaper.readRate?.bind(shaper),
    rateInForce: shaper.rateInForce?.bind(shaper),
    get queue() {
      return shaper.queue;
    },
  };
}

/** `pair` with each shaper put through `wrap`; `close` and `stopping` forwarded. */
export function mapShaperPair(pair: ShaperPair, wrap: (s: Shaper) => Shaper): ShaperPair {
  return {
    dl: wrap(pair.dl),
    ul: wrap(pair.ul),
    close: pair.close?.bind(pair),
    stopping: pair.stopping?.bind(pair),
  };
}
