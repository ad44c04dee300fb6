/**
 * SIGHUP under the release permission set (`-P=daemon`) against real `tc` and fping in a
 * throw-away network namespace: a re-read configuration that cannot start (an interface that
 * does not exist, a Lua ratecontroller or plugin that does not load, an interface locked by
 * another daemon) leaves the one in force running, and a storm of SIGHUPs ends in the last valid
 * configuration (docs/operation.md, "A configuration
 * re-read on SIGHUP").
 */
import { assert, assertEquals } from "../util/assert.ts";
import { ExitCode } from "../util/exit_codes.ts";
import {
  addTbfVethPair,
  daemonRuntimeDir,
  daemonUci,
  needs,
  netnsSkipReason,
  occurrences,
  pollUntil,
  rootQdisc,
  withNetns,
  withSpawnedDaemon,
} from "../util/netns_testing.ts";

const reason = await netnsSkipReason();

function uci(dir: string, options: { dl: string; base: number; extra?: string }): string {
  return daemonUci(dir, {
    ul: "vrul",
    dl: options.dl,
    dlBaseKbits: options.base,
    tail: options.extra,
  });
}

/** `pollUntil` every 100 ms; the value that held. */
async function until<T>(
  read: () => T | Promise<T>,
  ok: (v: T) => boolean,
  ms: number,
  what: string,
) {
  return (await pollUntil(read, ok, { ms, what })).value;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  ...needs(
    "daemon under -P=daemon in a netns: a SIGHUP config that cannot start keeps the running one",
    reason,
  ),
  fn: () =>
    withNetns("sqma-reload", async (ns) => {
      await addTbfVethPair(ns, "vrdl", "vrul");
      await addTbfVethPair(ns, "vrdl2", "vrpeer2");
      const dir = await daemonRuntimeDir("reload-");
      const config = `${dir}/sqm-autorate`;
      await Deno.writeTextFile(config, uci(dir, { dl: "vrdl", base: 50000 }));
      const rate = async () => (await rootQdisc(ns, "vrdl")).rateKbit;
      try {
        const stopped = await withSpawnedDaemon(ns, ["run", "--config", config], async (d) => {
          const log = d.log;
          const started = (n: number) =>
            until(log, (t) => occurrences(t, "control started") >= n, 30_000, `control start ${n}`);
          await started(1);
          assertEquals(await rate(), 30000); // 60 % of base, held without load

          // An interface that does not exist: refused before the running daemon is touched.
          await Deno.writeTextFile(config, uci(dir, { dl: "nosuch", base: 50000 }));
          d.kill("SIGHUP");
          await until(log, (t) => t.includes("keeping the running one"), 10_000, "the refusal");
          assert(log().includes("download_interface: interface nosuch does not exist"), log());
          await new Promise((r) => setTimeout(r, 1000));
          assert(!log().includes("shutting down"), log());
          assertEquals(await rate(), 30000, log());

          // A Lua ratecontroller or plugin that does not load: refused the same way.
          await Deno.writeTextFile(`${dir}/broken.lua`, "this is not lua (\n");
          for (
            const [n, extra] of [
              [2, `\toption rate_controller '${dir}/broken.lua'`],
              [3, `config plugins\n\toption ratecontrol '${dir}/broken.lua'`],
            ] as const
          ) {
            await Deno.writeTextFile(config, uci(dir, { dl: "vrdl", base: 50000, extra }));
            d.kill("SIGHUP");
            await until(
              log,
              (t) => occurrences(t, "keeping the running one") >= n,
              20_000,
              `refusal ${n}`,
            );
          }
          assert(
            /running one: rate_controller "[^"]*broken\.lua": .*:1: syntax/.test(log()),
            log(),
          );
          assert(/running one: plugin "[^"]*broken\.lua": .*:1: syntax/.test(log()), log());
          assert(!log().includes("shutting down"), log());
          assertEquals(await rate(), 30000, log());

          // An interface locked by another daemon is found only by the restart: back to the old one.
          const holder = new Deno.Command("flock", {
            args: ["-x", `${dir}/vrdl2.lock`, "sleep", "60"],
            stdin: "null",
          }).spawn();
          try {
            await until(() => exists(`${dir}/vrdl2.lock`), (e) => e, 5_000, "the other lock");
            await Deno.writeTextFile(config, uci(dir, { dl: "vrdl2", base: 50000 }));
            d.kill("SIGHUP");
            await until(
              log,
              (t) => t.includes("the one in force before it"),
              20_000,
              "the fallback",
            );
            await started(2);
            assertEquals(d.exited(), undefined, log());
            assertEquals(await rate(), 30000, log());
          } finally {
            holder.kill("SIGKILL");
            await holder.status;
          }

          // Ten SIGHUPs within a second, the file valid throughout: the last one is in force.
          await Deno.writeTextFile(config, uci(dir, { dl: "vrdl", base: 80000 }));
          for (let i = 0; i < 10; i++) {
            d.kill("SIGHUP");
            await new Promise((r) => setTimeout(r, 100));
          }
          await until(log, (t) => t.includes("control started at download 48000"), 40_000, "80000");
          await new Promise((r) => setTimeout(r, 2000));
          assertEquals(await rate(), 48000, log());
        });
        assertEquals(stopped.code, ExitCode.OK, stopped.log);
        // The exit rate of the configuration in force: base 80 000.
        assertEquals(await rate(), 80000, stopped.log);
        console.log(
          `SIGHUP storm: ${occurrences(stopped.log, "restarting with it")} restarts, ` +
            `${occurrences(stopped.log, "control started")} control starts`,
        );
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }),
});
