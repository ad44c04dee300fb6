/**
 * The command-line parser: each command declares its options and positional arguments in one
 * table ({@link CommandSpec}); parsing, `--help` and the usage errors are derived from it
 * (docs/footprint.md says why there is no library: the npm ones load Deno's Node layer).
 *
 * Rules (those of the common GNU style): `--name value` and `--name=value`, `-c value` and `-c5`;
 * a required value is the next word whatever it looks like (`--min -1`); an optional value
 * (`--flag [bool]`) is taken only when the next word does not start with `-`; a repeatable option
 * collects every value, any other keeps the last; options and positional arguments mix in any
 * order; `--` ends the options. `-h`/`--help` anywhere before `--` asks for help, even after a
 * mistake.
 */
import { closestMatch } from "../util/suggest.ts";

/** One option of a command. */
export interface OptionSpec {
  /** Long name without dashes (`count` for `--count`); the key of the parsed value. */
  readonly long: string;
  /** One-letter short name without the dash (`c` for `-c`). */
  readonly short?: string;
  /** Further long names without dashes (upstream's `ul` for `--upload-interface`). */
  readonly aliases?: readonly string[];
  /** Placeholder of the value in help (`n` shows `<n>`); absent: a switch without a value. */
  readonly value?: string;
  /** The value may be left out (then it is `true`); shown as `[value]`. */
  readonly optionalValue?: boolean;
  /** Every occurrence adds a value (a list) instead of replacing the previous one. */
  readonly repeatable?: boolean;
  /** Value when the option is not given (shown in help). */
  readonly default?: string;
  /** The only values accepted. */
  readonly choices?: readonly string[];
  /** The option must be given. */
  readonly required?: boolean;
  /** One-line help. */
  readonly help: string;
}

/** One positional argument of a command. */
export interface ArgumentSpec {
  /** Name shown in help and errors. */
  readonly name: string;
  /** One-line help. */
  readonly help: string;
  /** Must be given. */
  readonly required?: boolean;
  /** Takes every remaining positional word (only the last argument). */
  readonly variadic?: boolean;
}

/** A command: its table of options and arguments, its subcommands or what it runs. */
export interface CommandSpec {
  /** Name as typed (`probe`); the program's own name for the root. */
  readonly name: string;
  /** One line for the command list, the first paragraph of its help. */
  readonly description: string;
  /** The option table. */
  readonly options?: readonly OptionSpec[];
  /** Positional arguments, in order. */
  readonly arguments?: readonly ArgumentSpec[];
  /** Subcommands (a command has these or `run`). */
  readonly subcommands?: readonly CommandSpec[];
  /** The subcommand that runs when the first word names none (the root's `run`). */
  readonly defaultSubcommand?: string;
  /** Prints `VERSION` for `-V`/`--version` (the root). */
  readonly version?: string;
  /** Text after the generated help (the settings' list). */
  readonly helpAfter?: () => string;
  /** Advice for an unknown subcommand that means something elsewhere (else a "did you mean"). */
  readonly unknownCommandHint?: (word: string) => string | undefined;
  /** Runs the command with what was parsed; returns the exit code. */
  readonly run?: (args: ParsedArgs) => number | Promise<number>;
}

/** A value as parsed: a string, `true` for a switch or a value left out, a list if repeatable. */
export type OptionValue = string | true | string[];

/** What a command was given. */
export class ParsedArgs {
  /** The command (innermost subcommand) the words were parsed for. */
  readonly command: CommandSpec;
  /** Words that were no option, in order. */
  readonly positionals: readonly string[];
  readonly #given: ReadonlyMap<string, OptionValue>;

  /** Wraps the values the user gave (by long name). */
  constructor(
    command: CommandSpec,
    given: ReadonlyMap<string, OptionValue>,
    positionals: readonly string[],
  ) {
    this.command = command;
    this.#given = given;
    this.positionals = positionals;
  }

  /** Whether the user gave option `long`. */
  given(long: string): boolean {
    return this.#given.has(long);
  }

  /** What the user gave for `long`, without defaults. */
  raw(long: string): OptionValue | undefined {
    return this.#given.get(long);
  }

