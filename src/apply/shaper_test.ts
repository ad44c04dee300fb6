import { assert, assertEquals, assertRejects } from "../util/assert.ts";
import type { CommandRunner } from "../util/command.ts";
import { VirtualClock } from "../util/clock.ts";
import {
  CakeShaper,
  createShaper,
  parseTcRate,
  ShaperCheckError,
  ShaperError,
  TbfShaper,
} from "./shaper.ts";

/** A fake tc: answers from a table and records every call. */
function fakeTc(
  answer: (args: readonly string[]) => { code?: number; stdout?: string; stderr?: string },
) {
  const calls: string[][] = [];
  const runner: CommandRunner = (binary, args) => {
    calls.push([binary, ...args]);
    const a = answer(args);
    return Promise.resolve({ code: a.code ?? 0, stdout: a.stdout ?? "", stderr: a.stderr ?? "" });
  };
  return { calls, runner };
}

Deno.test("cake: upstream's command, argument array, injectable binary and netns", async () => {
  const tc = fakeTc(() => ({}));
  const s = new CakeShaper("ifb4wan", { runner: tc.runner, tcPath: "/sbin/tc", netns: "ns1" });
  await s.setRate(65203);
  assertEquals(tc.calls, [[
    "/sbin/tc",
    "-n",
    "ns1",
    "qdisc",
    "change",
    "root",
    "dev",
    "ifb4wan",
    "cake",
    "bandwidth",
    "65203Kbit",
  ]]);
});

Deno.test("cake: a failing change rejects with tc's stderr", async () => {
  const tc = fakeTc(() => ({ code: 2, stderr: "Error: Qdisc not found.\n" }));
  const e = await assertRejects(
    () => new CakeShaper("wan", { runner: tc.runner }).setRate(1000),
    ShaperError,
  );
  assertEquals(e.stderr, "Error: Qdisc not found.\n");
  assert(e.message.includes("wan") && e.message.includes("Qdisc not found"));
});

Deno.test("check: right kind passes, wrong kind and missing interface are told apart", async () => {
  const cake = fakeTc(() => ({
    stdout: '[{"kind":"cake","handle":"8001:","root":true,"options":{"bandwidth":1250000}}]',
  }));
  const s = new CakeShaper("wan", { runner: cake.runner });
  await s.check();
  assertEquals(await s.readRate(), 10000);
  assertEquals(cake.calls[0].slice(1), ["-j", "qdisc", "show", "dev", "wan"]);

  const fq = fakeTc(() => ({ stdout: '[{"kind":"fq_codel","handle":"0:","root":true}]' }));
  const wrong = await assertRejects(
    () => new CakeShaper("wan", { runner: fq.runner }).check(),
    ShaperCheckError,
  );
  assertEquals(wrong.reason, "wrong-kind");
  assert(wrong.message.includes("fq_codel"));

  const gone = fakeTc(() => ({ code: 1, stderr: 'Cannot find device "wan"\n' }));
  const missing = await assertRejects(
    () => createShaper("tbf", "wan", { runner: gone.runner }).check(),
    ShaperCheckError,
  );
  assertEquals(missing.reason, "missing-interface");
});

Deno.test("tbf: burst grows with the rate, never shrinks, and the configured latency is kept", async () => {
  const tc = fakeTc((args) =>
    args.includes("show")
      ? {
        stdout: '[{"kind":"tbf","root":true,"options":{"rate":1250000,"burst":32767,"lat":20000}}]',
      }
      : {}
  );
  const s = new TbfShaper("veth0", { runner: tc.runner });
  await s.setRate(1000); // the qdisc's own 32767 B burst is the floor
  await s.setRate(100000);
  await s.setRate(1000); // a smaller burst could wedge a queued GSO packet: keep 62500
  const changes = tc.calls.filter((c) => c.includes("change")).map((c) => c.slice(1).join(" "));
  assertEquals(changes, [
    "qdisc change root dev veth0 tbf rate 1000Kbit burst 32767 latency 20000us",
    "qdisc change root dev veth0 tbf rate 100000Kbit burst 62500 latency 20000us",
    "qdisc change root dev veth0 tbf rate 1000Kbit burst 62500 latency 20000us",
  ]);
  assertEquals(s.burstBytes(1000), 3200);
});

