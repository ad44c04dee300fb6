/**
 * Remote mode (docs/remote.md): the shapers and byte counters of a router reached over SSH, for
 * a router that cannot run this program. Pingers stay local: their probes cross the router's
 * queues just as the router's own would.
 */
import type { Logger } from "../log/logger.ts";
import { createShaperPair, ShaperCheckError } from "../apply/shaper.ts";
import { type LinkKindReader, readLinkKind } from "../apply/link_kind.ts";
import { probePrivilege } from "../apply/tc_privilege.ts";
import { TC_CHANGES_PER_SSH_SESSION, TcBatch } from "../apply/tc_batch.ts";
import { mapShaperPair, shaperWith } from "../control/shaper_wrap.ts";
import { createCounterReader } from "../counters/mod.ts";
import {
  type CounterReader,
  type Shaper,
  SHAPER_REFRESH_S,
  type ShaperKind,
  type ShaperPair,
} from "../control/ports.ts";
import { COMMAND_TIMED_OUT, type CommandRunner, defaultCommandRunner } from "../util/command.ts";
import type { ProcessSpawner } from "../util/coprocess.ts";
import {
  explainSshFailure,
  isRemote,
  type RemoteSettings,
  sshArgv,
  sshCommandRunner,
  sshFailureKind,
} from "./ssh.ts";
import { RouterLink } from "./router_link.ts";
import { SysfsSshSource } from "./sysfs_counters.ts";

export { isRemote, type RemoteSettings, shellQuote, sshArgv } from "./ssh.ts";

/** The settings the remote adapters are built from. */
export interface RemoteAdapterSettings extends RemoteSettings {
  shaper: ShaperKind;
  dl_if: string;
  ul_if: string;
  htb_classid: string;
  dl_counter: "auto" | "rx" | "tx";
  ul_counter: "auto" | "rx" | "tx";
}

/** Options of `createRemoteAdapters`. */
export interface RemoteAdapterOptions {
  /** Logger for connection trouble. */
  logger?: Logger;
  /** ssh binary (default `ssh`). */
  sshPath?: string;
  /** Runs commands on the router (default: one ssh per command). */
  runner?: CommandRunner;
  /** Starts the `tc -batch` session's ssh (default: Deno.Command); tests record what it is sent. */
  spawnBatch?: ProcessSpawner;
  /** Starts the counter session (tests: to record its writes; default: Deno.Command). */
  spawnCounters?: ProcessSpawner;
  /** Changes a `tc -batch` session makes before a fresh one replaces it (tests; default 500). */
  changesPerProcess?: number;
}

/**
 * Waits of the router's `tc -batch` session, ms: the first change of a session waits for the
 * connection too (ssh's ConnectTimeout=10); later ones get the local tc's 2 s (a hung router
 * holds a tick 2–4 s, not 10–20); a change left in an abandoned session is made again after
 * 30 s (docs/remote.md, "Start-up and faults").
 */
export const REMOTE_TC_WAITS = {
  firstAnswerTimeoutMs: 10_000,
  timeoutMs: 2000,
  reapplyAfterMs: 30_000,
} as const;

/**
 * How often the router is asked why a rate change keeps failing (its root qdisc replaced, say):
 * each question is one `ssh … tc -j qdisc show`, so it is asked at once, again after 1 s, 2 s, …,
 * then every {@linkcode SHAPER_REFRESH_S} (10 s) while the answer stays the same. A root of the
 * configured kind put back is thus adopted within 10 s, as the loop's refresh finds a changed one
 * (docs/remote.md, "A root qdisc replaced on the router").
 */
export const REMOTE_EXPLAIN_BACKOFF = { firstS: 1, maxS: SHAPER_REFRESH_S } as const;

/**
 * Checks that the router answers over ssh and has `tc`. An unreachable router is `unreachable`
 * (the daemon retries); an unknown host key, a refused key or a missing tc is `tc-failed` (fatal).
 */
export async function checkRouter(
  settings: RemoteSettings,
  runner: CommandRunner,
): Promise<void> {
  const r = await runner("tc", ["-V"]);
  if (r.code === 0) return;
  const why = explainSshFailure(r, settings) ?? r.stderr.trim();
  if (sshFailureKind(r) === "unreachable") throw new ShaperCheckError("unreachable", why);
  throw new ShaperCheckError(
    "tc-failed",
    sshFailureKind(r) === undefined
      ? `tc does not run on ${settings.remote} (exit ${r.code}: ${why}): install it there ` +
        `(OpenWrt: tc-tiny or tc-full)`
      : why,
  );
}

