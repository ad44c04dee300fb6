/**
 * A throw-away "router" as stock OpenWrt has it, for tests of remote mode (docs/remote.md,
 * "Against dropbear and BusyBox (thirty-first session)"): dropbear as the SSH server, BusyBox as
 * the login shell and every command but iproute2's `tc` (OpenWrt's tc-tiny/tc-full; its `ip` is
 * BusyBox's). The userland is a directory bind-mounted over /usr/bin and /usr/sbin (and
 * /usr/local) in a private mount namespace that only dropbear and its sessions see; /bin and /sbin
 * are links into /usr on a merged-/usr system, so the PATH dropbear gives root finds BusyBox's
 * applets and the real tc.
 */
import { must } from "./netns_testing.ts";

function firstFile(paths: readonly string[]): string | undefined {
  return paths.find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });
}

/** The dropbear server binary, if installed (Debian: dropbear-bin). */
export const dropbearPath: string | undefined = firstFile(["/usr/sbin/dropbear", "/sbin/dropbear"]);

/** dropbearkey (host keys in dropbear's format), if installed. */
const dropbearkeyPath = firstFile(["/usr/bin/dropbearkey", "/usr/sbin/dropbearkey"]);

/** The BusyBox binary, if installed. */
const busyboxPath = firstFile(["/usr/bin/busybox", "/bin/busybox"]);

/** iproute2's tc. */
const tcPath = firstFile(["/usr/sbin/tc", "/sbin/tc", "/usr/bin/tc"]);

/** Why a dropbear router cannot be built here, or undefined. */
export function dropbearSkipReason(): string | undefined {
  if (dropbearPath === undefined || dropbearkeyPath === undefined) {
    return "dropbear (dropbear-bin) not installed";
  }
  if (busyboxPath === undefined) return "busybox not installed";
  if (tcPath === undefined) return "tc not installed";
  return undefined;
}

/** A built router userland: where a test finds its keys and how dropbear is started. */
export interface DropbearRouter {
  /** root's authorized keys (root's home is `DIR/root`, its shell BusyBox's ash). */
  authorizedKeys: string;
  /** dropbear's host key (dropbear's format): a test replaces it to change the host key. */
  hostKey: string;
  /** The host key's public half as a known_hosts key (`ssh-ed25519 AAAA…`). */
  hostPublicKey: string;
  /** dropbear's log (`-E`: a line `Pubkey auth succeeded …` per login). */
  log: string;
  /** argv that runs dropbear in the foreground inside namespace `ns`, listening on `listen`. */
  argv(ns: string, listen: string): string[];
}

/** The public half of a dropbear host key, as `ssh-ed25519 AAAA…`. */
export async function dropbearPublicKey(hostKey: string): Promise<string> {
  const out = await must(dropbearkeyPath!, ["-y", "-f", hostKey]);
  const line = out.split("\n").find((l) => l.startsWith("ssh-"));
  if (line === undefined) throw new Error(`dropbearkey -y: no public key in ${out}`);
  return line.split(" ").slice(0, 2).join(" ");
}

/** A fresh dropbear host key at `path` (ed25519, as OpenWrt's). */
export async function newDropbearHostKey(path: string): Promise<void> {
  await Deno.remove(path).catch(() => {});
  await must(dropbearkeyPath!, ["-t", "ed25519", "-f", path]);
}

/** Builds the router's userland, keys and start script in `dir` (a fresh temporary directory). */
export async function buildDropbearRouter(dir: string): Promise<DropbearRouter> {
  const bin = `${dir}/usrbin`, sbin = `${dir}/usrsbin`, home = `${dir}/root`;
  for (const d of [bin, sbin, `${dir}/empty`, `${home}/.ssh`]) {
    await Deno.mkdir(d, { recursive: true });
  }
  // dropbear refuses authorized_keys under a home or .ssh others may write to.
  await Deno.chmod(home, 0o700);
  await Deno.chmod(`${home}/.ssh`, 0o700);
  // Copies: the originals are hidden by the mounts; applets are links to the copy.
  await Deno.copyFile(busyboxPath!, `${bin}/busybox`);
  await Deno.chmod(`${bin}/busybox`, 0o755);
  for (const applet of (await must(busyboxPath!, ["--list"])).split("\n")) {
    if (applet !== "" && applet !== "busybox") await Deno.symlink("busybox", `${bin}/${applet}`);
  }
  await Deno.copyFile(tcPath!, `${sbin}/tc`);
  await Deno.chmod(`${sbin}/tc`, 0o755);
  await Deno.copyFile(dropbearPath!, `${dir}/dropbear`);
  await Deno.chmod(`${dir}/dropbear`, 0o755);
  const passwd = (await Deno.readTextFile("/etc/passwd")).split("\n")
    .filter((l) => l !== "" && !l.startsWith("root:"));
  await Deno.writeTextFile(
    `${dir}/passwd`,
    [`root:x:0:0:root:${home}:/bin/ash`, ...passwd].join("\n") + "\n",
  );
  await Deno.writeTextFile(`${dir}/shells`, "/bin/ash\n/bin/sh\n");
  const authorizedKeys = `${home}/.ssh/authorized_keys`;
  await Deno.writeTextFile(authorizedKeys, "");
  await Deno.chmod(authorizedKeys, 0o600);
  const hostKey = `${dir}/dropbear_ed25519_host_key`;
  await newDropbearHostKey(hostKey);
  const log = `${dir}/dropbear.log`;
  // /usr/bin last: mount itself is there until then.
  const mounts = [
    [`${dir}/passwd`, "/etc/passwd"],
    [`${dir}/shells`, "/etc/shells"],
    [`${dir}/empty`, "/usr/local"],
    [sbin, "/usr/sbin"],
    [bin, "/usr/bin"],
  ].map(([from, to]) => `mount --bind ${from} ${to}`).join(" && ");
  return {
    authorizedKeys,
    hostKey,
    hostPublicKey: await dropbearPublicKey(hostKey),
    log,
    argv: (ns, listen) => [
      ...["ip", "netns", "exec", ns, "unshare", "-m", "--propagation", "private"],
      ...[
        "sh",
        "-c",
        `${mounts} && exec ${dir}/dropbear -F -E -p ${listen}:22 -r ${hostKey} ` +
        `-P ${dir}/dropbear.pid 2>>${log}`,
      ],
    ],
  };
}
