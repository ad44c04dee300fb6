import { assertEquals } from "./assert.ts";
import { readLines } from "./line_reader.ts";

const enc = new TextEncoder();

/** A byte stream (like a child's stdout) that serves `chunks`, then ends or fails. */
function byteStream(chunks: string[], fail?: Error): ReadableStream<Uint8Array> {
  const queue = chunks.map((c) => enc.encode(c));
  return new ReadableStream({
    type: "bytes",
    pull(controller: ReadableByteStreamController) {
      const next = queue.shift();
      if (next === undefined) {
        if (fail) controller.error(fail);
        else controller.close();
        controller.byobRequest?.respond(0);
        return;
      }
      const req = controller.byobRequest;
      if (req?.view) {
        const view = new Uint8Array(req.view.buffer, req.view.byteOffset, req.view.byteLength);
        const n = Math.min(view.byteLength, next.byteLength);
        view.set(next.subarray(0, n));
        if (n < next.byteLength) queue.unshift(next.subarray(n));
        req.respond(n);
      } else {
        controller.enqueue(next);
      }
    },
  });
}

Deno.test("readLines: lines split across reads and multi-byte characters, rest returned", async () => {
  const lines: string[] = [];
  const end = await readLines(
    byteStream(["10.0.0.1 : [0], 64 bytes, 1.2", "3 ms\nsecond li", "ne €", "\nno newline"]),
    (l) => lines.push(l),
  );
  assertEquals(lines, ["10.0.0.1 : [0], 64 bytes, 1.23 ms", "second line €"]);
  assertEquals(end, { rest: "no newline" });
});

Deno.test("readLines: a byte stream is read into one small buffer, not 64 KiB per read", async () => {
  const sizes: number[] = [];
  let sent = 0;
  const stream: ReadableStream<Uint8Array> = new ReadableStream({
    type: "bytes",
    // What Deno gives a child's stdout: a default reader would get a fresh 64 KiB buffer per read.
    autoAllocateChunkSize: 64 * 1024,
    pull(controller: ReadableByteStreamController) {
      const req = controller.byobRequest!;
      const view = req.view as Uint8Array;
      sizes.push(view.buffer.byteLength);
      if (sent++ === 100) {
        controller.close();
        req.respond(0);
        return;
      }
      view.set(enc.encode("x\n"));
      req.respond(2);
    },
  });
  const lines: string[] = [];
  await readLines(stream, (l) => lines.push(l));
  assertEquals(lines.length, 100);
  assertEquals(new Set(sizes), new Set([16 * 1024]));
});

Deno.test("readLines: a plain (non-byte) stream works through its default reader", async () => {
  const lines: string[] = [];
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(enc.encode("a\nb"));
      c.enqueue(enc.encode("c\n"));
      c.close();
    },
  });
  assertEquals(await readLines(stream, (l) => lines.push(l)), { rest: "" });
  assertEquals(lines, ["a", "bc"]);
});

Deno.test("readLines: maxLine cuts an endless line into pieces", async () => {
  const lines: string[] = [];
  await readLines(byteStream(["abcdefghij", "k\n"]), (l) => lines.push(l), { maxLine: 4 });
  assertEquals(lines, ["abcd", "efgh", "ijk"]);
});

Deno.test("readLines: a failing stream ends the reading with the error and the rest", async () => {
  const lines: string[] = [];
  const end = await readLines(byteStream(["one\ntw"], new Error("killed")), (l) => lines.push(l));
  assertEquals(lines, ["one"]);
  assertEquals(end.rest, "tw");
  assertEquals((end.error as Error).message, "killed");
});
