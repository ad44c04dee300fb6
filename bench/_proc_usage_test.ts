import { assertEquals } from "../src/util/assert.ts";
import {
  mappedRss,
  parseAnonKinds,
  parseProcStat,
  parseRollupPrivate,
  parseRollupPss,
  parseSchedstat,
  parseStatusSplit,
  type ProcStat,
  SchedWindow,
  subtree,
  type TreeSched,
} from "./_proc_usage.ts";

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

Deno.test("parseStatusSplit: RssAnon and RssFile in bytes; absent keys are 0", () => {
  const text = "Name:\tdeno\nVmRSS:\t   70712 kB\nRssAnon:\t   30600 kB\nRssFile:\t   40112 kB\n";
  assertEquals(parseStatusSplit(text), { anonBytes: 30600 * 1024, fileBytes: 40112 * 1024 });
  assertEquals(parseStatusSplit("Name:\tx\n"), { anonBytes: 0, fileBytes: 0 });
});

Deno.test("mappedRss: sums the Rss of one file's mappings only", () => {
  const smaps = [
    "00400000-00500000 r--p 00000000 08:01 12 /usr/bin/deno",
    "Size:               1024 kB",
    "Rss:                 300 kB",
    "00500000-00600000 r-xp 00100000 08:01 12 /usr/bin/deno",
    "Rss:                 200 kB",
    "7f000000-7f100000 rw-p 00000000 00:00 0 ",
    "Rss:                5000 kB",
    "7f200000-7f300000 r-xp 00000000 08:01 99 /usr/lib/libc.so.6",
    "Rss:                 100 kB",
  ].join("\n");
  assertEquals(mappedRss(smaps, "/usr/bin/deno"), 500 * 1024);
  assertEquals(mappedRss(smaps, "/usr/lib/libc.so.6"), 100 * 1024);
  assertEquals(mappedRss(smaps, "/nothing"), 0);
});

Deno.test("parseSchedstat: run time in ns and timeslices; not a schedstat text: undefined", () => {
  assertEquals(parseSchedstat("73094113 2211 188\n"), { runNs: 73094113, slices: 188 });
  assertEquals(parseSchedstat("garbage"), undefined);
});

Deno.test("parseRollupPss: the Pss line of smaps_rollup, not Pss_Anon or Pss_File", () => {
  const text = "55d0c0a4d000-7ffd3a1f8000 ---p 00000000 00:00 0    [rollup]\n" +
    "Rss:                2880 kB\nPss:                 770 kB\nPss_Anon:            256 kB\n" +
    "Pss_File:            514 kB\n";
  assertEquals(parseRollupPss(text), 770 * 1024);
  assertEquals(parseRollupPss("Rss: 10 kB\n"), 0);
});

Deno.test("parseRollupPrivate: Private_Clean plus Private_Dirty of smaps_rollup", () => {
  const text =
    "Rss:                2880 kB\nPss:                 770 kB\nShared_Clean:       2500 kB\n" +
    "Private_Clean:        60 kB\nPrivate_Dirty:       250 kB\n";
  assertEquals(parseRollupPrivate(text), 310 * 1024);
  assertEquals(parseRollupPrivate("Rss: 10 kB\n"), 0);
});

Deno.test("SchedWindow: a child replaced in the window counts its time in it, not minus its past", () => {
  const snap = (procs: [number, string, number, number][]): TreeSched => ({
    runNs: procs.reduce((a, [, , ns]) => a + ns, 0),
    slices: procs.reduce((a, [, , , n]) => a + n, 0),
    byPid: new Map(procs.map(([pid, comm, ns, n]) => [pid, [comm, ns, n] as const])),
  });
  // The daemon (1) and its pinger (2), which has run 40 ms before the window starts.
  const start = snap([[1, "deno", 1000e6, 500], [2, "fping", 40e6, 800]]);
  const w = new SchedWindow(start);
  w.add(snap([[1, "deno", 1010e6, 530], [2, "fping", 41e6, 820]]));
  // The pinger is replaced: 2 has exited, 3 started in the window.
  w.add(snap([[1, "deno", 1020e6, 560], [3, "fping", 1e6, 20]]));
  const end = snap([[1, "deno", 1030e6, 590], [3, "fping", 2e6, 40]]);
  w.add(end);
  assertEquals(w.runNs, 30e6 + 1e6 + 2e6);
  assertEquals(w.byComm(), new Map([["deno", [30e6, 90]], ["fping", [3e6, 60]]]));
  // Two snapshots alone subtract the replaced pinger's whole past: 41 ms under the window's 33.
  assertEquals(end.runNs - start.runNs, 30e6 + 2e6 - 40e6);
});

Deno.test("parseAnonKinds: anonymous pages by mapping: malloc's arenas, V8's pages, stacks, file data", () => {
  const map = (range: string, perms: string, name: string, anonKb: number) =>
    `${range} ${perms} 00000000 00:00 0 ${name}\nRss: ${anonKb + 4} kB\nAnonymous: ${anonKb} kB\n`;
  const smaps = [
    map("559a00000000-559a00010000", "r-xp", "/usr/bin/deno", 0),
    map("559a00010000-559a00020000", "rw-p", "/usr/bin/deno", 100),
    map("559ac642a000-559ac6659000", "rw-p", "[heap]", 2000),
    // V8's pages at random hints below 64 TiB.
    map("13971980000-139719c0000", "rw-p", "", 144),
    map("3dd11b100000-3dd11b140000", "rw-p", "", 136),
    // A thread's arena: the read-write start of a 64 MiB-aligned reservation.
    map("7fbaf0000000-7fbaf0043000", "rw-p", "", 248),
    map("7fbaf0043000-7fbaf4000000", "---p", "", 0),
    // V8's code range.
    map("7fbb08000000-7fbb27dc0000", "rwxp", "", 24),
    // A thread's stack after its guard page.
    map("7fbb377ff000-7fbb37800000", "---p", "", 0),
    map("7fbb37800000-7fbb37a00000", "rw-p", "", 12),
    // Anything else (a large block malloc mapped alone).
    map("7fbb37d88000-7fbb37df3000", "rw-p", "", 428),
    map("7ffd44d80000-7ffd44de7000", "rw-p", "[stack]", 400),
  ].join("");
  assertEquals(parseAnonKinds(smaps), {
    mallocMain: 2000 * 1024,
    mallocArenas: 248 * 1024,
    v8: (144 + 136 + 24) * 1024,
    stacks: (12 + 400) * 1024,
    fileData: 100 * 1024,
    other: 428 * 1024,
  });
});
