import { assert, assertEquals, assertThrows } from "../util/assert.ts";
import { type CommandSpec, parseArgs, type ParseResult, UsageError } from "./args.ts";
import { helpText } from "./help_text.ts";
import { programSpec, runCli } from "./mod.ts";
import { captureIo } from "./testing.ts";
import { ExitCode } from "../util/exit_codes.ts";

const probe: CommandSpec = {
  name: "probe",
  description: "probe things",
  arguments: [{ name: "ip", variadic: true, help: "addresses" }],
  options: [
    { long: "count", short: "c", value: "n", default: "5", help: "probes" },
    { long: "pinger", value: "tool", default: "auto", choices: ["auto", "fping"], help: "tool" },
    { long: "script", value: "path", repeatable: true, help: "scripts" },
    { long: "quiet", value: "bool", optionalValue: true, aliases: ["q"], help: "less output" },
    { long: "json", help: "JSON" },
  ],
  run: () => 0,
};
const plot: CommandSpec = {
  name: "plot",
  description: "plot a file",
  arguments: [{ name: "stats", required: true, help: "the file" }],
  options: [{ long: "out", value: "file", required: true, help: "where" }],
  run: () => 0,
};
const root: CommandSpec = {
  name: "prog",
  description: "a program",
  version: "prog 1.2.3",
  defaultSubcommand: "probe",
  subcommands: [probe, plot, { name: "tools", description: "more", subcommands: [probe] }],
};

function run(argv: string[]) {
  const r: ParseResult = parseArgs(root, argv);
  assert(r.kind === "run", `not a run: ${r.kind}`);
  return r;
}

function usageError(argv: string[]): string {
  return assertThrows(() => parseArgs(root, argv), UsageError).message;
}

Deno.test("args: `--flag value`, `--flag=value`, `-c value` and `-c5` give the same value", () => {
  for (const argv of [["--count", "7"], ["--count=7"], ["-c", "7"], ["-c7"]]) {
    assertEquals(run(["probe", ...argv]).args.string("count"), "7", argv.join(" "));
  }
  // A required value is the next word whatever it looks like; `=` may carry an empty value.
  assertEquals(run(["probe", "--count", "-1"]).args.string("count"), "-1");
  assertEquals(run(["probe", "--count="]).args.string("count"), "");
});

Deno.test("args: defaults apply only when not given; given() tells which", () => {
  const r = run(["probe"]);
  assertEquals(r.args.string("count"), "5");
  assertEquals(r.args.given("count"), false);
  assertEquals(r.args.raw("count"), undefined);
  assertEquals(r.args.flag("json"), false);
  assertEquals(run(["probe", "--json"]).args.flag("json"), true);
});

Deno.test("args: a repeatable option collects every value, any other keeps the last", () => {
  const r = run(["probe", "--script", "a.lua", "--count", "1", "--script=b.lua", "--count", "2"]);
  assertEquals(r.args.raw("script"), ["a.lua", "b.lua"]);
  assertEquals(r.args.string("count"), "2");
});

Deno.test("args: an optional value is taken unless the next word is an option", () => {
  assertEquals(run(["probe", "--quiet"]).args.raw("quiet"), true);
  assertEquals(run(["probe", "--quiet", "0"]).args.raw("quiet"), "0");
  assertEquals(run(["probe", "--quiet=no"]).args.raw("quiet"), "no");
  const r = run(["probe", "--q", "--json"]);
  assertEquals([r.args.raw("quiet"), r.args.flag("json")], [true, true]);
});

Deno.test("args: options and arguments mix; `--` ends the options", () => {
  const r = run(["probe", "1.1.1.1", "--json", "9.9.9.9", "--", "--count", "-c"]);
  assertEquals(r.args.positionals, ["1.1.1.1", "9.9.9.9", "--count", "-c"]);
  assertEquals(r.args.given("count"), false);
});

Deno.test("args: the default subcommand takes words that name no command", () => {
  const r = run(["--count", "3", "8.8.8.8"]);
  assertEquals(r.path, ["prog", "probe"]);
  assertEquals(r.args.positionals, ["8.8.8.8"]);
  assertEquals(run(["tools", "probe", "-c", "2"]).path, ["prog", "tools", "probe"]);
});

Deno.test("args: mistakes name the option or argument", () => {
  assertEquals(
    usageError(["probe", "--cuont", "3"]),
    "unknown option '--cuont' (did you mean '--count'?)",
  );
  assertEquals(usageError(["probe", "--nothing-like-it"]), "unknown option '--nothing-like-it'");
  assertEquals(usageError(["probe", "-x"]), "unknown option '-x'");
  assertEquals(usageError(["probe", "--count"]), "option '--count <n>' needs a value");
  assertEquals(
    usageError(["probe", "--json=yes"]),
    "option '--json' takes no value (got '--json=yes')",
  );
  assertEquals(
    usageError(["probe", "--pinger", "ping"]),
    "option '--pinger <tool>': 'ping' is not allowed; choose one of auto, fping",
  );
  assertEquals(usageError(["plot", "--out", "x.svg"]), "argument <stats> is missing");
  assertEquals(usageError(["plot", "s.csv"]), "option '--out <file>' is required");
  assertEquals(
    usageError(["plot", "s.csv", "t.csv", "--out", "x"]),
    "unexpected argument 't.csv' (plot takes at most 1)",
  );
  assertEquals(usageError(["plto"]), "unknown command 'plto' (did you mean 'plot'?)");
  assertEquals(usageError(["tools"]), "a command is missing");
  assertEquals(usageError(["help", "nope"]), "no help for unknown command 'nope'");
  const e = assertThrows(() => parseArgs(root, ["tools", "probe", "--bad"]), UsageError);
  assertEquals(e.commandPath, "prog tools probe");
});

