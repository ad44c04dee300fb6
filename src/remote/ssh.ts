/**
 * The SSH side of remote mode (docs/remote.md): the OpenSSH client command line for the router
 * named by the `remote*` settings, and a command runner that runs a tool on the router. The
 * client never asks questions (`BatchMode`), never accepts an unknown host key, and notices a
 * dead link through keepalives.
 */
import {
  COMMAND_NOT_RUNNABLE,
  COMMAND_TIMED_OUT,
  type CommandResult,
  type CommandRunner,
  denoCommandRunner,
} from "../util/command.ts";

/** The settings remote mode is built from. */
export interface RemoteSettings {
  /** `[user@]host`; empty = not remote. */
  remote: string;
  /** SSH port. */
  remote_port: number;
  /** Private key file; empty = ssh's defaults. */
  remote_identity: string;
  /** known_hosts file with the router's key; empty = ssh's default. */
  remote_known_hosts: string;
}

/** Options of `sshArgv`. */
export interface SshArgvOptions {
  /** ssh binary (default `ssh` from PATH). */
  sshPath?: string;
  /** Seconds between keepalives (default 5); 3 missed ones end the session. */
  keepaliveS?: number;
  /** Connect timeout (s, default 10). */
  connectTimeoutS?: number;
  /**
   * TCP connection attempts of one ssh, 1 s apart, each up to `connectTimeoutS` (default: ssh's
   * own, 1): a dialling ssh that keeps trying sees a router come back within seconds.
   */
  connectionAttempts?: number;
}

/** True when the settings ask for remote mode. */
export function isRemote(settings: { remote: string }): boolean {
  return settings.remote !== "";
}

/**
 * The ssh command line up to and including the destination; the remote command follows it.
 * `-T`: no terminal (a batch tool reads stdin); `-e none`: stdin bytes are never escapes.
 */
export function sshArgv(settings: RemoteSettings, options: SshArgvOptions = {}): string[] {
  const o = (k: string, v: string | number) => ["-o", `${k}=${v}`];
  return [
    options.sshPath ?? "ssh",
    "-T",
    "-e",
    "none",
    "-p",
    String(settings.remote_port),
    ...(settings.remote_identity !== ""
      ? ["-i", settings.remote_identity, ...o("IdentitiesOnly", "yes")]
      : []),
    ...(settings.remote_known_hosts !== ""
      ? o("UserKnownHostsFile", settings.remote_known_hosts)
      : []),
    ...o("BatchMode", "yes"),
    ...o("StrictHostKeyChecking", "yes"),
    ...o("ConnectTimeout", options.connectTimeoutS ?? 10),
    ...(options.connectionAttempts !== undefined
      ? o("ConnectionAttempts", options.connectionAttempts)
      : []),
    ...o("ServerAliveInterval", options.keepaliveS ?? 5),
    ...o("ServerAliveCountMax", 3),
    ...o("LogLevel", "ERROR"),
    "--",
    settings.remote,
  ];
}

/**
 * Quotes one word for the remote POSIX shell (sshd joins the command words and hands them to
 * the login shell): plain words stay as they are, anything else is single-quoted.
 */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Exit code ssh uses for its own failures (connection, authentication, host key). */
export const SSH_FAILED = 255;

/** The stderr of an ssh the local runner killed at its timeout, as it is or as explained. */
const UNREACHABLE_SAID = /^(\S*ssh: |cannot reach \S+ port \d+ over ssh: )/;

/** What went wrong with ssh itself. */
export type SshFailureKind = "no-ssh" | "host-key" | "refused-key" | "unreachable";

/**
 * Classifies a failed ssh run, or undefined when the failure was the remote command's own. An
 * ssh the local runner killed at its timeout (a router that drops every frame answers nothing
 * before ssh's own `ConnectTimeout` ends it) is `unreachable` too.
 */
