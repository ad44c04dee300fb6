/**
 * A tick's two rate changes in remote mode, against a real OpenSSH server in a throw-away
 * "router" namespace (ssh_netns_fixture.ts): they reach the router's `tc -batch` session in one
 * write (one round trip, not two), and a change the router refuses is its own direction's: the
 * other is made, the refused one logged once and retried (docs/remote.md, "A slow management
 * link"); why it was refused is asked in the same session, no ssh connection of its own.
 */
import { assert, assertEquals } from "../util/assert.ts";
import { ExitCode } from "../util/exit_codes.ts";
import type { TickEvent } from "../control/ports.ts";
import { formatRecord, stageLogger } from "../log/mod.ts";
import { denoSpawner, type ProcessSpawner } from "../util/coprocess.ts";
import { needs, netnsSkipReason } from "../util/netns_testing.ts";
import { matching, until, withLogs } from "./hung_testing.ts";
import { createRemoteAdapters } from "../remote/mod.ts";
import { sshdSkipReason, startFlippingDaemon, withSshRouterNetns } from "./ssh_netns_fixture.ts";

const reason = (await netnsSkipReason()) ?? (await sshdSkipReason());

/**
 * The real spawner, recording every write to the child's stdin (one entry per write), and each
 * child's writes in `sessions` (one list per spawn).
 */
function recordingSpawner(writes: string[], sessions: string[][] = []): ProcessSpawner {
  const decoder = new TextDecoder();
  return (argv) => {
    const child = denoSpawner(argv);
    const own: string[] = [];
    sessions.push(own);
    const writer = child.stdin.getWriter();
    const stdin = new WritableStream<Uint8Array>({
      write: (chunk) => {
        writes.push(decoder.decode(chunk));
        own.push(writes.at(-1)!);
        return writer.write(chunk);
      },
      close: () => writer.close(),
      abort: (e) => writer.abort(e),
    });
    return {
      pid: child.pid,
      stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      status: child.status,
      kill: (signal) => child.kill(signal),
    };
  };
}

Deno.test({
  ...needs(
    "remote (netns, sshd): a tick's two rate changes go to the router in one write; one the " +
      "router refuses is its own direction's, the other made",
    reason,
  ),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withLogs((records) =>
      withSshRouterNetns("sqma-rpr", {}, async (r) => {
        const writes: string[] = [];
        const adapters = createRemoteAdapters(r.d.settings, {
          sshPath: r.sshPath,
          logger: stageLogger("remote"),
          spawnBatch: recordingSpawner(writes),
        });
        const ticks: TickEvent[] = [];
        let held: { dl: number; ul: number } | undefined;
        // Both rates move every tick (tc is asked for both, as under load in both directions).
        const daemon = startFlippingDaemon(r, adapters, { ticks, held: () => held });
        const text = () => records.map(formatRecord).join("");
        try {
          await until(() => ticks.length >= 20, "20 ticks", 30_000);
          const both = writes.filter((w) => w.includes(" dev vdl ") && w.includes(" dev vul "));
          const alone = writes.filter((w) => w.includes(" dev vdl ") !== w.includes(" dev vul "));
          assert(both.length >= 15, `${both.length} writes with both changes: ${writes.join("|")}`);
          assertEquals(alone, [], "no change written alone");

          // The router's upload shaper replaced by another kind: its changes fail, the download
          // ones are still made, in the same writes.
          const accepted = async () =>
            (await r.sshdLog()).split("\n").filter((l) => l.includes("Accepted publickey")).length;
          const connections = await accepted();
          await r.d.tc(["qdisc", "replace", "dev", "vul", "root", "pfifo"]);
          const at = ticks.length;
          await until(() => ticks.length >= at + 15, "15 more ticks", 30_000);
          // Why it fails is asked in the `tc -batch` session that refused the change, not over
          // an ssh connection of its own that the tick would wait for (docs/remote.md, "A root
          // qdisc replaced on the router"): at once, then 1 s later (REMOTE_EXPLAIN_BACKOFF).
          const asked = await accepted() - connections;
          assertEquals(asked, 0, `${asked} ssh connections in 15 failing ticks`);
          const questions = writes.filter((w) => w.includes("qdisc show dev vul"));
          assert(questions.length >= 1 && questions.length <= 3, `${questions.length} questions`);
          const failing = ticks.slice(at + 5);
          assert(failing.every((t) => t.shaperFailures.ul && !t.shaperFailures.dl));
          assert(new Set(failing.map((t) => t.dlRate)).size === 2, "download still flips");
          assertEquals(
            writes.at(-1)!.split("\n").filter((l) => l.includes(" dev ")).length,
            2,
            "the upload change retried alongside the download one",
          );
          held = { dl: 30000, ul: 9000 };
          await until(() => ticks.at(-1)!.dlRate === 30000, "download held at 30000", 10_000);
          assertEquals((await r.d.tbf("vdl")).rateKbit, 30000, "the download rate in force");
          // The upload rate in force stays the last one the router made.
          assertEquals(new Set(ticks.slice(at + 5).map((t) => t.ulRate)).size, 1);
          const refused = matching(records, /setting \{ifname\} to .* failed/)
            .filter((x) => x.properties.ifname === "vul");
          assertEquals(refused.length, 1, text());
          assert(String(refused[0].properties.error).includes("replaced by pfifo"), text());

          // Back: the upload rate is made (at the next question, within 10 s) and said so.
          await r.d.tc(["qdisc", "replace", "dev", "vul", "root", ...TBF]);
          await until(async () => (await r.d.tbf("vul")).rateKbit === 9000, "upload 9000", 15_000);
          assertEquals(matching(records, /rate changes on \{ifname\} work again/).length, 1);
          assertEquals(await daemon.stop(), ExitCode.OK, text());
        } catch (e) {
          console.log(text());
          throw e;
        } finally {
          await daemon.stop();
          await adapters.counters.close?.();
        }
      })
    ),
});

