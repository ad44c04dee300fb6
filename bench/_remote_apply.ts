/**
 * Helper of bench/remote.ts, run inside the testbed's client namespace: changes the router's
 * download shaper N times through the remote adapters (the daemon's own code: one `tc -batch`
 * ssh session) and prints, as JSON, the milliseconds from each decision until tc on the router
 * confirmed the change, and the rates read back afterwards over ssh.
 *
 *   deno run -A bench/_remote_apply.ts '{"remote":…,"dl_if":…,"rates":[…]}'
 */
import { createRemoteAdapters, type RemoteAdapterSettings } from "../src/remote/mod.ts";

const input = JSON.parse(Deno.args[0]) as RemoteAdapterSettings & { rates: number[] };
const { shapers, counters } = createRemoteAdapters(input);
const ms: number[] = [];
const readBack: number[] = [];
try {
  await shapers.dl.check();
  for (const rate of input.rates) {
    const t0 = performance.now();
    await shapers.dl.setRate(rate);
    ms.push(performance.now() - t0);
    readBack.push((await shapers.dl.readRate?.()) ?? NaN);
  }
} finally {
  await counters.close?.();
  await shapers.close?.();
}
console.log(JSON.stringify({ ms, readBack }));