  /** The value of a single-valued option, else its default. */
  string(long: string): string | undefined {
    const v = this.#given.get(long);
    if (typeof v === "string") return v;
    if (Array.isArray(v)) return v.at(-1);
    return specOf(this.command, long).default;
  }

  /** Whether a switch was given. */
  flag(long: string): boolean {
    specOf(this.command, long);
    return this.#given.has(long);
  }
}

function specOf(command: CommandSpec, long: string): OptionSpec {
  const spec = command.options?.find((o) => o.long === long);
  if (spec === undefined) throw new Error(`${command.name} has no option --${long}`);
  return spec;
}

/** A mistake on the command line; the CLI prints it with a pointer to `--help` and exits 64. */
export class UsageError extends Error {
  /** The command path it concerns (`sqm-autorate reflectors probe`). */
  readonly commandPath: string;
  /** Builds the error. */
  constructor(commandPath: string, message: string) {
    super(message);
    this.name = "UsageError";
    this.commandPath = commandPath;
  }
}

/** The outcome of parsing: run a command, or print help or the version. */
export type ParseResult =
  | { kind: "run"; command: CommandSpec; path: readonly string[]; args: ParsedArgs }
  | { kind: "help"; command: CommandSpec; path: readonly string[] }
  | { kind: "version"; version: string };

const HELP = new Set(["-h", "--help"]);
const VERSION = new Set(["-V", "--version"]);

/** Shows how an option is written in messages: `--count <n>`. */
export function optionLabel(spec: OptionSpec): string {
  const value = spec.value === undefined
    ? ""
    : spec.optionalValue
    ? ` [${spec.value}]`
    : ` <${spec.value}>`;
  return `--${spec.long}${value}`;
}

/**
 * Parses `argv` (without the program name) against `root`: picks the subcommand, then reads its
 * options and arguments. Throws {@link UsageError} for a mistake.
 */
export function parseArgs(root: CommandSpec, argv: readonly string[]): ParseResult {
  let command = root;
  const path = [root.name];
  let words = [...argv];
  while (command.subcommands !== undefined) {
    const [first, ...rest] = words;
    if (first !== undefined && HELP.has(first)) return { kind: "help", command, path };
    if (first !== undefined && VERSION.has(first) && command.version !== undefined) {
      return { kind: "version", version: command.version };
    }
    if (first === "help") return helpFor(command, path, rest);
    const next = command.subcommands.find((c) => c.name === first);
    if (next !== undefined) {
      words = rest;
    } else if (command.defaultSubcommand !== undefined) {
      if (first !== undefined && !first.startsWith("-")) {
        throw new UsageError(path.join(" "), unknownCommand(command, first));
      }
    } else {
      if (first === undefined) throw new UsageError(path.join(" "), "a command is missing");
      throw new UsageError(path.join(" "), unknownCommand(command, first));
    }
    command = next ?? command.subcommands.find((c) => c.name === command.defaultSubcommand)!;
    path.push(command.name);
  }
  const parsed = parseWords(command, path, words);
  if (parsed === "help") return { kind: "help", command, path };
  if (parsed === "version") return { kind: "version", version: root.version ?? "" };
  return { kind: "run", command, path, args: parsed };
}

/** `help [command…]`: the help of the named (sub)command. */
function helpFor(command: CommandSpec, path: string[], names: readonly string[]): ParseResult {
  let current = command;
  for (const name of names) {
    // `help --help`, `help help`, `help run -h`: the help asked for so far, not "unknown command".
    if (HELP.has(name) || name === "help") break;
    const next = current.subcommands?.find((c) => c.name === name);
    if (next === undefined) {
      const known = (current.subcommands ?? []).map((c) => c.name);
      throw new UsageError(
        path.join(" "),
        `no help for unknown command '${name}'${suggestion(name, known)}`,
      );
    }
    current = next;
    path.push(name);
  }
  return { kind: "help", command: current, path };
}

