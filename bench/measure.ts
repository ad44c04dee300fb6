/**
 * Measurement hot paths: parsing one pinger line and one baseliner sample, plus one selector
 * ranking. Run: `deno run -P=dev bench/measure.ts`. Ends with `metric <name> <value> <unit>`.
 */
import { Baseliner } from "../src/baseline/baseliner.ts";
import { createOwdState } from "../src/baseline/owd_state.ts";
import { parseFpingLine, parsePingLine, parseTspingLine } from "../src/measure/parsers.ts";
import { fisherYates, rankCandidates } from "../src/reflectors/selector.ts";
import { embeddedPool } from "../src/reflectors/pool.ts";
import { seededRandom } from "../src/util/clock.ts";
import { median } from "../src/util/stats.ts";

/** Median per-operation time in µs over `rounds` batches of `batch` calls. */
function medianUs(fn: (i: number) => void, batch = 20_000, rounds = 25): number {
  for (let i = 0; i < batch; i++) fn(i); // warm-up
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) fn(i);
    per.push((performance.now() - t0) * 1000 / batch);
  }
  return median(per);
}

let sink = 0;

const fpingLines = Array.from(
  { length: 64 },
  (_, i) =>
    `[1795630619.${String(15859 + i).padStart(5, "0")}] 127.0.0.${i % 8}  : [${i}], 64 bytes, ` +
    `${(0.03 + i / 1000).toFixed(3)} ms (0.05 avg, 0% loss)`,
);
const fping = medianUs((i) => {
  const r = parseFpingLine(fpingLines[i & 63]);
  if (r.kind === "reply") sink += r.reply.rttMs;
});

const pingLines = Array.from(
  { length: 64 },
  (_, i) =>
    `[1795630620.5876${String(i).padStart(2, "0")}] 64 bytes from 127.0.0.1: icmp_seq=${
      i + 1
    } ttl=64 time=0.0${i % 10}9 ms`,
);
const ping = medianUs((i) => {
  const r = parsePingLine(pingLines[i & 63]);
  if (r.kind === "reply") sink += r.reply.rttMs;
});

const tsLines = Array.from(
  { length: 64 },
  (_, i) =>
    `1700000000.${String(123456 + i)},9.9.9.${i},${i},80000102,80000113,80000113,80000123,21,10,11`,
);
const tsping = medianUs((i) => {
  const r = parseTspingLine(tsLines[i & 63]);
  if (r.kind === "reply") sink += r.reply.upMs;
});

const owd = createOwdState();
const baseliner = new Baseliner(owd, { tickS: 0.5 });
const rnd = seededRandom(1);
const ips = Array.from({ length: 26 }, (_, i) => `10.0.0.${i}`);
const noise = Array.from({ length: 4096 }, () => 20 + rnd() * 5);
const base = medianUs((i) => {
  baseliner.ingest({
    reflector: ips[i % 26],
    upMs: noise[i & 4095],
    downMs: noise[(i + 7) & 4095],
    receiveTimeS: i * 0.02,
  });
});

const pool = embeddedPool();
for (const ip of pool) {
  owd.recent.set(ip, { up_ewma: rnd() * 50, down_ewma: rnd() * 50, last_receive_time_s: 0 });
}
const candidates = pool.slice(0, 26);
const select = medianUs(
  () => {
    const ranked = rankCandidates(candidates, owd, 10);
    sink += fisherYates(ranked, rnd).length;
  },
  2000,
  25,
);

if (sink === 42) console.log("");
console.log(`metric fping_parse_median ${fping.toFixed(3)} us`);
console.log(`metric ping_parse_median ${ping.toFixed(3)} us`);
console.log(`metric tsping_parse_median ${tsping.toFixed(3)} us`);
console.log(`metric baseliner_sample_median ${base.toFixed(3)} us`);
console.log(`metric selector_rank_median ${select.toFixed(3)} us`);