/** A shaper whose check first makes sure the router answers (once per successful start). */
function afterRouterCheck(shaper: Shaper, routerCheck: () => Promise<void>): Shaper {
  return shaperWith(shaper, {
    check: async () => {
      await routerCheck();
      await shaper.check();
    },
  });
}

/**
 * The router's shapers (changes through one `tc -batch` ssh session, start-up queries one ssh
 * each), counters (sysfs through another ssh session) and the link kind of its interfaces (one
 * ssh with `ip -d -j`; undefined where the router's `ip` has no `-j`, BusyBox's).
 */
export function createRemoteAdapters(
  settings: RemoteAdapterSettings,
  options: RemoteAdapterOptions = {},
): { shapers: ShaperPair; counters: CounterReader; linkKind: LinkKindReader } {
  const runner = options.runner ?? sshCommandRunner(settings, { sshPath: options.sshPath });
  let checked: Promise<void> | undefined;
  const routerCheck = () => {
    checked ??= checkRouter(settings, runner).catch((e) => {
      checked = undefined; // try again on the next start-up attempt
      throw e;
    });
    return checked;
  };
  // Changes: one long-lived `tc -batch` on the router; queries at start: one ssh each. While
  // the counter session gets no answer, its redials are the only attempts (docs/remote.md).
  const link = new RouterLink();
  const source = new SysfsSshSource(settings, {
    sshPath: options.sshPath,
    logger: options.logger,
    link,
    spawn: options.spawnCounters,
  });
  const batch = new TcBatch({
    command: [...sshArgv(settings, { sshPath: options.sshPath }), "tc"],
    spawn: options.spawnBatch,
    logger: options.logger,
    // A spawned `ssh … tc` the router did not answer: taken as away until the counters answer.
    runner: async (binary, args, run) => {
      const r = await defaultCommandRunner(binary, args, run);
      if (r.code === COMMAND_TIMED_OUT || sshFailureKind(r) === "unreachable") link.lost();
      return r;
    },
    deferWhile: () => !link.answers,
    // When the router answers again, changes go through the counter session, which is up
    // already, while the batch's own session connects (docs/operation.md).
    whileConnecting: (changes) => source.tc(changes, REMOTE_TC_WAITS.timeoutMs),
    changesPerProcess: options.changesPerProcess ?? TC_CHANGES_PER_SSH_SESSION,
    ...REMOTE_TC_WAITS,
  });
  link.onBack(() => batch.resume());
  const pair = createShaperPair(settings, {
    runner,
    batch,
    logger: options.logger,
    explainBackoff: REMOTE_EXPLAIN_BACKOFF,
  });
  return {
    shapers: mapShaperPair(pair, (s) => afterRouterCheck(s, routerCheck)),
    counters: createCounterReader(settings, { logger: options.logger, source }),
    linkKind: (ifname) => readLinkKind(ifname, { runner }),
  };
}

/**
 * `check-config`'s remote check: with `remote` set, the router must answer over ssh, have `tc`
 * and the configured shaper on both interfaces, let the login change it, and readable counters.
 * Problems carry exit 69, as the daemon's start-up would.
 */
export async function checkRemoteSetup(
  settings: RemoteAdapterSettings,
  options: RemoteAdapterOptions = {},
): Promise<string[]> {
  if (!isRemote(settings)) return [];
  const runner = options.runner ?? sshCommandRunner(settings, { sshPath: options.sshPath });
  const { shapers, counters } = createRemoteAdapters(settings, { ...options, runner });
  const problems: string[] = [];
  try {
    const usable: string[] = [];
    const byName = [[settings.dl_if, shapers.dl], [settings.ul_if, shapers.ul]] as const;
    for (const [ifname, shaper] of byName) {
      try {
        await shaper.check();
        usable.push(ifname);
      } catch (e) {
        problems.push(`remote ${settings.remote}: ${(e as Error).message}`);
        if (e instanceof ShaperCheckError && e.reason !== "wrong-kind") return problems;
      }
    }
    // A login that is not root's on the router sees the qdiscs but may not change them.
    const refused = usable.length > 0 ? await probePrivilege(usable, runner) : undefined;
    if (refused !== undefined) problems.push(`remote ${settings.remote}: ${refused}`);
    if (await counters.read() === null) {
      problems.push(
        `remote ${settings.remote}: cannot read the byte counters of ${settings.dl_if} and ` +
          `${settings.ul_if} in /sys/class/net`,
      );
    }
    return problems;
  } finally {
    await counters.close?.();
    await shapers.close?.();
  }
}
