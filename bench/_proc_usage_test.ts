import { assertEquals } from "../src/util/assert.ts";
import { parseProcStat, type ProcStat, subtree } from "./_proc_usage.ts";

Deno.test("parseProcStat: a command with spaces and parentheses, CPU and RSS fields", () => {
  const text = "4242 (my (odd) cmd) S 17 4242 4242 0 -1 4194560 1 0 0 0 " +
    "120 30 7 3 20 0 5 0 100 12345678 2500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1";
  assertEquals(parseProcStat(text), {
    pid: 4242,
    ppid: 17,
    comm: "my (odd) cmd",
    cpuTicks: 120 + 30 + 7 + 3,
    rssBytes: 2500 * 4096,
  });
  assertEquals(parseProcStat("garbage"), undefined);
});

Deno.test("subtree: the root and all its descendants, not its siblings or parent", () => {
  const p = (pid: number, ppid: number): ProcStat => ({
    pid,
    ppid,
    comm: "x",
    cpuTicks: 0,
    rssBytes: 0,
  });
  const all = [p(1, 0), p(10, 1), p(11, 10), p(12, 11), p(13, 1), p(14, 10)];
  assertEquals(subtree(all, 10).map((x) => x.pid).sort(), [10, 11, 12, 14]);
  assertEquals(subtree(all, 99), []);
});
