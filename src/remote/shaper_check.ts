/**
 * A SIGHUP's check of the router's shapers in remote mode (docs/operation.md, "A configuration
 * re-read on SIGHUP"): both interfaces with the configured shaper's root qdisc or HTB class, asked
 * over ssh exactly as the start-up asks (one `ssh … tc …` each, `checkRouter` first), within one
 * time budget. A router that does not answer within it is one problem of its own: the restart
 * needs the router, and the running daemon rides out its absence.
 */
import { createShaperPair, ShaperCheckError, shapersBySetting } from "../apply/shaper.ts";
import type { ShaperKind } from "../control/ports.ts";
import { COMMAND_TIMED_OUT, type CommandResult, type CommandRunner } from "../util/command.ts";
import { type RemoteSettings, sshCommandRunner, sshFailureKind } from "./ssh.ts";
import { checkRouter } from "./mod.ts";

/** The whole check's budget, ms: ssh's `ConnectTimeout` (10 s) and a few round trips after it. */
export const REMOTE_RELOAD_CHECK_MS = 15_000;

/** The settings the check is built from. */
export interface RemoteShaperCheckSettings extends RemoteSettings {
  shaper: ShaperKind;
  dl_if: string;
  ul_if: string;
  htb_classid: string;
}

/** Options of {@linkcode remoteShaperProblems}. */
export interface RemoteShaperCheckOptions {
  /** ssh binary (default `ssh`). */
  sshPath?: string;
  /** Budget of the whole check, ms (default {@linkcode REMOTE_RELOAD_CHECK_MS}). */
  timeoutMs?: number;
  /** Ends the check early (a newer SIGHUP): the ssh running is killed, no other is started. */
  signal?: AbortSignal;
  /** Runs one command on the router (default: one ssh each, as at start). */
  runner?: CommandRunner;
}

/**
 * The router's answer for the re-read configuration's shapers, as `setting: why` problems
 * (`download_interface: on root@router: interface nosuch does not exist`), or one `remote: …`
 * problem when the router cannot be asked (it does not answer within the budget, refuses the key,
 * has no `tc`). Empty when both shapers are there.
 */
export async function remoteShaperProblems(
  settings: RemoteShaperCheckSettings,
  options: RemoteShaperCheckOptions = {},
): Promise<string[]> {
  const budgetMs = options.timeoutMs ?? REMOTE_RELOAD_CHECK_MS;
  const budget = AbortSignal.timeout(budgetMs);
  const stop = options.signal ? AbortSignal.any([budget, options.signal]) : budget;
  const ssh = options.runner ?? sshCommandRunner(settings, { sshPath: options.sshPath });
  let away = false;
  // Every ssh of the check ends with the budget; none starts after it.
  const runner: CommandRunner = async (binary, args) => {
    const r: CommandResult = stop.aborted
      ? { code: COMMAND_TIMED_OUT, stdout: "", stderr: "ssh: given up" }
      : await ssh(binary, args, { signal: stop });
    if (sshFailureKind(r) === "unreachable") away = true;
    return r;
  };
  const where = `${settings.remote} port ${settings.remote_port}`;
  const awayProblem = (why: string) =>
    `remote: ${why}: not restarting while the router is away (the restart needs it, the ` +
    `running daemon rides it out); send SIGHUP again once it answers`;
  const silent = `${where} gave no answer within ${budgetMs} ms`;
  try {
    await checkRouter(settings, runner);
  } catch (e) {
    if (stop.aborted) return [awayProblem(silent)];
    if (e instanceof ShaperCheckError && e.reason === "unreachable") {
      return [awayProblem(e.message)];
    }
    return [`remote: ${(e as Error).message}`];
  }
  const shapers = createShaperPair(settings, { runner, batch: false });
  const problems: string[] = [];
  for (const [name, shaper] of shapersBySetting(shapers)) {
    try {
      await shaper.check();
    } catch (e) {
      if (away || stop.aborted) {
        return [awayProblem(stop.aborted ? silent : `${where} stopped answering`)];
      }
      problems.push(`${name}: on ${settings.remote}: ${(e as Error).message}`);
    }
  }
  return problems;
}
