/**
 * A throw-away OpenSSH server for tests of remote mode (docs/remote.md): where sshd is, and the
 * configuration both the netns tests (src/daemon/ssh_netns_fixture.ts) and the e2e testbed
 * (tests/e2e/ssh_router.ts) give it.
 */

/** The sshd binary, if installed. */
export const sshdPath: string | undefined = ["/usr/sbin/sshd", "/usr/bin/sshd"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

/**
 * The sshd configuration for keys in `dir` (`hostkey`, `authorized_keys`): listening on
 * `listen`:`port`, root by key only, no PAM (nothing of the host's login setup), its PID file in
 * `dir`.
 */
export function sshdConfig(dir: string, o: { listen: string; port: number }): string {
  return [
    `Port ${o.port}`,
    `ListenAddress ${o.listen}`,
    `HostKey ${dir}/hostkey`,
    `AuthorizedKeysFile ${dir}/authorized_keys`,
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "StrictModes no",
    `PidFile ${dir}/sshd.pid`,
  ].join("\n") + "\n";
}

/** The public key in the `.pub` file text `pub` as a known_hosts entry for `host`. */
export function knownHostsLine(host: string, pub: string): string {
  return `${host} ${pub.split(" ").slice(0, 2).join(" ")}\n`;
}