export function sshFailureKind(result: CommandResult): SshFailureKind | undefined {
  // Killed at the timeout: the local runner's words, or sshCommandRunner's explanation of them
  // (a check through it took a silent router for one without tc: "install it there").
  if (result.code === COMMAND_TIMED_OUT && UNREACHABLE_SAID.test(result.stderr)) {
    return "unreachable";
  }
  // 127 is also what the router's shell answers for a missing tool; the local runner's own
  // message starts with the ssh program's name.
  if (result.code === COMMAND_NOT_RUNNABLE && /^\S*ssh: /.test(result.stderr)) return "no-ssh";
  if (result.code !== SSH_FAILED) return undefined;
  if (/host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(result.stderr)) {
    return "host-key";
  }
  if (/permission denied/i.test(result.stderr)) return "refused-key";
  return "unreachable";
}

/**
 * A login refused: a key file ssh could not use (missing, readable by others), or the key or the
 * user the router does not accept (docs/remote.md, "Start-up and faults"). Always starts with
 * `WHERE refused the key` (how an explained failure is recognised again).
 */
function refusedKeyText(where: string, settings: RemoteSettings, err: string): string {
  const file = settings.remote_identity;
  const unusable = /UNPROTECTED PRIVATE KEY FILE|bad permissions/i.test(err)
    ? "it is readable by other users, so ssh ignores it: chmod 600 it"
    : /not accessible|no such file/i.test(err)
    ? "ssh cannot read it: give the path of the private key made for the router"
    : undefined;
  if (file !== "" && unusable !== undefined) {
    return `${where} refused the key: the key file ${file} (setting remote_identity) is not ` +
      `used: ${unusable} (ssh: ${err})`;
  }
  const at = settings.remote.lastIndexOf("@");
  const user = at >= 0 ? `user ${settings.remote.slice(0, at)}` : "the user ssh logs in as";
  return `${where} refused the key (setting remote_identity): put its public key in the ` +
    `router's authorized keys for ${user}, or correct the user in setting remote (OpenWrt's is ` +
    `root) (ssh: ${err})`;
}

/**
 * Explains an ssh failure in a router owner's terms, naming the setting to fix, or undefined
 * when the failure was the remote command's own. ssh exits 255 for its own errors.
 */
export function explainSshFailure(
  result: CommandResult,
  settings: RemoteSettings,
): string | undefined {
  const kind = sshFailureKind(result);
  if (kind === undefined) return undefined;
  const err = result.stderr.trim();
  const where = `${settings.remote} port ${settings.remote_port}`;
  // Already explained (by sshCommandRunner): as it is.
  const explained = [
    "cannot run ssh (",
    `the host key of ${where} `,
    `${where} refused the key`,
    `cannot reach ${where} over ssh: `,
  ];
  if (explained.some((p) => err.startsWith(p))) return err;
  switch (kind) {
    case "no-ssh":
      return `cannot run ssh (${err}): install the OpenSSH client`;
    case "host-key":
      return `the host key of ${where} is unknown or has changed: add the router's key to ` +
        `${settings.remote_known_hosts || "~/.ssh/known_hosts"} (setting remote_known_hosts) ` +
        `(ssh: ${err})`;
    case "refused-key":
      return refusedKeyText(where, settings, err);
    case "unreachable":
      return `cannot reach ${where} over ssh: ${err || "ssh failed"}`;
  }
}

/** Options of `sshCommandRunner`. */
export interface SshRunnerOptions extends SshArgvOptions {
  /** Kill a command that runs longer (default 10 s: includes connecting). */
  timeoutMs?: number;
  /** The local runner that starts ssh (tests). */
  local?: CommandRunner;
}

/**
 * A command runner that runs each command on the router: `ssh … host -- tool args…`. Used for
 * start-up checks and as the fallback while a long-lived session is down; never per tick. When
 * ssh itself fails, stderr carries `explainSshFailure`'s explanation.
 */
export function sshCommandRunner(
  settings: RemoteSettings,
  options: SshRunnerOptions = {},
): CommandRunner {
  const [ssh, ...args] = sshArgv(settings, options);
  const local = options.local ?? denoCommandRunner({ timeoutMs: options.timeoutMs ?? 10_000 });
  return async (binary, toolArgs, run) => {
    const r = await local(ssh, [...args, [binary, ...toolArgs].map(shellQuote).join(" ")], run);
    const why = explainSshFailure(r, settings);
    return why === undefined ? r : { ...r, stderr: why };
  };
}
