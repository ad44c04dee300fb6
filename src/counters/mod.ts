/**
 * Interface byte counters through iproute2, with upstream's direction rule and overrides.
 */
import type { Logger } from "../log/logger.ts";
import { counterDirections } from "./direction.ts";
import {
  IpBatchSource,
  type IpSourceOptions,
  IpSpawnSource,
  type LinkStatsSource,
} from "./ip_link.ts";
import type { CounterSide } from "./types.ts";
import { realSleep } from "../util/clock.ts";
import type { CounterReader, CounterReading, CounterReadOptions } from "../control/ports.ts";

export * from "./types.ts";
export * from "./direction.ts";
export * from "./ip_link.ts";

/** Counters of the download and upload interfaces from a link statistics source. */
export class LinkCounterReader implements CounterReader {
  readonly #source: LinkStatsSource;
  readonly #dlIf: string;
  readonly #ulIf: string;
  readonly #dlSide: CounterSide;
  readonly #ulSide: CounterSide;
  readonly #logger?: Logger;
  #missing = "";

  /** Reads `dlIf`'s `dlSide` counter and `ulIf`'s `ulSide` counter from `source`. */
  constructor(
    source: LinkStatsSource,
    options: {
      dlIf: string;
      ulIf: string;
      dlSide: CounterSide;
      ulSide: CounterSide;
      logger?: Logger;
    },
  ) {
    this.#source = source;
    this.#dlIf = options.dlIf;
    this.#ulIf = options.ulIf;
    this.#dlSide = options.dlSide;
    this.#ulSide = options.ulSide;
    this.#logger = options.logger;
  }

  /**
   * One reading; `null` (logged once per outage) when an interface is missing, and when the
   * source has none. A reading is the tick's first turn of the event loop, in which the pinger's
   * lines that waited while the thread was blocked are taken in (src/control/loop.ts, `tick`); a
   * source that has none may have waited for nothing (a helper or ssh session in its restart
   * delay answers at once), so a failed reading takes one 0 ms timer before it answers. Without
   * it a daemon whose router refused the key went through whole ticks without a turn, found no
   * fresh reflector and reselected every few seconds (docs/remote.md, "Start-up and faults").
   */
  async read(options: CounterReadOptions = {}): Promise<CounterReading | null> {
    let stats;
    try {
      stats = await this.#source.stats([this.#dlIf, this.#ulIf], options);
    } catch {
      stats = null;
    }
    if (stats === null) {
      await realSleep(0);
      return null;
    }
    const dl = stats.get(this.#dlIf);
    const ul = stats.get(this.#ulIf);
    if (dl === undefined || ul === undefined) {
      const missing = [dl ? "" : this.#dlIf, ul ? "" : this.#ulIf].filter((x) => x).join(", ");
      if (missing !== this.#missing) {
        this.#logger?.warn("interface missing, cannot read its counters: {missing}", { missing });
      }
      this.#missing = missing;
      return null;
    }
    if (this.#missing !== "") this.#logger?.info("interfaces are back: counters readable again");
    this.#missing = "";
    return {
      dlBytes: dl[this.#dlSide],
      ulBytes: ul[this.#ulSide],
      dlIfindex: dl.ifindex,
      ulIfindex: ul.ifindex,
    };
  }

  /** Stops the source's processes. */
  close(): Promise<void> {
    return this.#source.close();
  }
}

/** Options of `createCounterReader`. */
export interface CounterReaderOptions extends IpSourceOptions {
  /** `batch` (default): one supervised `ip -batch` coprocess; `spawn`: one process per read. */
  mode?: "batch" | "spawn";
  /** Another statistics source instead of `ip` (remote mode); `mode` is then ignored. */
  source?: LinkStatsSource;
}

/** The daemon's counter reader for the settings `dl_if`, `ul_if`, `dl_counter`, `ul_counter`. */
export function createCounterReader(
  settings: {
    dl_if: string;
    ul_if: string;
    dl_counter: "auto" | "rx" | "tx";
    ul_counter: "auto" | "rx" | "tx";
  },
  options: CounterReaderOptions = {},
): LinkCounterReader {
  const sides = counterDirections(settings);
  const source = options.source ??
    (options.mode === "spawn" ? new IpSpawnSource(options) : new IpBatchSource(options));
  return new LinkCounterReader(source, {
    dlIf: settings.dl_if,
    ulIf: settings.ul_if,
    dlSide: sides.dl,
    ulSide: sides.ul,
    logger: options.logger,
  });
}
