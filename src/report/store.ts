/**
 * Where report files go. Injected so the simulator and tests keep files in memory while the
 * daemon writes the real ones.
 */

/**
 * Minimal file operations the CSV writers need. A write either lands whole or not at all, so a
 * full file system never leaves half a row for the next write to run on from (docs/operation.md,
 * "Statistics files on a full or read-only /tmp").
 */
export interface FileStore {
  /** Creates or truncates `path` and writes `text`; on failure the file is left empty. */
  writeNew(path: string, text: string): Promise<void>;
  /**
   * Appends `text` to `path`; on failure the file keeps its previous length. A torn last row (one
   * a failed write left behind) is cut off first. When the file is missing or empty (deleted, moved away or emptied by hand) `header` goes first and the result
   * is true: a file never starts without its header.
   */
  append(path: string, text: string, header: string): Promise<boolean>;
  /** Renames `from` to `to`, replacing `to`. */
  rename(from: string, to: string): Promise<void>;
  /** Size of the regular file `path` in bytes, or null when there is none (missing, a directory). */
  size(path: string): Promise<number | null>;
  /**
   * Makes the directory `path` with any missing parents (`mkdir -p`); true when this call made
   * it, false when it was there already (of two racing calls one gets true). Absent in a store
   * without directories (in memory).
   */
  makeDir?(path: string): Promise<boolean>;
}

import * as posix from "../util/posix_path.ts";

const encoder = new TextEncoder();

/**
 * Writes `text` at the end of the open `file`, which was `before` bytes long; when a write fails
 * part-way (ENOSPC after the bytes that fitted) the file is cut back to `before` and the error
 * rethrown.
 */
async function writeWhole(file: Deno.FsFile, text: string, before: number): Promise<void> {
  const bytes = encoder.encode(text);
  try {
    for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
  } catch (e) {
    await file.truncate(before).catch(() => {});
    throw e;
  }
}

/**
 * The length of the open `file` (`size` bytes) without a torn last row: when the file does not
 * end in a newline it is cut back to just after its last one (to 0 when it has none). A tail is
 * torn only when a failed write could not be cut back (the file system turned read-only between
 * the two); the next row would otherwise run on from it.
 */
async function wholeRowsLength(file: Deno.FsFile, size: number): Promise<number> {
  // Every append asks, so the usual answer costs one byte read.
  const last = new Uint8Array(1);
  await readAt(file, size - 1, last);
  if (last[0] === NEWLINE) return size;
  const chunk = new Uint8Array(4096);
  let end = size - 1;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const view = chunk.subarray(0, end - start);
    await readAt(file, start, view);
    const nl = view.lastIndexOf(NEWLINE);
    if (nl >= 0) {
      end = start + nl + 1;
      break;
    }
    end = start;
  }
  await file.truncate(end);
  return end;
}

const NEWLINE = 10;

/** Fills `buf` from `file` at byte `start`. */
async function readAt(file: Deno.FsFile, start: number, buf: Uint8Array): Promise<void> {
  await file.seek(start, Deno.SeekMode.Start);
  for (let got = 0; got < buf.length;) {
    const n = await file.read(buf.subarray(got));
    if (n === null) throw new Error(`short read at ${start + got}`);
    got += n;
  }
}

/** The real file system through Deno APIs. */
export const denoFileStore: FileStore = {
  writeNew: async (path, text) => {
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    try {
      await writeWhole(file, text, 0);
    } finally {
      file.close();
    }
  },
  append: async (path, text, header) => {
    const file = await Deno.open(path, { read: true, append: true, create: true });
    try {
      const size = (await file.stat()).size;
      const before = size === 0 ? 0 : await wholeRowsLength(file, size);
      await writeWhole(file, before === 0 ? header + text : text, before);
      return before === 0;
    } finally {
      file.close();
    }
  },
  rename: (from, to) => Deno.rename(from, to),
  size: async (path) => {
    try {
      const st = await Deno.stat(path);
      // Only a regular file has rows to keep: a directory given as the file must never be
      // renamed to `.1` (its write fails and is logged instead), `/dev/null` is not rotated.
      return st.isFile ? st.size : null;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
  },
  makeDir: async (path) => {
    try {
      await Deno.mkdir(path);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) return false;
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    // A parent is missing too: the parents first, then the directory itself again, so that only
    // one of two racing calls reports having made it.
    await Deno.mkdir(posix.dirname(path), { recursive: true });
    try {
      await Deno.mkdir(path);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) return false;
      throw e;
    }
  },
};

/** An in-memory file store (tests, simulator). */
export class MemoryFileStore implements FileStore {
  /** File contents by path. */
  readonly files = new Map<string, string>();

  /** Creates or truncates a file. */
  writeNew(path: string, text: string): Promise<void> {
    this.files.set(path, text);
    return Promise.resolve();
  }

  /** Appends to a file, after `header` when it is missing or empty (true then). */
  append(path: string, text: string, header: string): Promise<boolean> {
    const old = this.files.get(path) ?? "";
    this.files.set(path, (old === "" ? header : old) + text);
    return Promise.resolve(old === "");
  }

  /** Renames a file; renaming a missing file rejects like the real one. */
  rename(from: string, to: string): Promise<void> {
    const text = this.files.get(from);
    if (text === undefined) {
      return Promise.reject(new Deno.errors.NotFound(`${from}: no such file`));
    }
    this.files.delete(from);
    this.files.set(to, text);
    return Promise.resolve();
  }

  /** Size in bytes (UTF-8), or null for a missing file. */
  size(path: string): Promise<number | null> {
    const text = this.files.get(path);
    return Promise.resolve(text === undefined ? null : new TextEncoder().encode(text).length);
  }
}