Deno.test("parseTcRate: tc's units", () => {
  assertEquals(parseTcRate("20Mbit"), 20000);
  assertEquals(parseTcRate("1600Kbit"), 1600);
  assertEquals(parseTcRate("800bit"), 0.8);
  assertEquals(parseTcRate("1Kibit"), 1.024);
  assertEquals(parseTcRate("1.5Gbit"), 1500000);
  assertEquals(parseTcRate("fast"), undefined);
});

Deno.test("cake: a rate of 0 (CAKE's 'unlimited') or 1e300 never reaches tc as such", async () => {
  const tc = fakeTc(() => ({}));
  const s = new CakeShaper("wan", { runner: tc.runner });
  await s.setRate(0);
  await s.setRate(1e300);
  assertEquals(tc.calls.map((c) => c.at(-1)), ["1Kbit", "100000000Kbit"]);
  await assertRejects(() => s.setRate(NaN), RangeError);
  assertEquals(tc.calls.length, 2);
});

Deno.test("explainBackoff: a replaced root is asked about at once, then at a doubling interval up to maxS; a TBF put back is adopted within maxS", async () => {
  let root = { kind: "tbf", handle: "8001:" };
  const tc = fakeTc((args) => {
    if (args.includes("show")) {
      const q = { ...root, root: true, options: { rate: 125000, burst: 10240, lat: 20000 } };
      return { stdout: JSON.stringify([q]) };
    }
    return args.includes(root.handle)
      ? {}
      : { code: 2, stderr: "Error: NLM_F_REPLACE needed to override." };
  });
  const clock = new VirtualClock(100);
  const s = new TbfShaper("vul", {
    runner: tc.runner,
    explainBackoff: { firstS: 1, maxS: 10 },
    clock,
  });
  await s.check();
  await s.setRate(2000);
  const shows = () => tc.calls.filter((c) => c.includes("show")).length;
  const start = shows();
  root = { kind: "pfifo", handle: "8002:" };
  const askedAt: number[] = [];
  const messages = new Set<string>();
  for (let i = 0; i < 300; i++) { // 30 s of 0.1 s ticks
    const before = shows();
    const e = await assertRejects(() => s.setRate(3000 + i % 2), ShaperCheckError);
    assertEquals(e.reason, "wrong-kind");
    messages.add(e.message);
    if (shows() > before) askedAt.push(Math.round((clock.monotonicS() - 100) * 10) / 10);
    clock.advance(0.1);
  }
  assertEquals(askedAt, [0, 1, 3, 7, 15, 25]);
  assertEquals(shows() - start, 6);
  assertEquals(messages.size, 1, "the same explanation: the loop logs it once");

  // A TBF put back under a new handle: the next due question adopts it (here at 35 s).
  root = { kind: "tbf", handle: "8003:" };
  let failures = 0;
  for (;;) {
    try {
      await s.setRate(4000);
      break;
    } catch {
      failures++;
      clock.advance(0.1);
    }
  }
  assert(failures <= 100, `${failures} failed ticks`);
  const last = tc.calls.at(-1)!.join(" ");
  assert(last.includes("handle 8003:") && last.includes("4000Kbit"), last);

  // Working again starts over: the next failure is asked about at once.
  root = { kind: "pfifo", handle: "8004:" };
  const n = shows();
  await assertRejects(() => s.setRate(5000), ShaperCheckError);
  assertEquals(shows(), n + 1);
});

Deno.test("without explainBackoff (the local tc) every failed change is asked about", async () => {
  let kind = "tbf";
  const tc = fakeTc((args) =>
    args.includes("show")
      ? {
        stdout: `[{"kind":"${kind}","handle":"${kind === "tbf" ? "8001:" : "8002:"}","root":true}]`,
      }
      : kind === "tbf"
      ? {}
      : { code: 2, stderr: "Error: NLM_F_REPLACE needed to override." }
  );
  const s = new TbfShaper("vul", { runner: tc.runner });
  await s.check();
  kind = "pfifo";
  for (let i = 0; i < 3; i++) await assertRejects(() => s.setRate(3000), ShaperCheckError);
  assertEquals(tc.calls.filter((c) => c.includes("show")).length, 1 + 3);
});