Deno.test("args: --help and --version win, even after a mistake; `help CMD` is `CMD --help`", () => {
  const kinds = (argv: string[]) => {
    const r = parseArgs(root, argv);
    return r.kind === "help" ? `help ${r.path.join(" ")}` : r.kind;
  };
  assertEquals(kinds(["--help"]), "help prog");
  assertEquals(kinds(["-h"]), "help prog");
  assertEquals(kinds(["plot", "--bogus", "-h"]), "help prog plot");
  assertEquals(kinds(["help", "tools", "probe"]), "help prog tools probe");
  assertEquals(kinds(["tools", "help", "probe"]), "help prog tools probe");
  assertEquals(kinds(["help", "--help"]), "help prog");
  assertEquals(kinds(["help", "help"]), "help prog");
  assertEquals(kinds(["help", "plot", "-h"]), "help prog plot");
  assertEquals(
    usageError(["help", "plto"]),
    "no help for unknown command 'plto' (did you mean 'plot'?)",
  );
  assertEquals(kinds(["probe", "--", "--help"]), "run");
  assertEquals(parseArgs(root, ["-V"]), { kind: "version", version: "prog 1.2.3" });
  assertEquals(kinds(["--version"]), "version");
});

Deno.test("args: help lists the usage, arguments, each option with its value, default and choices", () => {
  const text = helpText(probe, ["prog", "probe"]);
  const lines = text.split("\n");
  assertEquals(lines[0], "Usage: prog probe [options] [ip...]");
  assert(lines.includes("  ip                   addresses"), text);
  assert(lines.includes("  -c, --count <n>      probes (default 5)"), text);
  assert(lines.includes("  --pinger <tool>      tool (one of auto, fping; default auto)"), text);
  assert(lines.includes("  --quiet, --q [bool]  less output"), text);
  assert(lines.includes("  --script <path>      scripts (repeatable)"), text);
  assert(lines.includes("  -h, --help           print this help and exit"), text);
  assert(lines.every((l) => l.length <= 80), "wrapped at 80");
  // A required argument says so in its row, as a required option does.
  const plotLines = helpText(plot, ["prog", "plot"]).split("\n");
  assertEquals(plotLines[0], "Usage: prog plot [options] <stats>");
  assert(plotLines.includes("  stats         the file (required)"), plotLines.join("\n"));
  assert(plotLines.includes("  --out <file>  where (required)"), plotLines.join("\n"));
  const rootHelp = helpText(root, ["prog"]);
  assert(rootHelp.includes("  probe (default)  probe things"), rootHelp);
  assert(rootHelp.includes("-V, --version"), rootHelp);
});

Deno.test("cli: --help of every command and subcommand exits 0 and lists all its options", async () => {
  const walk = (spec: CommandSpec, path: string[]): [CommandSpec, string[]][] => [
    [spec, path],
    ...(spec.subcommands ?? []).flatMap((c) => walk(c, [...path, c.name])),
  ];
  const commands = walk(programSpec(captureIo()), []);
  assert(commands.length >= 8, `${commands.length} commands`);
  for (const [spec, path] of commands) {
    const io = captureIo();
    assertEquals(await runCli([...path, "--help"], io), ExitCode.OK, path.join(" "));
    assert(io.stdout.startsWith(`Usage: sqm-autorate ${path.join(" ")}`.trimEnd()), io.stdout);
    for (const o of spec.options ?? []) {
      assert(io.stdout.includes(`--${o.long}`), `${path.join(" ")}: --${o.long} missing`);
    }
    for (const c of spec.subcommands ?? []) assert(io.stdout.includes(`  ${c.name}`), c.name);
  }
});

Deno.test("cli: a usage mistake exits 64 with the message and a pointer to --help on stderr", async () => {
  for (
    const [argv, text] of [
      [["reflectors", "probe", "--count"], "option '--count <n>' needs a value"],
      [["check-config", "--upload-interfac", "wan"], "did you mean '--upload-interface'?"],
      [["bogus"], "unknown command 'bogus'"],
      // Upstream's `service sqm-autorate status` typed at the program: where to ask instead.
      [
        ["status"],
        "unknown command 'status': the daemon runs as a service: " +
        "`/etc/init.d/sqm-autorate status` (OpenWrt, as upstream's `service sqm-autorate status`) " +
        "or `systemctl status sqm-autorate` (while it runs, its log has a summary line every 5 " +
        "minutes",
      ],
      [["restart"], "`systemctl restart sqm-autorate`"],
      // The Rust port's `sqm-autorate-rust FILE.toml`: its settings go into the UCI file.
      [
        ["/etc/sqm-autorate-rust/config.toml"],
        "unknown command '/etc/sqm-autorate-rust/config.toml': a TOML file is the Rust port's " +
        "configuration, which is not read here; write its [network], [output] and " +
        "[advanced_settings] keys as options of `config network`",
      ],
      [["show-settings", "extra"], "unexpected argument 'extra'"],
    ] as const
  ) {
    const io = captureIo();
    assertEquals(await runCli(argv, io), ExitCode.USAGE, argv.join(" "));
    assert(io.stderr.includes(text), io.stderr);
    assert(io.stderr.includes("--help' for usage"), io.stderr);
    assertEquals(io.stdout, "");
  }
});
