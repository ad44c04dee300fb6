import { assert, assertEquals } from "../util/assert.ts";
import { resolveSettings } from "../config/resolve.ts";
import { explainSshFailure, shellQuote, sshArgv, sshCommandRunner } from "./ssh.ts";
import {
  COUNTER_DIAL_ATTEMPTS,
  parseSysfsAnswer,
  parseTcAnswer,
  SYSFS_READER_SCRIPT,
  SysfsSshSource,
} from "./sysfs_counters.ts";
import { RouterLink } from "./router_link.ts";
import type { CommandRunner } from "../util/command.ts";
import type { Logger } from "../log/logger.ts";
import { ShaperCheckError } from "../apply/shaper.ts";
import { checkRemoteSetup, checkRouter, createRemoteAdapters } from "./mod.ts";

const REMOTE = {
  remote: "root@192.168.1.1",
  remote_port: 2222,
  remote_identity: "/etc/sqm-autorate/id_ed25519",
  remote_known_hosts: "/etc/sqm-autorate/known_hosts",
};

Deno.test("sshArgv: never asks, never accepts an unknown host key, keepalives, destination last", () => {
  const argv = sshArgv(REMOTE);
  assertEquals(argv[0], "ssh");
  assertEquals(argv.at(-1), "root@192.168.1.1");
  assertEquals(argv.at(-2), "--");
  const opts = argv.filter((_, i) => argv[i - 1] === "-o");
  for (
    const o of [
      "BatchMode=yes",
      "StrictHostKeyChecking=yes",
      "ServerAliveInterval=5",
      "UserKnownHostsFile=/etc/sqm-autorate/known_hosts",
      "IdentitiesOnly=yes",
    ]
  ) assert(opts.includes(o), `missing -o ${o} in ${argv.join(" ")}`);
  assertEquals(argv[argv.indexOf("-p") + 1], "2222");
  assertEquals(argv[argv.indexOf("-i") + 1], "/etc/sqm-autorate/id_ed25519");
  const plain = sshArgv({ ...REMOTE, remote_identity: "", remote_known_hosts: "" });
  assert(!plain.includes("-i") && !plain.some((a) => a.startsWith("UserKnownHostsFile")));
});

