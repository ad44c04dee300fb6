import { assert, assertEquals } from "../util/assert.ts";
import { ReflectorTrust } from "./reflector_trust.ts";
import type { SampleView } from "./sample_view.ts";

const IPS = ["a", "b", "c", "d", "e"];

/**
 * Decisions every 0.1 s for `seconds`, each reflector answering every 0.5 s (staggered);
 * `delta(ip, k)` gives reflector ip's k-th sample (ms, RTT only); a sample over 7.5 ms is high.
 * Returns the reflectors left in the view at the last decision.
 */
function drive(
  trust: ReflectorTrust,
  seconds: number,
  delta: (ip: string, k: number) => number,
): string[] {
  let left: string[] = [];
  for (let step = 0; step < seconds * 10; step++) {
    const now = step / 10;
    const view: SampleView = { dl: [], ul: [], at: [], ip: [], rttOnly: true };
    IPS.forEach((ip, i) => {
      // Reflector i's latest sample: received at the last multiple of 0.5 s offset by i × 0.1 s.
      const k = Math.floor((now - i * 0.1) / 0.5 + 1e-9);
      if (k < 0) return;
      const d = delta(ip, k);
      view.dl.push(d / 2);
      view.ul.push(d / 2);
      view.at.push(k * 0.5 + i * 0.1);
      view.ip.push(ip);
    });
    trust.filter(view, { now, high: view.dl.map((dl, i) => dl + view.ul[i] > 7.5) });
    left = view.ip;
  }
  return left;
}

Deno.test("reflector trust: a reflector high on its own stops voting; a common queue keeps all", () => {
  const trust = new ReflectorTrust();
  // "a" jitters above the trigger every other sample; the others are quiet.
  const left = drive(trust, 60, (ip, k) => (ip === "a" && k % 2 === 0 ? 20 : 1));
  assertEquals(left, ["b", "c", "d", "e"]);
  assert(trust.share("a") > 0.3, `share ${trust.share("a")}`);
  // A queue every reflector sees, every 5 s for 2 s: nobody is dropped.
  const common = new ReflectorTrust();
  const all = drive(common, 60, (_ip, k) => (k % 10 < 4 ? 30 : 1));
  assertEquals(all, IPS);
  for (const ip of IPS) assertEquals(common.share(ip), 0);
});

Deno.test("reflector trust: two lone reflectors go; three of five lone, none", () => {
  const trust = new ReflectorTrust();
  // "a" and "b" high at alternate samples (they do not confirm each other: need 2 others).
  const two = drive(
    trust,
    60,
    (ip, k) => (ip === "a" && k % 2 === 0) || (ip === "b" && k % 2 === 1) ? 20 : 1,
  );
  assertEquals(two, ["c", "d", "e"]);
  // Three of five lone (never within 1 s of each other): the median reflector is one of them,
  // and nobody goes; the rule needs a majority of sound reflectors.
  const slot: Record<string, number> = { a: 0, b: 2, c: 4 };
  const three = drive(new ReflectorTrust(), 60, (ip, k) => (k % 6 === slot[ip] ? 20 : 1));
  assertEquals(three, IPS);
});

Deno.test("reflector trust: a few lone samples at the start do not drop a reflector", () => {
  // "a" is high on its own for its first six samples (3 s), then quiet: its share passes `lone`
  // while every other share is 0, but six samples are too few to judge it on.
  const left = drive(new ReflectorTrust(), 3.5, (ip, k) => (ip === "a" && k < 6 ? 20 : 1));
  assertEquals(left, IPS);
});

Deno.test("reflector trust: a reflector not heard from for forgetS is forgotten", () => {
  const trust = new ReflectorTrust();
  const view = (ips: string[], now: number): SampleView => ({
    dl: ips.map(() => 1),
    ul: ips.map(() => 1),
    at: ips.map(() => now),
    ip: [...ips],
    rttOnly: true,
  });
  for (let now = 0; now < 1; now += 0.1) {
    trust.filter(view(["a", "b", "c"], now), { now, high: [false, false, false] });
  }
  assertEquals(trust.followed, 3);
  // A reselection replaced "a" with "d": after a minute "a" is no longer followed.
  for (let now = 1; now < 62; now += 0.1) {
    trust.filter(view(["b", "c", "d"], now), { now, high: [false, false, false] });
  }
  assertEquals(trust.followed, 3);
  assertEquals(trust.share("a"), 0);
});
