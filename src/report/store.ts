/**
 * Where report files go. Injected so the simulator and tests keep files in memory while the
 * daemon writes the real ones.
 */

/** Minimal file operations the CSV writers need. */
export interface FileStore {
  /** Creates or truncates `path` and writes `text`. */
  writeNew(path: string, text: string): Promise<void>;
  /** Appends `text` to `path` (creating it if missing). */
  append(path: string, text: string): Promise<void>;
  /** Renames `from` to `to`, replacing `to`. */
  rename(from: string, to: string): Promise<void>;
  /** Size of `path` in bytes, or null when it does not exist. */
  size(path: string): Promise<number | null>;
}

/** The real file system through Deno APIs. */
export const denoFileStore: FileStore = {
  writeNew: (path, text) => Deno.writeTextFile(path, text),
  append: (path, text) => Deno.writeTextFile(path, text, { append: true }),
  rename: (from, to) => Deno.rename(from, to),
  size: async (path) => {
    try {
      return (await Deno.stat(path)).size;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
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

  /** Appends to a file. */
  append(path: string, text: string): Promise<void> {
    this.files.set(path, (this.files.get(path) ?? "") + text);
    return Promise.resolve();
  }

  /** Renames a file; renaming a missing file rejects like the real one. */
  rename(from: string, to: string): Promise<void> {
    const text = this.files.get(from);
    if (text === undefined) return Promise.reject(new Error(`${from}: no such file`));
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