function unknownCommand(command: CommandSpec, word: string): string {
  const hint = command.unknownCommandHint?.(word);
  if (hint !== undefined) return `unknown command '${word}': ${hint}`;
  return `unknown command '${word}'${suggestion(word, command.subcommands!.map((c) => c.name))}`;
}

function suggestion(word: string, candidates: readonly string[]): string {
  const close = closestMatch(word, candidates);
  return close === undefined ? "" : ` (did you mean '${close}'?)`;
}

/** Reads one command's words; "help"/"version" when asked for, even after a mistake. */
function parseWords(
  command: CommandSpec,
  path: readonly string[],
  words: readonly string[],
): ParsedArgs | "help" | "version" {
  const where = path.join(" ");
  const options = command.options ?? [];
  const byName = new Map<string, OptionSpec>();
  for (const o of options) {
    byName.set(`--${o.long}`, o);
    for (const a of o.aliases ?? []) byName.set(`--${a}`, o);
    if (o.short !== undefined) byName.set(`-${o.short}`, o);
  }
  const given = new Map<string, OptionValue>();
  const positionals: string[] = [];
  let mistake: UsageError | undefined;
  const fail = (message: string) => void (mistake ??= new UsageError(where, message));
  const set = (spec: OptionSpec, value: string | true) => {
    if (spec.choices !== undefined && (value === true || !spec.choices.includes(value))) {
      fail(
        `option '${optionLabel(spec)}': ${
          value === true ? "a value is missing" : `'${value}' is not allowed`
        }; choose one of ${spec.choices.join(", ")}`,
      );
      return;
    }
    if (spec.repeatable) {
      const list = given.get(spec.long);
      given.set(spec.long, [...(Array.isArray(list) ? list : []), String(value)]);
    } else {
      given.set(spec.long, value);
    }
  };

  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === "--") {
      positionals.push(...words.slice(i + 1));
      break;
    }
    if (HELP.has(word)) return "help";
    if (VERSION.has(word) && !byName.has(word)) return "version";
    if (!word.startsWith("-") || word === "-") {
      positionals.push(word);
      continue;
    }
    // `--name=value`, `-cVALUE`, or a bare `--name` / `-c`.
    let name = word;
    let inline: string | undefined;
    if (word.startsWith("--")) {
      const eq = word.indexOf("=");
      if (eq > 2) [name, inline] = [word.slice(0, eq), word.slice(eq + 1)];
    } else if (word.length > 2) {
      [name, inline] = [word.slice(0, 2), word.slice(2)];
    }
    const spec = byName.get(name);
    if (spec === undefined) {
      const longNames = options.flatMap((o) => [o.long, ...(o.aliases ?? [])].map((n) => `--${n}`));
      fail(`unknown option '${name}'${suggestion(name, longNames)}`);
      continue;
    }
    if (spec.value === undefined) {
      if (inline !== undefined) fail(`option '--${spec.long}' takes no value (got '${word}')`);
      else set(spec, true);
      continue;
    }
    if (inline !== undefined) {
      set(spec, inline);
    } else if (spec.optionalValue) {
      const next = words[i + 1];
      if (next !== undefined && !next.startsWith("-")) {
        set(spec, next);
        i++;
      } else {
        set(spec, true);
      }
    } else if (i + 1 < words.length) {
      set(spec, words[++i]);
    } else {
      fail(`option '${optionLabel(spec)}' needs a value`);
    }
  }
  if (mistake !== undefined) throw mistake;

  const specs = command.arguments ?? [];
  specs.forEach((a, index) => {
    if (a.required && positionals.length <= index) fail(`argument <${a.name}> is missing`);
  });
  const takes = specs.at(-1)?.variadic ? Infinity : specs.length;
  if (positionals.length > takes) {
    const limit = takes === 0 ? "no arguments" : `at most ${takes}`;
    fail(`unexpected argument '${positionals[takes]}' (${command.name} takes ${limit})`);
  }
  for (const o of options) {
    if (o.required && !given.has(o.long)) fail(`option '${optionLabel(o)}' is required`);
  }
  if (mistake !== undefined) throw mistake;
  return new ParsedArgs(command, given, positionals);
}
