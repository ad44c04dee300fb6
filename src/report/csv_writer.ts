/**
 * A buffered CSV file with a header, rotated at a size limit: when the next write would pass
 * the limit, the file becomes `<path>.1` (replacing an older one) and a new file with the
 * header starts; optionally so does a file a previous run left (docs/formats.md §3.1). Write
 * errors are logged once per burst and never thrown (reporting must not stop the control loop);
 * after one, writing resumes by appending to what is there (the header
 * is only written to a missing or empty file), never by truncating earlier rows, and the
 * resumption is logged with the rows dropped meanwhile. A file deleted, moved away or emptied
 * while running is started again with its header, and a missing directory is made (like
 * `mkdir -p`), at start as when it vanishes (docs/operation.md, "Statistics files on a full or
 * read-only /tmp").
 */
import type { Logger } from "../log/logger.ts";
import * as posix from "../util/posix_path.ts";
import type { FileStore } from "./store.ts";

/** Options of a rotating CSV writer of rows `T`. */
export interface CsvWriterOptions<T = string> {
  /** File operations. */
  store: FileStore;
  /** Rotate when the file would exceed this many bytes (0 = never). */
  maxBytes: number;
  /** Write the buffer out once it holds this many rows. Default 10 (5 s of 0.5 s ticks). */
  flushEveryRows?: number;
  /** Where write failures are reported. */
  logger?: Logger;
  /** The setting naming the file, for messages (e.g. `stats_file`). Default: the path alone. */
  setting?: string;
  /**
   * A non-empty file there at the first write (a previous run's) becomes `<path>.1`, as at a
   * rotation, instead of being emptied (the daemon; docs/formats.md §3.1). Default false.
   */
  keepPrevious?: boolean;
  /**
   * Turns a row into its line (without the newline), when its write is due: all rows of a write
   * together, so the formatting runs warm once per write rather than cold after every decision's
   * wake-up (docs/footprint.md, "Twenty-second session"). Default: the row is the line (`T` =
   * string).
   */
  format?: (row: T) => string;
}

const encoder = new TextEncoder();

/** One rotating, buffered CSV file of rows `T`. */
export class RotatingCsvWriter<T = string> {
  readonly #path: string;
  readonly #header: string;
  readonly #store: FileStore;
  readonly #maxBytes: number;
  readonly #flushEveryRows: number;
  readonly #logger?: Logger;
  readonly #setting: string;
  readonly #keepPrevious: boolean;
  readonly #format: (row: T) => string;
  /** Rows not yet written, kept as given (not copied: callers build a new one per row). */
  #pending: T[] = [];
  #size = 0;
  #opened = false;
  #reopen = false;
  #failing = false;
  /** Rows given to writes that failed since the last successful one. */
  #dropped = 0;
  #chain: Promise<void> = Promise.resolve();

  /** `header` is the first line without the newline. */
  constructor(path: string, header: string, options: CsvWriterOptions<T>) {
    this.#path = path;
    this.#header = header + "\n";
    this.#store = options.store;
    this.#maxBytes = options.maxBytes;
    this.#flushEveryRows = Math.max(1, options.flushEveryRows ?? 10);
    this.#logger = options.logger;
    this.#setting = options.setting ?? "the file";
    this.#keepPrevious = options.keepPrevious ?? false;
    this.#format = options.format ?? ((row) => String(row));
  }

  /** The file path. */
  get path(): string {
    return this.#path;
  }

