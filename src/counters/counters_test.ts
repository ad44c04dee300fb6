import { assert, assertEquals } from "../util/assert.ts";
import { counterDirections, isIfbOrVeth } from "./direction.ts";
import { IpBatchSource, IpSpawnSource, parseLinkJson } from "./ip_link.ts";
import { createCounterReader, LinkCounterReader } from "./mod.ts";
import { addVethPair, must, needs, netnsSkipReason, withNetns } from "../util/netns_testing.ts";
import type { SpawnedProcess } from "../util/coprocess.ts";
import type { LogRecord } from "../log/logger.ts";
import { configureLogging, resetLogging, stageLogger } from "../log/mod.ts";
import { VirtualClock } from "../util/clock.ts";

const encoder = new TextEncoder();

/**
 * An in-process stand-in for `ip -force -j -s -batch -` answering `link show dev X` for the links
 * it has: one JSON line on stdout, or for a missing one its message and `Command failed -:N` on
 * stderr. With `stdoutLast`, each write's stdout comes after its stderr (the two pipes are read
 * independently, so a reader may see them in either order).
 */
class FakeIp implements SpawnedProcess {
  readonly pid = 4242;
  readonly lines: string[] = [];
  readonly stdin: WritableStream<Uint8Array>;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly status: Promise<unknown>;
  #out!: ReadableStreamDefaultController<Uint8Array>;
  #err!: ReadableStreamDefaultController<Uint8Array>;
  #exit!: () => void;

