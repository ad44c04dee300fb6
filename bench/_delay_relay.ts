/**
 * A slow management link for remote-mode benches (docs/remote.md, "A slow management link"), as
 * ssh's `ProxyCommand`: relays stdin to a TCP connection and back, holding each chunk a fixed
 * time plus an exponential jitter each way, in order (a chunk never overtakes the one before).
 * This kernel has no netem, and a TBF delays nothing that its bucket lets through.
 *
 *   ssh -o 'ProxyCommand=deno run --allow-net bench/_delay_relay.ts %h %p ONE_WAY_MS [JITTER_MS]'
 */
const [host, port, oneWay, jitter] = Deno.args;
const fixedMs = Number(oneWay ?? 0);
const jitterMs = Number(jitter ?? 0);
const conn = await Deno.connect({ hostname: host, port: Number(port) });
conn.setNoDelay(true);

/** Copies `from` to `to`, each chunk delivered `fixedMs` plus a jitter after it arrived. */
async function relay(from: ReadableStream<Uint8Array>, to: WritableStream<Uint8Array>) {
  const writer = to.getWriter();
  let lastDue = 0;
  let chain = Promise.resolve();
  for await (const chunk of from) {
    const due = Math.max(
      lastDue,
      performance.now() + fixedMs - Math.log(1 - Math.random()) * jitterMs,
    );
    lastDue = due;
    chain = chain.then(async () => {
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await writer.write(chunk);
    });
  }
  await chain;
  await writer.close().catch(() => {});
}

await Promise.race([
  relay(Deno.stdin.readable, conn.writable),
  relay(conn.readable, Deno.stdout.writable),
]).catch(() => {});
Deno.exit(0);