  /** Queues one row (without the newline); writes out when enough rows are buffered. */
  writeRow(row: T): void {
    this.#pending.push(row);
    if (this.#pending.length >= this.#flushEveryRows) void this.flush();
  }

  /** Writes every buffered row; resolves when they are on disk (or the failure is logged). */
  flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    const rows: string[] = [];
    for (let i = 0; i < pending.length; i++) rows.push(this.#format(pending[i]) + "\n");
    this.#chain = this.#chain.then(() => this.#write(rows));
    return this.#chain;
  }

  /** `retry`: a write that finds the directory missing makes it and tries once more. */
  async #write(rows: string[], retry = true): Promise<void> {
    // Only a write that reached the file ends a failure: an empty flush proves nothing.
    let wrote = false;
    try {
      if (!this.#opened) {
        // First open: a fresh file (a previous run's kept as `.1` when asked: a daemon restarted
        // by SIGHUP or after a crash). After a failure: keep what was written, if anything.
        const existing = this.#reopen || this.#keepPrevious
          ? await this.#store.size(this.#path)
          : null;
        if (!this.#reopen && existing !== null && existing > 0) {
          await this.#rotate();
          wrote = true;
        } else if (existing === null || existing === 0) {
          await this.#store.writeNew(this.#path, this.#header);
          this.#size = encoder.encode(this.#header).length;
          wrote = true;
        } else {
          this.#size = existing;
        }
        this.#opened = true;
        this.#reopen = false;
      }
      // All rows at once unless they may pass the limit (≤ 3 bytes per UTF-16 unit): one
      // encoding per write instead of one per row (docs/footprint.md, "CPU under load").
      const all = rows.join("");
      if (this.#maxBytes <= 0 || this.#size + 3 * all.length <= this.#maxBytes) {
        if (all !== "") {
          await this.#append(all);
          wrote = true;
        }
        this.#size += encoder.encode(all).length;
        if (wrote) this.#succeeded();
        return;
      }
      let chunk = "";
      let chunkBytes = 0;
      for (const row of rows) {
        const n = encoder.encode(row).length;
        if (this.#maxBytes > 0 && this.#size + chunkBytes + n > this.#maxBytes) {
          if (chunk !== "") await this.#append(chunk);
          await this.#rotate();
          chunk = "";
          chunkBytes = 0;
        }
        chunk += row;
        chunkBytes += n;
      }
      if (chunk !== "") await this.#append(chunk);
      this.#size += chunkBytes;
      this.#succeeded();
    } catch (e) {
      // Check the file again on the next attempt (it may have been deleted or filled up).
      this.#opened = false;
      this.#reopen = true;
      if (e instanceof Deno.errors.NotFound && retry) {
        const made = await this.#makeDir();
        if (made !== undefined) return this.#write(rows, false);
      } else this.#failed(e as Error);
      this.#dropped += rows.length;
    }
  }

  /** Logs the first failure of a fault (once, until a write works again). */
  #failed(e: Error, message = "cannot write {path}: {error}", dir?: string): void {
    if (!this.#failing) {
      const error = e instanceof Deno.errors.NotCapable
        ? `${this.#setting} is outside what the daemon's permissions let it write`
        : e.message;
      this.#logger?.error(message, { path: this.#path, error, dir, setting: this.#setting });
    }
    this.#failing = true;
  }

  /**
   * Makes the file's missing directory (`mkdir -p`): true when made here (one INFO), false when it
   * is there (made meanwhile, e.g. by the other statistics file's writer), undefined when it
   * cannot be made (one ERROR naming the setting, the file and the directory).
   */
  async #makeDir(): Promise<boolean | undefined> {
    const dir = posix.dirname(this.#path);
    try {
      const made = await this.#store.makeDir?.(dir) ?? false;
      if (made) {
        this.#logger?.info("made the missing directory {dir} of {setting} {path}", {
          dir,
          setting: this.#setting,
          path: this.#path,
        });
      }
      return made;
    } catch (e) {
      this.#failed(
        e as Error,
        "cannot make the missing directory {dir} of {setting} {path}: {error}",
        dir,
      );
      return undefined;
    }
  }

  /**
   * Appends `text`; a file deleted, moved away or emptied since the last write is started again
   * with the header (by the store), and `#size` counts that header.
   */
  async #append(text: string): Promise<void> {
    if (await this.#store.append(this.#path, text, this.#header)) {
      this.#size = encoder.encode(this.#header).length;
      this.#logger?.info("{path} was missing or empty: started it again with its header", {
        path: this.#path,
      });
    }
  }

  #succeeded(): void {
    if (this.#failing) {
      this.#logger?.info("writing {path} again ({rows} rows dropped while it failed)", {
        path: this.#path,
        rows: this.#dropped,
      });
    }
    this.#failing = false;
    this.#dropped = 0;
  }

  async #rotate(): Promise<void> {
    try {
      await this.#store.rename(this.#path, this.#path + ".1");
    } catch (e) {
      // Deleted or moved away: nothing to keep, the new file starts below.
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    await this.#store.writeNew(this.#path, this.#header);
    this.#size = encoder.encode(this.#header).length;
  }
}
