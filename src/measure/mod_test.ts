import { assert, assertEquals, assertRejects, waitUntil } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { seededRandom, VirtualClock } from "../util/clock.ts";
import { createMeasurement, fpingFeaturesFromVersion, type PingReply } from "./mod.ts";

/** The fping these tests run (the machine's 5.1: no ICMP timestamps). */
const FPING_5_1 = {
  tool: "fping",
  binary: "fping",
  fping: fpingFeaturesFromVersion("fping: Version 5.1"),
} as const;

Deno.test("createMeasurement: fping → baseliner → OwdState, reselection switches the pinger", async () => {
  // A reselection cycle pings its candidates for tick × π: 0.25 s gives a busy machine 0.79 s
  // for fping's restart and first replies (0.05 s, 0.16 s, failed now and then in CI-like load).
  const settings = settingsWithDefaults({ tick_interval: 0.25, num_reflectors: 2 });
  const m = createMeasurement(settings, {
    initialPeers: ["127.0.0.1", "127.0.0.2"],
    pool: ["127.0.0.3", "127.0.0.4", "127.0.0.5"],
    random: seededRandom(3),
    pingerChoice: FPING_5_1,
  });
  try {
    await m.start();
    assertEquals(m.pinger?.tool, "fping");
    await waitUntil(
      () => m.owd.recent.has("127.0.0.1") && m.owd.recent.has("127.0.0.2"),
      5000,
      "owd",
    );
    const e = m.owd.baseline.get("127.0.0.1")!;
    assert(e.up_ewma >= 0 && e.up_ewma < 50, `implausible loopback OWD ${e.up_ewma}`);
    m.reselect.requestReselect("test");
    await waitUntil(
      () => m.selector.reselectionCount === 1 && m.selector.phase === "idle",
      5000,
      "cycle",
    );
    assertEquals(m.owd.peers.length, 2);
    // every pool member drawn as candidate was pinged and baselined
    const candidates = ["127.0.0.3", "127.0.0.4", "127.0.0.5"].filter((ip) => m.owd.recent.has(ip));
    assert(candidates.length > 0);
    assertEquals(m.pinger?.reflectors, m.owd.peers);
  } finally {
    await m.stop();
  }
});

Deno.test("createMeasurement: no reselection while paused (idle mode); a requested one runs after resume", async () => {
  const settings = settingsWithDefaults({ tick_interval: 0.25, num_reflectors: 2 });
  const m = createMeasurement(settings, {
    initialPeers: ["127.0.0.1", "127.0.0.2"],
    pool: ["127.0.0.3", "127.0.0.4"],
    random: seededRandom(3),
    pingerChoice: FPING_5_1,
  });
  try {
    await m.start();
    await waitUntil(() => m.owd.recent.has("127.0.0.2"), 5000, "owd");
    await m.pause();
    m.reselect.requestReselect("test");
    // Two cycle windows (tick × π = 0.79 s each): before, a cycle ran with the pinger stopped and
    // found no reflector answering.
    await new Promise((r) => setTimeout(r, 1600));
    assertEquals(m.selector.reselectionCount, 0);
    await m.resume();
    await waitUntil(
      () => m.selector.reselectionCount === 1 && m.selector.phase === "idle",
      5000,
      "the cycle after resume",
    );
    assertEquals(m.selector.quietCycles, 0, "its candidates answered");
  } finally {
    await m.stop();
  }
});

Deno.test("createMeasurement: ingest filters to current peers; bad list file names the file", async () => {
  const clock = new VirtualClock(10);
  const m = createMeasurement(settingsWithDefaults(), { clock, initialPeers: ["1.1.1.1"] });
  const r: PingReply = {
    reflector: "1.1.1.1",
    seq: 0,
    rttMs: 20,
    upMs: 10,
    downMs: 10,
    receiveTimeS: 10,
  };
  m.ingest(r);
  m.ingest({ ...r, reflector: "2.2.2.2" });
  assertEquals([...m.owd.recent.keys()], ["1.1.1.1"]);
  const bad = createMeasurement(settingsWithDefaults({ reflector_list_file: "/nonexistent.csv" }), {
    pingerChoice: { tool: "ping", binary: "ping" },
  });
  const err = await assertRejects(() => bad.start(), Error);
  assert(err.message.includes("/nonexistent.csv"));
  await bad.stop();
});

Deno.test("createMeasurement: stop() during an unfinished start() starts no child", async () => {
  let release!: (text: string) => void;
  const file = new Promise<string>((r) => release = r);
  let spawns = 0;
  const m = createMeasurement(settingsWithDefaults({ reflector_list_file: "/slow.csv" }), {
    readTextFile: () => file,
    pingerChoice: { tool: "fping", binary: "fping" },
    spawn: () => {
      spawns++;
      throw new Error("must not spawn");
    },
  });
  const starting = m.start();
  await m.stop();
  release("reflector_ip,ip_version,description\n127.0.0.1,4,x");
  await starting;
  assertEquals(spawns, 0);
  assertEquals(m.selector.phase, "stopped");
});

Deno.test("createMeasurement: a custom list that lacks upstream's peers starts from its own", async () => {
  const list = "reflector_ip,ip_version,description\n127.0.0.1,4,a\n127.0.0.2,4,b\n127.0.0.3,4,c\n";
  const m = createMeasurement(
    settingsWithDefaults({ reflector_list_file: "/x/list.csv", num_reflectors: 2 }),
    {
      readTextFile: () => Promise.resolve(list),
      random: seededRandom(1),
      pingerChoice: FPING_5_1,
    },
  );
  try {
    await m.start();
    assertEquals(m.owd.peers.length, 2);
    for (const p of m.owd.peers) assert(p.startsWith("127.0.0."), p);
    assertEquals(m.pinger?.reflectors, m.owd.peers);
  } finally {
    await m.stop();
  }
});
