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
  collectStderr,
  daemonRuntimeDir,
  daemonUci,
  needs,
  netnsSkipReason,
  pollUntil,
  rootQdisc,
  spawnDaemonInNetns,
  withNetns,
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

const count = (text: string, part: string) => text.split(part).length - 1;

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
      const child = spawnDaemonInNetns(ns, ["run", "--config", config]);
      const { log, done: collecting } = collectStderr(child);
      let exited: number | undefined;
      void child.status.then((s) => exited = s.code);
      const started = (n: number) =>
        until(log, (t) => count(t, "control started") >= n, 30_000, `control start ${n}`);
      let code: number | undefined;
      try {
        await started(1);
        assertEquals(await rate(), 30000); // 60 % of base, held without load

        // An interface that does not exist: refused before the running daemon is touched.
        await Deno.writeTextFile(config, uci(dir, { dl: "nosuch", base: 50000 }));
        child.kill("SIGHUP");
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
          child.kill("SIGHUP");
          await until(log, (t) => count(t, "keeping the running one") >= n, 20_000, `refusal ${n}`);
        }
        assert(/running one: rate_controller "[^"]*broken\.lua": .*:1: syntax/.test(log()), log());
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
          child.kill("SIGHUP");
          await until(log, (t) => t.includes("the one in force before it"), 20_000, "the fallback");
          await started(2);
          assertEquals(exited, undefined, log());
          assertEquals(await rate(), 30000, log());
        } finally {
          holder.kill("SIGKILL");
          await holder.status;
        }

        // Ten SIGHUPs within a second, the file valid throughout: the last one is in force.
        await Deno.writeTextFile(config, uci(dir, { dl: "vrdl", base: 80000 }));
        for (let i = 0; i < 10; i++) {
          child.kill("SIGHUP");
          await new Promise((r) => setTimeout(r, 100));
        }
        await until(log, (t) => t.includes("control started at download 48000"), 40_000, "80000");
        await new Promise((r) => setTimeout(r, 2000));
        assertEquals(exited, undefined, log());
        assertEquals(await rate(), 48000, log());
        child.kill("SIGTERM");
        code = (await child.status).code;
      } finally {
        if (exited === undefined && code === undefined) child.kill("SIGKILL");
        await child.status;
        await collecting;
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
      assertEquals(code, ExitCode.OK, log());
      // The exit rate of the configuration in force: base 80 000.
      assertEquals(await rate(), 80000, log());
      console.log(
        `SIGHUP storm: ${count(log(), "restarting with it")} restarts, ` +
          `${count(log(), "control started")} control starts`,
      );
    }),
});
