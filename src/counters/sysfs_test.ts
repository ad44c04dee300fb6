import { assert, assertEquals, assertThrows } from "../util/assert.ts";
import { VirtualClock } from "../util/clock.ts";
import type { Logger, LogProperties } from "../log/logger.ts";
import type { LinkStatsSource } from "./ip_link.ts";
import type { LinkStats } from "./types.ts";
import { parseSysfsNumber, SYSFS_RETRY_S, SysfsLinkSource } from "./sysfs.ts";
import { createCounterReader } from "./mod.ts";

const encoder = new TextEncoder();

/** Log lines as `LEVEL message` with the properties filled in. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string, p: LogProperties = {}) =>
    lines.push(
      `${level} ${
        message.replace(/\{(\w+)\}/g, (_, k: string) => String((p as Record<string, unknown>)[k]))
      }`,
    );
  return {
    lines,
    category: ["test"],
    trace: at("TRACE"),
    debug: at("DEBUG"),
    info: at("INFO"),
    warn: at("WARN"),
    warning: at("WARN"),
    error: at("ERROR"),
    fatal: at("FATAL"),
  };
}

/** A stand-in for `ip`: the links it knows, and how often it was asked. */
class FakeIp implements LinkStatsSource {
  calls = 0;
  constructor(readonly links: Map<string, LinkStats>) {}
  stats(names: readonly string[]): Promise<Map<string, LinkStats> | null> {
    this.calls++;
    const out = new Map<string, LinkStats>();
    for (const n of names) {
      const l = this.links.get(n);
      if (l !== undefined) out.set(n, { ...l });
    }
    return Promise.resolve(out);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A directory laid out like the bind mounts: DIR/IF/ifindex, DIR/IF/statistics/{rx,tx}_bytes. */
function writeLink(dir: string, name: string, l: LinkStats): void {
  Deno.mkdirSync(`${dir}/${name}/statistics`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/${name}/ifindex`, `${l.ifindex}\n`);
  // Rewritten in place (same inode), as the kernel's files change under an open descriptor.
  Deno.writeTextFileSync(`${dir}/${name}/statistics/rx_bytes`, `${l.rx}\n`);
  Deno.writeTextFileSync(`${dir}/${name}/statistics/tx_bytes`, `${l.tx}\n`);
}

interface Fixture {
  dir: string;
  ip: FakeIp;
  clock: VirtualClock;
  log: Logger & { lines: string[] };
  source: SysfsLinkSource;
  /** Sets a link's counters in both the files and `ip`. */
  set(name: string, l: LinkStats): void;
}

async function withFixture(fn: (f: Fixture) => Promise<void>): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: "sysfs16_" });
  const ip = new FakeIp(new Map());
  const clock = new VirtualClock(100);
  const log = recordingLogger();
  const source = new SysfsLinkSource(`${dir}/`, { fallback: ip, clock, logger: log });
  const set = (name: string, l: LinkStats) => {
    ip.links.set(name, l);
    writeLink(dir, name, l);
  };
  set("wan", { ifindex: 3, rx: 1000, tx: 2000 });
  set("ifb4wan", { ifindex: 9, rx: 5000, tx: 7000 });
  try {
    await fn({ dir, ip, clock, log, source, set });
  } finally {
    await source.close();
    Deno.removeSync(dir, { recursive: true });
  }
}

const NAMES = ["ifb4wan", "wan"];

Deno.test("parseSysfsNumber: a counter file's decimal line, and nothing else", () => {
  const p = (s: string) => parseSysfsNumber(encoder.encode(s), encoder.encode(s).length);
  assertEquals(p("0\n"), 0);
  assertEquals(p("123456789012\n"), 123456789012);
  assertEquals(p("42"), 42);
  for (const bad of ["", "\n", "-1\n", " 1\n", "1 \n", "x\n", "1\n\n"]) {
    assertThrows(() => p(bad), Error);
  }
});

Deno.test("SysfsLinkSource: the files' counters, checked against ip on opening and every 30 s", async () => {
  await withFixture(async ({ ip, clock, log, source, set }) => {
    assertEquals(
      await source.stats(NAMES),
      new Map([["ifb4wan", { ifindex: 9, rx: 5000, tx: 7000 }], ["wan", {
        ifindex: 3,
        rx: 1000,
        tx: 2000,
      }]]),
    );
    assertEquals(ip.calls, 1, "ip asked once, to check the ifindex of the files just opened");
    assert(source.usingFiles);
    for (let i = 1; i <= 10; i++) {
      clock.advance(0.1);
      set("wan", { ifindex: 3, rx: 1000 + i, tx: 2000 + 2 * i });
      // The files' new value, read again after a seek to 0; `ip` not asked.
      assertEquals((await source.stats(NAMES))!.get("wan"), {
        ifindex: 3,
        rx: 1000 + i,
        tx: 2000 + 2 * i,
      });
      assertEquals(ip.calls, 1);
    }
    clock.advance(SYSFS_RETRY_S);
    await source.stats(NAMES);
    assertEquals(ip.calls, 2, "the periodic ifindex check");
    // A name not read before: its files are checked at once, not 30 s later.
    set("lan", { ifindex: 4, rx: 1, tx: 2 });
    clock.advance(0.1);
    await source.stats([...NAMES, "lan"]);
    assertEquals(ip.calls, 3, "the new files checked against ip");
    clock.advance(0.1);
    await source.stats([...NAMES, "lan"]);
    assertEquals(ip.calls, 3);
    assertEquals(log.lines, []);
  });
});

Deno.test("SysfsLinkSource: a reading from the files takes a turn of the event loop, as ip's does", async () => {
  await withFixture(async ({ source }) => {
    await source.stats(NAMES);
    // What the pinger's lines are to the control loop: a callback of the event loop, not a
    // microtask, which a reading must let run before it answers (src/control/loop.ts, tick).
    let pingerLine = false;
    setTimeout(() => pingerLine = true, 0);
    await source.stats(NAMES);
    assert(source.usingFiles);
    assert(pingerLine, "the reading answered without a turn of the event loop");
  });
});

Deno.test("SysfsLinkSource: a failing file hands that reading to ip at once, warns once, retries every 30 s, INFO on recovery", async () => {
  await withFixture(async ({ dir, ip, clock, log, source, set }) => {
    await source.stats(NAMES);
    // The device is gone: the open file reads nothing (here: emptied; on a router ENODEV).
    Deno.writeTextFileSync(`${dir}/wan/statistics/tx_bytes`, "");
    ip.links.set("wan", { ifindex: 3, rx: 1100, tx: 2200 });
    assertEquals((await source.stats(NAMES))!.get("wan"), { ifindex: 3, rx: 1100, tx: 2200 });
    assert(!source.usingFiles);
    assertEquals(log.lines.length, 1);
    assert(
      log.lines[0].startsWith(`WARN cannot read the counters from ${dir} (empty counter file)`),
    );
    // Until the retry: ip only, no new log line, no file read.
    const calls = ip.calls;
    for (let i = 0; i < 10; i++) {
      clock.advance((SYSFS_RETRY_S - 0.5) / 10);
      await source.stats(NAMES);
    }
    assertEquals(ip.calls, calls + 10);
    assertEquals(log.lines.length, 1);
    // The retry fails too (the mount shows nothing): DEBUG only, the reading from ip.
    Deno.removeSync(`${dir}/wan`, { recursive: true });
    clock.advance(0.5);
    assertEquals((await source.stats(NAMES))!.get("wan"), { ifindex: 3, rx: 1100, tx: 2200 });
    assertEquals(log.lines.length, 2);
    assert(log.lines[1].startsWith("DEBUG "));
    // The service mounted the new device: the next retry takes the files again, and says so.
    set("wan", { ifindex: 3, rx: 1300, tx: 2400 });
    clock.advance(SYSFS_RETRY_S - 1);
    await source.stats(NAMES);
    assert(!source.usingFiles, "not before the 30 s are up");
    clock.advance(1);
    const n = ip.calls;
    assertEquals((await source.stats(NAMES))!.get("wan"), { ifindex: 3, rx: 1300, tx: 2400 });
    assert(source.usingFiles);
    assertEquals(ip.calls, n + 1, "the reopened files are checked against ip");
    assertEquals(log.lines.at(-1), `INFO counters read from ${dir} again`);
    // A second outage warns again.
    Deno.writeTextFileSync(`${dir}/ifb4wan/statistics/rx_bytes`, "garbage\n");
    clock.advance(0.1);
    await source.stats(NAMES);
    assertEquals(log.lines.filter((l) => l.startsWith("WARN")).length, 2);
  });
});

Deno.test("SysfsLinkSource: a device created again under the same name (new ifindex) is refused until its mount is", async () => {
  await withFixture(async ({ dir, ip, clock, log, source }) => {
    await source.stats(NAMES);
    // `ip` sees the new device; the files still show the old one (a stale mount that reads).
    ip.links.set("wan", { ifindex: 12, rx: 10, tx: 20 });
    clock.advance(SYSFS_RETRY_S);
    assertEquals((await source.stats(NAMES))!.get("wan"), { ifindex: 12, rx: 10, tx: 20 });
    assert(!source.usingFiles);
    assert(log.lines[0].includes(`${dir}/wan is ifindex 3 but ip gives ifindex 12`), log.lines[0]);
    // The ip reading of the check is the reading: ip was asked once, not twice.
    const calls = ip.calls;
    clock.advance(SYSFS_RETRY_S);
    await source.stats(NAMES);
    assert(!source.usingFiles);
    assertEquals(ip.calls, calls + 1);
    // Remounted: the files agree with ip again.
    writeLink(dir, "wan", { ifindex: 12, rx: 11, tx: 21 });
    clock.advance(SYSFS_RETRY_S);
    assertEquals((await source.stats(NAMES))!.get("wan"), { ifindex: 12, rx: 11, tx: 21 });
    assert(source.usingFiles);
    assertEquals(log.lines.at(-1), `INFO counters read from ${dir} again`);
  });
});

Deno.test("SysfsLinkSource: an interface ip does not know is missing, not read from a file", async () => {
  await withFixture(async ({ ip, source }) => {
    ip.links.delete("wan");
    const got = await source.stats(NAMES);
    assertEquals([...got!.keys()], ["ifb4wan"]);
    assert(!source.usingFiles);
  });
});

Deno.test("SysfsLinkSource: a directory it may not read, or a name outside it, falls back to ip", async () => {
  const ip = new FakeIp(new Map([["wan", { ifindex: 3, rx: 1, tx: 2 }]]));
  const log = recordingLogger();
  const source = new SysfsLinkSource("/nonexistent/sqm-autorate", {
    fallback: ip,
    clock: new VirtualClock(0),
    logger: log,
  });
  assertEquals((await source.stats(["wan"]))!.get("wan"), { ifindex: 3, rx: 1, tx: 2 });
  assertEquals((await source.stats([".."]))!.size, 0);
  assertEquals(log.lines.length, 1);
  await source.close();
});

Deno.test("createCounterReader with counters_dir: the files, with the same direction rule as ip", async () => {
  await withFixture(async ({ dir, set }) => {
    const ip = new FakeIp(new Map());
    const reader = createCounterReader({
      dl_if: "ifb4wan",
      ul_if: "wan",
      dl_counter: "auto",
      ul_counter: "auto",
      counters_dir: dir,
    }, { source: undefined, mode: "spawn", ipPath: "/nonexistent/ip" });
    set("ifb4wan", { ifindex: 9, rx: 5000, tx: 7000 });
    // No `ip` to check the files against: no reading (as with ip alone), never a guess.
    assertEquals(await reader.read(), null);
    await reader.close();
    // With an ip that agrees: IFB's tx is download, wan's tx upload (direction.ts).
    ip.links.set("ifb4wan", { ifindex: 9, rx: 5000, tx: 7000 });
    ip.links.set("wan", { ifindex: 3, rx: 1000, tx: 2000 });
    const viaFiles = createCounterReader({
      dl_if: "ifb4wan",
      ul_if: "wan",
      dl_counter: "auto",
      ul_counter: "auto",
    }, { source: new SysfsLinkSource(dir, { fallback: ip, clock: new VirtualClock(0) }) });
    assertEquals(await viaFiles.read(), {
      dlBytes: 7000,
      ulBytes: 2000,
      dlIfindex: 9,
      ulIfindex: 3,
    });
    await viaFiles.close();
  });
});