  constructor(links: Record<string, number>, stdoutLast: boolean) {
    this.status = new Promise<void>((r) => this.#exit = r);
    this.stdout = new ReadableStream({ start: (c) => void (this.#out = c) });
    this.stderr = new ReadableStream({ start: (c) => void (this.#err = c) });
    const decoder = new TextDecoder();
    this.stdin = new WritableStream({
      write: (chunk) => {
        const out: string[] = [];
        for (const line of decoder.decode(chunk).split("\n").filter((l) => l !== "")) {
          this.lines.push(line);
          const dev = /^link show dev (\S+)$/.exec(line)?.[1] ?? "";
          if (dev in links) {
            const bytes = links[dev];
            out.push(
              `[{"ifindex":${this.lines.length},"ifname":"${dev}",` +
                `"stats64":{"rx":{"bytes":${bytes}},"tx":{"bytes":${bytes + 1}}}}]\n`,
            );
            if (!stdoutLast) this.#out.enqueue(encoder.encode(out.pop()!));
          } else {
            this.#err.enqueue(encoder.encode(
              `Device "${dev}" does not exist.\nCommand failed -:${this.lines.length}\n`,
            ));
          }
        }
        for (const o of out) this.#out.enqueue(encoder.encode(o));
      },
      close: () => this.kill(),
    });
  }

  kill(): void {
    try {
      this.#out.close();
      this.#err.close();
    } catch {
      // closed already
    }
    this.#exit();
  }
}

Deno.test("direction: upstream ifb/veth rule (Lua ^ifb.+ / ^veth.+) and overrides", () => {
  const auto = { dl_counter: "auto", ul_counter: "auto" } as const;
  assertEquals(counterDirections({ dl_if: "ifb4wan", ul_if: "wan", ...auto }), {
    dl: "tx",
    ul: "tx",
  });
  assertEquals(counterDirections({ dl_if: "eth1", ul_if: "eth0", ...auto }), {
    dl: "rx",
    ul: "tx",
  });
  assertEquals(counterDirections({ dl_if: "veth-lan", ul_if: "veth-wan", ...auto }), {
    dl: "tx",
    ul: "rx",
  });
  // Lua needs at least one character after the prefix.
  assertEquals(isIfbOrVeth("ifb"), false);
  assertEquals(isIfbOrVeth("veth"), false);
  assertEquals(isIfbOrVeth("ifb0"), true);
  assertEquals(isIfbOrVeth("myifb0"), false);
  assertEquals(
    counterDirections({ dl_if: "br-lan", ul_if: "ifb4wan", dl_counter: "tx", ul_counter: "tx" }),
    { dl: "tx", ul: "tx" },
  );
});

Deno.test("parseLinkJson: ip -j -s link output", () => {
  const m = parseLinkJson(
    '[{"ifindex":1,"ifname":"lo","stats64":{"rx":{"bytes":3193},"tx":{"bytes":4000}}},' +
      '{"ifindex":2,"ifname":"nostats"}]',
  );
  assertEquals([...m.entries()], [["lo", { ifindex: 1, rx: 3193, tx: 4000 }]]);
});

Deno.test("LinkCounterReader: picks sides, null when an interface is missing", async () => {
  let links = new Map([
    ["ifb4wan", { ifindex: 5, rx: 10, tx: 20 }],
    ["wan", { ifindex: 2, rx: 30, tx: 40 }],
  ]);
  const source = { stats: () => Promise.resolve(links), close: () => Promise.resolve() };
  const r = new LinkCounterReader(source, {
    dlIf: "ifb4wan",
    ulIf: "wan",
    dlSide: "tx",
    ulSide: "tx",
  });
  assertEquals(await r.read(), { dlBytes: 20, ulBytes: 40, dlIfindex: 5, ulIfindex: 2 });
  links = new Map([["wan", { ifindex: 2, rx: 30, tx: 40 }]]);
  assertEquals(await r.read(), null);
});

const skip = await netnsSkipReason();

Deno.test("IpBatchSource: reads lo; coprocess restarted after being killed; closes cleanly", async () => {
  const src = new IpBatchSource();
  try {
    const a = await src.stats(["lo"]);
    assert(a !== null && a.has("lo"));
    const pid = src.pid;
    assert(pid !== undefined);
    Deno.kill(pid, "SIGKILL");
    // The reading that finds it dead restarts it at once.
    const b = await src.stats(["lo"]);
    assert(b !== null && b.has("lo"));
    assert(src.pid !== pid);
    assertEquals(src.restarts, 1);
  } finally {
    await src.close();
  }
});

Deno.test("IpBatchSource: an idle reading blocks settleMs after its request, others never", async () => {
  const blocks: { ms: number; running: boolean }[] = [];
  const src: IpBatchSource = new IpBatchSource({
    settleMs: 4,
    // The request is out when it blocks: the coprocess runs (started by this reading).
    block: (ms) => blocks.push({ ms, running: src.pid !== undefined }),
  });
  try {
    const busy = await src.stats(["lo"]);
    assert(busy !== null && busy.has("lo"));
    assertEquals(blocks, []);
    const idle = await src.stats(["lo"], { idle: true });
    assert(idle !== null && idle.has("lo"), "the answer is read after the block");
    assertEquals(blocks, [{ ms: 4, running: true }]);
    await src.stats(["lo"], { idle: false });
    assertEquals(blocks.length, 1);
  } finally {
    await src.close();
  }
});

Deno.test("IpBatchSource: one `link show dev` per interface; a missing one is absent, at once", async () => {
  for (const stdoutLast of [false, true]) {
    const procs: FakeIp[] = [];
    const src = new IpBatchSource({
      timeoutMs: 60_000, // a wait for an answer that never comes would hang the test
      spawn: () => {
        procs.push(new FakeIp({ wan: 100, lan: 200 }, stdoutLast));
        return procs.at(-1)!;
      },
    });
    try {
      const both = await src.stats(["wan", "lan", "wan"]);
      assertEquals(both?.get("wan")?.rx, 100);
      assertEquals(both?.get("lan")?.tx, 201);
      const one = await src.stats(["wan", "pppoe-wan"]);
      assertEquals([...one!.keys()], ["wan"], `stdoutLast ${stdoutLast}`);
      assertEquals((await src.stats(["gone0", "gone1"]))?.size, 0, "none there: empty, not null");
      assertEquals((await src.stats(["lan"]))?.get("lan")?.rx, 200, "line numbers still match");
      assertEquals(procs.length, 1, "no restart: nothing timed out");
      assertEquals(procs[0].lines, [
        "link show dev wan",
        "link show dev lan",
        "link show dev wan",
        "link show dev pppoe-wan",
        "link show dev gone0",
        "link show dev gone1",
        "link show dev lan",
      ]);
    } finally {
      await src.close();
    }
  }
});

Deno.test("IpBatchSource: the real ip: lo and a missing device in one reading", async () => {
  const src = new IpBatchSource();
  try {
    for (let i = 0; i < 3; i++) {
      const m = await src.stats(["lo", "nosuchdev0"]);
      assert(m !== null && m.has("lo") && !m.has("nosuchdev0"));
    }
    assertEquals(src.restarts, 0);
  } finally {
    await src.close();
  }
});

Deno.test("LinkCounterReader: passes the idle hint to its source", async () => {
  const hints: (boolean | undefined)[] = [];
  const links = new Map([["a", { ifindex: 1, rx: 1, tx: 2 }], ["b", { ifindex: 2, rx: 3, tx: 4 }]]);
  const source = {
    stats: (_: readonly string[], o?: { idle?: boolean }) => {
      hints.push(o?.idle);
      return Promise.resolve(links);
    },
    close: () => Promise.resolve(),
  };
  const r = new LinkCounterReader(source, { dlIf: "a", ulIf: "b", dlSide: "rx", ulSide: "tx" });
  await r.read({ idle: true });
  await r.read();
  assertEquals(hints, [true, undefined]);
});

Deno.test("LinkCounterReader: a failed reading takes a turn of the event loop (timers run)", async () => {
  // A source in its restart delay (ssh redialling a router that refuses the key) answers at
  // once; the tick's pinger lines are taken in only in a turn (docs/remote.md, "Start-up and
  // faults").
  for (const stats of [() => Promise.resolve(null), () => Promise.reject(new Error("gone"))]) {
    const r = new LinkCounterReader(
      { stats, close: () => Promise.resolve() },
      { dlIf: "a", ulIf: "b", dlSide: "rx", ulSide: "tx" },
    );
    let fired = false;
    setTimeout(() => fired = true, 0);
    assertEquals(await r.read(), null);
    assert(fired, "a 0 ms timer set before the reading ran before its answer");
  }
});

Deno.test("IpBatchSource: a hung ip is killed after the timeout and reported as null", async () => {
  const dir = await Deno.makeTempDir();
  const fake = `${dir}/ip`;
  await Deno.writeTextFile(fake, "#!/bin/sh\nexec sleep 30\n");
  await Deno.chmod(fake, 0o755);
  const src = new IpBatchSource({ ipPath: fake, timeoutMs: 100 });
  try {
    assertEquals(await src.stats(["lo"]), null);
    assertEquals(src.pid, undefined, "the hung process was killed");
  } finally {
    await src.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("IpBatchSource: an ip that keeps hanging is logged at WARN once, again when it answers", async () => {
  const dir = await Deno.makeTempDir();
  const fake = `${dir}/ip`;
  await Deno.writeTextFile(fake, "#!/bin/sh\nexec sleep 30\n");
  await Deno.chmod(fake, 0o755);
  const records: LogRecord[] = [];
  configureLogging("DEBUG", { sink: (r) => void records.push(r) });
  const clock = new VirtualClock(0);
  const src = new IpBatchSource({
    ipPath: fake,
    timeoutMs: 50,
    clock,
    logger: stageLogger("counters"),
  });
  try {
    for (let i = 0; i < 3; i++) {
      assertEquals(await src.stats(["lo"]), null);
      clock.advance(100); // past the restart delay
    }
    await Deno.writeTextFile(fake, '#!/bin/sh\nexec ip "$@"\n');
    assert((await src.stats(["lo"]))?.has("lo"));
    const seen = records.filter((r) => /ip coprocess/.test(r.rawMessage))
      .map((r) => `${r.level} ${r.rawMessage}`);
    assertEquals(seen, [
      "warning ip coprocess {what}; restarting it",
      "debug ip coprocess {what}; restarting it",
      "debug ip coprocess {what}; restarting it",
      "info ip coprocess answering again",
    ]);
  } finally {
    resetLogging();
    await src.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("IpBatchSource: an ip that cannot be started is logged at ERROR once, again after one started", async () => {
  // `ip` missing for minutes (docs/operation.md, "Months of faults: the twenty-eighth session's
  // walk"): every restart delay (up to 60 s) tried it again and logged an ERROR each time.
  const dir = await Deno.makeTempDir();
  const ip = `${dir}/ip`;
  const records: LogRecord[] = [];
  configureLogging("DEBUG", { sink: (r) => void records.push(r) });
  const clock = new VirtualClock(0);
  const src = new IpBatchSource({ ipPath: ip, timeoutMs: 500, clock, logger: stageLogger("c") });
  const starts = () =>
    records.filter((r) => /cannot start/.test(r.rawMessage)).map((r) => r.level).join(" ");
  try {
    for (let i = 0; i < 4; i++) {
      assertEquals(await src.stats(["lo"]), null);
      clock.advance(100); // past the restart delay
    }
    assertEquals(starts(), "error debug debug debug");
    await Deno.writeTextFile(ip, '#!/bin/sh\nexec ip "$@"\n');
    await Deno.chmod(ip, 0o755);
    assert((await src.stats(["lo"]))?.has("lo"));
    await Deno.remove(ip);
    Deno.kill(src.pid!, "SIGKILL");
    for (let i = 0; i < 3; i++) {
      assertEquals(await src.stats(["lo"]), null);
      clock.advance(100);
    }
    // Missing again after it ran: news again.
    assertEquals(starts(), "error debug debug debug error debug debug");
  } finally {
    resetLogging();
    await src.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("IpSpawnSource: reads lo, missing device absent", async () => {
  const m = await new IpSpawnSource().stats(["lo", "nosuchdev0"]);
  assert(m !== null && m.has("lo") && !m.has("nosuchdev0"));
});

Deno.test({
  ...needs("counters: an interface that disappears and returns (netns veth)", skip),
  fn: () =>
    withNetns("sqma-cnt", async (ns) => {
      const reader = createCounterReader(
        { dl_if: "vetha", ul_if: "vethb", dl_counter: "auto", ul_counter: "auto" },
        { netns: ns },
      );
      try {
        await addVethPair(ns, "vetha", "vethb");
        const first = await reader.read();
        assert(first !== null);
        await must("ip", ["-n", ns, "link", "del", "vetha"]);
        assertEquals(await reader.read(), null);
        await addVethPair(ns, "vetha", "vethb");
        const back = await reader.read();
        assert(back !== null);
        assert(back.dlIfindex !== first.dlIfindex, "recreated interface has a new index");
        // Deleted and created again between two readings (a PPPoE session, sqm-scripts' IFB):
        // `ip -batch` would answer [{}] by the old index; a fresh process reads the new link.
        await must("ip", ["-n", ns, "link", "del", "vetha"]);
        await addVethPair(ns, "vetha", "vethb");
        const again = await reader.read();
        assert(again !== null, "the new link read at once");
        assert(again.dlIfindex !== back.dlIfindex, "and it is the new one");
      } finally {
        await reader.close();
      }
    }),
});