Deno.test("the counter session's ssh keeps dialling (ConnectionAttempts); a one-off ssh tries once", async () => {
  assert(!sshArgv(REMOTE).some((a) => a.startsWith("ConnectionAttempts")), "ssh … tc: once");
  const dir = await Deno.makeTempDir();
  const fakeSsh = `${dir}/ssh`;
  await Deno.writeTextFile(fakeSsh, `#!/bin/sh\necho "$@" > ${dir}/args\nexit 255\n`);
  await Deno.chmod(fakeSsh, 0o755);
  const source = new SysfsSshSource(REMOTE, { sshPath: fakeSsh, timeoutMs: 100 });
  try {
    assertEquals(await source.stats(["lo"]), null);
    const args = await Deno.readTextFile(`${dir}/args`);
    assert(args.includes(`ConnectionAttempts=${COUNTER_DIAL_ATTEMPTS} `), args);
    assert(args.includes("ConnectTimeout=10 "), args);
  } finally {
    await source.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shellQuote: every word reaches the remote shell unchanged", async () => {
  const words = ["plain", "with space", "it's", "$HOME", "a;b", "`x`", "*", ""];
  const script = `printf '%s\\n' ${words.map(shellQuote).join(" ")}`;
  const out = await new Deno.Command("sh", { args: ["-c", script] }).output();
  assertEquals(new TextDecoder().decode(out.stdout), words.map((w) => `${w}\n`).join(""));
});

Deno.test("sshCommandRunner: one quoted command line after the destination; ssh failures explained", async () => {
  const calls: string[][] = [];
  const local: CommandRunner = (binary, args) => {
    calls.push([binary, ...args]);
    return Promise.resolve({ code: 255, stdout: "", stderr: "Host key verification failed.\n" });
  };
  const run = sshCommandRunner(REMOTE, { local });
  const r = await run("tc", ["-j", "qdisc", "show", "dev", "eth 0"]);
  assertEquals(calls[0].at(-1), "tc -j qdisc show dev 'eth 0'");
  assertEquals(calls[0].at(-2), "root@192.168.1.1");
  assertEquals(r.code, 255);
  assert(/host key of root@192\.168\.1\.1 port 2222 is unknown/.test(r.stderr), r.stderr);
  assert(r.stderr.includes("remote_known_hosts"), r.stderr);
});

Deno.test("explainSshFailure: the remote command's own failure is left alone", () => {
  assertEquals(explainSshFailure({ code: 2, stdout: "", stderr: "RTNETLINK" }, REMOTE), undefined);
  const denied = explainSshFailure(
    { code: 255, stdout: "", stderr: "root@x: Permission denied (publickey)." },
    REMOTE,
  );
  assert(denied?.includes("remote_identity"), denied);
  // The user is named: a wrong one is refused the same way as a key not authorised.
  assert(denied?.includes("authorized keys for user root, or correct the user"), denied);
  const keyless = { ...REMOTE, remote_identity: "/etc/sqm-autorate/id_rsa" };
  const missing = explainSshFailure({
    code: 255,
    stdout: "",
    stderr: "Warning: Identity file /etc/sqm-autorate/id_rsa not accessible: No such file or " +
      "directory.\nroot@x: Permission denied (publickey).",
  }, keyless);
  assert(
    missing?.includes(
      "the key file /etc/sqm-autorate/id_rsa (setting remote_identity) is not used: ssh cannot read it",
    ),
    missing,
  );
  const open = explainSshFailure({
    code: 255,
    stdout: "",
    stderr: "@ WARNING: UNPROTECTED PRIVATE KEY FILE! @\nPermissions 0644 for " +
      "'/etc/sqm-autorate/id_rsa' are too open.\nroot@x: Permission denied (publickey).",
  }, keyless);
  assert(open?.includes("readable by other users, so ssh ignores it: chmod 600 it"), open);
  const down = explainSshFailure(
    { code: 255, stdout: "", stderr: "connect to host x port 22: Connection refused" },
    REMOTE,
  );
  assert(down?.startsWith("cannot reach root@192.168.1.1 port 2222"), down);
});

Deno.test("parseSysfsAnswer: interfaces in order, garbage refused", () => {
  assertEquals(
    parseSysfsAnswer("OK wan 2 100 200 ifb4wan 9 5 6"),
    new Map([["wan", { ifindex: 2, rx: 100, tx: 200 }], ["ifb4wan", { ifindex: 9, rx: 5, tx: 6 }]]),
  );
  assertEquals(parseSysfsAnswer("OK"), new Map());
  assertEquals(parseSysfsAnswer("OK wan 2 100"), null);
  assertEquals(parseSysfsAnswer("sh: read: not found"), null);
  assertEquals(parseSysfsAnswer("OK wan x 1 2"), null);
});

Deno.test("SysfsSshSource: the router-side loop reads /sys with the shell alone (run locally)", async () => {
  const source = new SysfsSshSource(REMOTE, { argv: ["sh", "-c", SYSFS_READER_SCRIPT] });
  try {
    const got = await source.stats(["lo", "sqma-absent0", "bad name"]);
    assert(got !== null);
    assertEquals([...got.keys()], ["lo"]);
    const lo = got.get("lo")!;
    assertEquals(lo.ifindex, 1); // lo is always the first interface of a namespace
    assert(lo.rx >= 0 && lo.tx >= 0);
    // The same session answers again (no process per reading).
    assert((await source.stats(["lo"]))?.has("lo"));
    assertEquals(source.restarts, 0);
  } finally {
    await source.close();
  }
});

Deno.test("SysfsSshSource: a tc line runs tc in the same session (plain words only), answers its code and message", async () => {
  const dir = await Deno.makeTempDir();
  // A stand-in tc on the router: records its words, fails on "nosuch" as tc would.
  await Deno.writeTextFile(
    `${dir}/tc`,
    `#!/bin/sh\necho "$@" >> ${dir}/tc.log\ncase "$*" in *nosuch*) ` +
      `echo 'Cannot find device "nosuch"' >&2; echo second line >&2; exit 1;; esac\n`,
  );
  await Deno.chmod(`${dir}/tc`, 0o755);
  await Deno.writeTextFile(`${dir}/glob-me`, "");
  const source = new SysfsSshSource(REMOTE, {
    argv: ["sh", "-c", `cd ${dir}; PATH=${dir}:$PATH; ${SYSFS_READER_SCRIPT}`],
  });
  try {
    assertEquals(
      await source.tc([["qdisc", "show"]], 1000),
      [undefined],
      "no answering session yet",
    );
    assert((await source.stats(["lo"]))?.has("lo"));
    const ok = ["qdisc", "change", "root", "dev", "ifb4wan", "cake", "bandwidth", "20000Kbit"];
    assertEquals(await source.tc([ok], 2000), [{ code: 0, stdout: "", stderr: "" }]);
    // Several in one write: each its own answer, in order; from a word not plain on, none sent.
    assertEquals(
      await source.tc([["class", "change", "dev", "nosuch"], ok, ["qdisc", "glob-*"], ok], 2000),
      [
        { code: 1, stdout: "", stderr: 'Cannot find device "nosuch" second line' },
        { code: 0, stdout: "", stderr: "" },
        undefined,
        undefined,
      ],
    );
    assertEquals(await source.tc([["a;reboot"]], 2000), [undefined], "not a plain word");
    // Readings go on in the same session.
    assert((await source.stats(["lo"]))?.has("lo"));
    assertEquals(source.restarts, 0);
    assertEquals((await Deno.readTextFile(`${dir}/tc.log`)).trim().split("\n"), [
      ok.join(" "),
      "class change dev nosuch",
      ok.join(" "),
    ]);
    assertEquals(parseTcAnswer("TC 2"), { code: 2, stdout: "", stderr: "" });
    assertEquals(parseTcAnswer("OK lo 1 2 3"), null);
  } finally {
    await source.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SysfsSshSource: an unreachable router gives no reading, and is not redialled every tick", async () => {
  const source = new SysfsSshSource(REMOTE, { argv: ["sh", "-c", "exit 255"] });
  try {
    for (let i = 0; i < 5; i++) assertEquals(await source.stats(["lo"]), null);
    // One immediate redial after the first failure, then the growing delay holds further ones.
    assertEquals(source.restarts, 1);
  } finally {
    await source.close();
  }
});

Deno.test("SysfsSshSource: a session dialled again does not hold a reading for its connection; the router link is lost meanwhile and back on its answer", async () => {
  const dir = await Deno.makeTempDir();
  // The first session answers one request and ends (a dropped connection); the next ones take
  // 1.5 s to connect.
  const script =
    `if [ -e ${dir}/dialled ]; then sleep 1.5; exec sh -c '${SYSFS_READER_SCRIPT}'; fi; ` +
    `touch ${dir}/dialled; read -r names; echo OK`;
  const link = new RouterLink();
  let back = 0;
  link.onBack(() => back++);
  const source = new SysfsSshSource(REMOTE, {
    argv: ["sh", "-c", script],
    timeoutMs: 100,
    connectTimeoutMs: 5000,
    link,
  });
  try {
    assert(await source.stats(["lo"]) !== null);
    assert(link.answers);
    assertEquals(await source.stats(["lo"]), null, "the session ended");
    assert(!link.answers, "the router is away for the shaper changes");
    const started = Date.now();
    assertEquals(await source.stats(["lo"]), null, "still connecting");
    assertEquals(await source.stats(["lo"]), null, "still connecting");
    assert(Date.now() - started < 1000, `the redial held the readings ${Date.now() - started} ms`);
    await new Promise((r) => setTimeout(r, 1700));
    const got = await source.stats(["lo"]);
    assert(got?.has("lo"), "a fresh reading once connected");
    assertEquals(source.restarts, 1);
    assert(link.answers);
    assertEquals(back, 1, "the shaper changes are made again at once");
  } finally {
    await source.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SysfsSshSource: a session that ended by itself starts the outage at once, while its redial still dials", async () => {
  const dir = await Deno.makeTempDir();
  // The first session answers once and exits (sshd gone); the redial keeps dialling (2 s).
  const script =
    `if [ -e ${dir}/dialled ]; then sleep 2; exec sh -c '${SYSFS_READER_SCRIPT}'; fi; ` +
    `touch ${dir}/dialled; read -r names; echo OK`;
  const link = new RouterLink();
  const warned: string[] = [];
  const none = () => {};
  const logger: Logger = {
    category: ["remote"],
    trace: none,
    debug: none,
    info: none,
    warn: (m) => void warned.push(m),
    warning: none,
    error: none,
    fatal: none,
  };
  const source = new SysfsSshSource(REMOTE, {
    argv: ["sh", "-c", script],
    timeoutMs: 100,
    link,
    logger,
  });
  try {
    assert(await source.stats(["lo"]) !== null);
    await new Promise((r) => setTimeout(r, 300)); // the first session has exited
    assertEquals(await source.stats(["lo"]), null, "dialling");
    assertEquals(source.restarts, 1, "redialled");
    assert(!link.answers, "the router is away for the shaper changes");
    assertEquals(warned.length, 1, "the outage logged");
  } finally {
    await source.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("remote setting: [user@]host only; nothing ssh could take as an option", () => {
  for (const ok of ["root@192.168.1.1", "router.lan", "admin@fe80::1"]) {
    assertEquals(resolveSettings({ flags: { remote: ok } }).settings.remote, ok);
  }
  for (const bad of ["-oProxyCommand=sh", "root@-x", "root@host name", "a@b@c"]) {
    let message = "";
    try {
      resolveSettings({ flags: { remote: bad } });
    } catch (e) {
      message = (e as Error).message;
    }
    assert(message.includes("remote (flag --remote)"), `${bad}: ${message}`);
  }
});

Deno.test("checkRouter: unreachable is retried, a host key or missing tc is fatal with advice", async () => {
  const answering = (code: number, stderr: string): CommandRunner => () =>
    Promise.resolve({ code, stdout: "", stderr });
  const reasonOf = async (runner: CommandRunner) => {
    try {
      await checkRouter(REMOTE, runner);
      return "ok";
    } catch (e) {
      assert(e instanceof ShaperCheckError, String(e));
      return `${e.reason}: ${e.message}`;
    }
  };
  assertEquals(await reasonOf(answering(0, "")), "ok");
  const down = await reasonOf(answering(255, "ssh: connect to host x port 22: No route to host"));
  assert(down.startsWith("unreachable: cannot reach"), down);
  const key = await reasonOf(answering(255, "Host key verification failed."));
  assert(key.startsWith("tc-failed: the host key") && key.includes("remote_known_hosts"), key);
  const noTc = await reasonOf(answering(127, "sh: tc: not found"));
  assert(noTc.startsWith("tc-failed: tc does not run on root@192.168.1.1"), noTc);
  assert(noTc.includes("tc-tiny"), noTc);
  // Killed at the runner's timeout (every frame dropped): retried, not "tc does not run".
  const silent = await reasonOf(answering(124, "/usr/bin/ssh: timed out after 10000 ms"));
  assert(silent.startsWith("unreachable: cannot reach root@192.168.1.1 port 2222"), silent);
  // Through sshCommandRunner (already explained): said once.
  const twice = await reasonOf(sshCommandRunner(REMOTE, {
    local: answering(255, "ssh: connect to host x port 22: No route to host"),
  }));
  assertEquals(twice.split("cannot reach").length, 2, twice);
  // Killed at its timeout through sshCommandRunner (a SIGHUP's check of a silent router): still
  // unreachable, not "tc does not run … install it there".
  const silentTwice = await reasonOf(sshCommandRunner(REMOTE, {
    local: answering(124, "/usr/bin/ssh: timed out after 10000 ms"),
  }));
  assert(silentTwice.startsWith("unreachable: cannot reach root@192.168.1.1"), silentTwice);
  assertEquals(silentTwice.split("cannot reach").length, 2, silentTwice);
});

Deno.test("remote adapters: the download's link kind is asked of the router's ip; BusyBox's gives none", async () => {
  const settings = {
    ...REMOTE,
    shaper: "cake" as const,
    dl_if: "ifb4wan",
    ul_if: "wan",
    htb_classid: "1:10",
    dl_counter: "auto" as const,
    ul_counter: "auto" as const,
  };
  const asked: string[] = [];
  const answer = (stdout: string, code = 0): CommandRunner => (cmd, args) => {
    asked.push([cmd, ...args].join(" "));
    return Promise.resolve({ code, stdout, stderr: code === 0 ? "" : "ip: invalid option -- 'j'" });
  };
  const ifb = createRemoteAdapters(settings, {
    runner: answer('[{"ifname":"ifb4wan","linkinfo":{"info_kind":"ifb"}}]'),
  });
  assertEquals(await ifb.linkKind("ifb4wan"), "ifb");
  assertEquals(asked, ["ip -d -j link show dev ifb4wan"]);
  const busybox = createRemoteAdapters(settings, { runner: answer("", 1) });
  assertEquals(await busybox.linkKind("ifb4wan"), undefined, "the name decides then");
  await ifb.shapers.close?.();
  await busybox.shapers.close?.();
});

Deno.test("checkRemoteSetup: a login the router's tc may not change qdiscs for is a problem", async () => {
  const settings = {
    ...REMOTE,
    remote: "bob@192.168.1.1",
    shaper: "tbf" as const,
    dl_if: "ifb4wan",
    ul_if: "wan",
    htb_classid: "1:1",
    dl_counter: "auto" as const,
    ul_counter: "auto" as const,
  };
  const eperm = "RTNETLINK answers: Operation not permitted";
  const runner: CommandRunner = (_cmd, args) => {
    const qdisc = `[{"kind":"tbf","handle":"1:","root":true,"options":{}}]`;
    if (args[0] === "-V") return Promise.resolve({ code: 0, stdout: "tc", stderr: "" });
    if (args[0] === "-j") return Promise.resolve({ code: 0, stdout: qdisc, stderr: "" });
    // tc shows qdiscs to anyone: only a change says whether this login may make one.
    return Promise.resolve({ code: 2, stdout: "", stderr: eperm });
  };
  const problems = await checkRemoteSetup(settings, {
    runner,
    spawnCounters: () => {
      throw new Error("no ssh in this test");
    },
  });
  assertEquals(
    problems[0],
    `remote bob@192.168.1.1: tc may not change the shaper on ifb4wan and wan (${eperm}): run ` +
      "sqm-autorate as root or with CAP_NET_ADMIN where tc runs (docs/install.md, " +
      '"What the binary needs on the machine")',
  );
});
