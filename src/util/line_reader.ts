/**
 * Reads a child's output stream line by line through one small reused buffer.
 *
 * A child's stdout in Deno is a byte stream whose default reader allocates a fresh 64 KiB buffer
 * for every read; a pinger printing a line every few milliseconds then churns megabytes of
 * short-lived native memory per second (the daemon's resident size grew by more than 10 MB and
 * its CPU by about a quarter, docs/footprint.md). A BYOB ("bring your own buffer") reader fills
 * the buffer it is given instead, so each stream keeps one buffer for its whole life.
 */

/** Bytes read at most per read; a longer line simply takes several reads. */
const BUFFER_BYTES = 16 * 1024;
/** The decoder's options for every chunk (one object, not one per chunk). */
const STREAM: TextDecodeOptions = { stream: true };

/** Options of {@linkcode readLines}. */
export interface ReadLinesOptions {
  /** Longest line kept; longer input is passed on in pieces of this length (default: no limit). */
  maxLine?: number;
}

/** How {@linkcode readLines} ended. */
export interface ReadLinesEnd {
  /** Text after the last line end (a final line without its newline), possibly "". */
  rest: string;
  /** What the stream threw (e.g. the process was killed), if it did not simply end. */
  error?: unknown;
}

/**
 * Calls `onLine` for every line of `stream` (without the `\n`) until the stream ends or fails.
 * Byte streams (a child's stdout/stderr) are read into one reused buffer; other streams (tests)
 * through their default reader.
 */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
  options: ReadLinesOptions = {},
): Promise<ReadLinesEnd> {
  const maxLine = options.maxLine ?? Infinity;
  const decoder = new TextDecoder();
  let buffer = "";
  const take = (bytes: Uint8Array) => {
    buffer += decoder.decode(bytes, STREAM);
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
    while (buffer.length > maxLine) {
      onLine(buffer.slice(0, maxLine));
      buffer = buffer.slice(maxLine);
    }
  };
  try {
    const byob = byobReader(stream);
    if (byob !== undefined) {
      let view = new Uint8Array(BUFFER_BYTES);
      for (;;) {
        const { value, done } = await byob.read(view);
        if (value !== undefined && value.byteLength > 0) take(value);
        if (done || value === undefined) break;
        // The read handed the buffer back (transferred): read into it again.
        view = new Uint8Array(value.buffer);
      }
    } else {
      for await (const chunk of stream) take(chunk);
    }
  } catch (error) {
    return { rest: buffer + decoder.decode(), error };
  }
  return { rest: buffer + decoder.decode() };
}

/** A BYOB reader when `stream` is a byte stream, else `undefined`. */
function byobReader(stream: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | undefined {
  try {
    return stream.getReader({ mode: "byob" });
  } catch {
    return undefined; // not a byte stream
  }
}