/** A root TBF as the fixture makes it (netns_testing.ts, `addTbfVethPair`). */
const TBF = ["tbf", "rate", "1mbit", "burst", "10kb", "latency", "20ms"];

Deno.test({
  ...needs(
    "remote (netns, sshd): the session replacing one after changesPerProcess changes is started " +
      "at once, its first line the marker alone; the changes meanwhile go through the counter " +
      "session, a tick's pair in one write, and the router has the last rate",
    reason,
  ),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withLogs((records) =>
      withSshRouterNetns("sqma-rrn", {}, async (r) => {
        const writes: string[] = [];
        const sessions: string[][] = [];
        const counterWrites: string[] = [];
        const adapters = createRemoteAdapters(r.d.settings, {
          sshPath: r.sshPath,
          logger: stageLogger("remote"),
          spawnBatch: recordingSpawner(writes, sessions),
          spawnCounters: recordingSpawner(counterWrites),
          changesPerProcess: 10,
        });
        const ticks: TickEvent[] = [];
        let held: { dl: number; ul: number } | undefined;
        const daemon = startFlippingDaemon(r, adapters, { ticks, held: () => held });
        const text = () => records.map(formatRecord).join("");
        try {
          // Two changes a tick: a fresh session every 5 ticks.
          await until(() => sessions.length >= 4, "4 tc -batch sessions", 30_000);
          // Before: the replacement's first write was the next tick's changes, which waited for
          // its ssh connection (docs/remote.md, "A root qdisc replaced on the router").
          for (const s of sessions.slice(1, 3)) assertEquals(s[0], "sqma-sync\n", text());
          // While each connected, a tick's download and upload went to the counter session in
          // one write: one round trip, not two (docs/remote.md, "A slow management link").
          const tcLines = counterWrites.map((w) =>
            w.split("\n").filter((l) => l.startsWith("tc ")).length
          ).filter((n) => n > 0);
          assert(tcLines.length > 0, "changes through the counter session");
          assertEquals(tcLines, tcLines.map(() => 2), counterWrites.join(""));
          held = { dl: 30000, ul: 9000 };
          await until(() => ticks.at(-1)!.dlRate === 30000, "download held at 30000", 10_000);
          await until(async () => (await r.d.tbf("vul")).rateKbit === 9000, "upload 9000", 10_000);
          assertEquals((await r.d.tbf("vdl")).rateKbit, 30000);
          assertEquals(matching(records, /tc -batch coprocess/).length, 0, text());
          assertEquals(await daemon.stop(), ExitCode.OK, text());
        } catch (e) {
          console.log(text());
          throw e;
        } finally {
          await daemon.stop();
          await adapters.counters.close?.();
        }
      })
    ),
});
