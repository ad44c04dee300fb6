/**
 * `--help` text of a command, derived from its table (src/cli/args.ts): usage line, description,
 * then arguments, options and subcommands in aligned columns, wrapped at 80 characters.
 */
import { type CommandSpec, optionLabel, type OptionSpec } from "./args.ts";

const WIDTH = 80;
/** Labels wider than this put their help on the next line. */
const MAX_LABEL = 32;

/** Words of `text` in lines of at most `width` characters (a longer word stands alone). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** Two columns: labels indented by two, help aligned after `labelWidth`. */
function columns(rows: readonly [string, string][], labelWidth: number): string[] {
  const indent = 2 + labelWidth + 2;
  const out: string[] = [];
  for (const [label, help] of rows) {
    const lines = wrap(help, WIDTH - indent);
    if (label.length > labelWidth) {
      out.push(`  ${label}`);
    } else {
      out.push(`  ${label.padEnd(labelWidth)}  ${lines.shift() ?? ""}`.trimEnd());
    }
    for (const l of lines) out.push(" ".repeat(indent) + l);
  }
  return out;
}

function optionRow(spec: OptionSpec): [string, string] {
  // `-c, --count <n>`; upstream's aliases after the name: `--upload-interface, --ul <string>`.
  const names = [
    ...(spec.short !== undefined ? [`-${spec.short}`] : []),
    ...[spec.long, ...(spec.aliases ?? [])].map((n) => `--${n}`),
  ];
  const label = names.join(", ") + optionLabel(spec).slice(spec.long.length + 2);
  const notes = [
    ...(spec.choices !== undefined ? [`one of ${spec.choices.join(", ")}`] : []),
    ...(spec.default !== undefined ? [`default ${spec.default}`] : []),
    ...(spec.required ? ["required"] : []),
    ...(spec.repeatable ? ["repeatable"] : []),
  ];
  return [label, notes.length > 0 ? `${spec.help} (${notes.join("; ")})` : spec.help];
}

/** The usage line's arguments, e.g. `[options] <stats>` or `[command]`. */
function usageTail(command: CommandSpec): string {
  const parts = ["[options]"];
  if (command.subcommands !== undefined) {
    parts.push(command.defaultSubcommand !== undefined ? "[command]" : "<command>");
  }
  for (const a of command.arguments ?? []) {
    const name = a.variadic ? `${a.name}...` : a.name;
    parts.push(a.required ? `<${name}>` : `[${name}]`);
  }
  return parts.join(" ");
}

/** The help text of `command`, reached as `path` (e.g. `["sqm-autorate", "plot"]`). */
export function helpText(command: CommandSpec, path: readonly string[]): string {
  const out = [`Usage: ${path.join(" ")} ${usageTail(command)}`, ""];
  out.push(...wrap(command.description, WIDTH), "");
  // "(required)" as an option's notes say it; the usage line shows it as `<name>` too.
  const argumentRows: [string, string][] = (command.arguments ?? []).map((
    a,
  ) => [a.name, a.required ? `${a.help} (required)` : a.help]);
  const optionRows: [string, string][] = (command.options ?? []).map(optionRow);
  if (command.version !== undefined) {
    optionRows.push(["-V, --version", "print the version and exit"]);
  }
  optionRows.push(["-h, --help", "print this help and exit"]);
  const commandRows: [string, string][] = (command.subcommands ?? []).map((c) => [
    c.name + (c.name === command.defaultSubcommand ? " (default)" : ""),
    c.description,
  ]);
  if (commandRows.length > 0) commandRows.push(["help [command]", "print the help of a command"]);
  // One column for all sections, as wide as the widest label (capped).
  const all = [...argumentRows, ...optionRows, ...commandRows];
  const width = Math.min(MAX_LABEL, Math.max(...all.map(([label]) => label.length)));
  for (
    const [title, rows] of [
      ["Arguments:", argumentRows],
      ["Options:", optionRows],
      ["Commands:", commandRows],
    ] as const
  ) {
    if (rows.length > 0) out.push(title, ...columns(rows, width), "");
  }
  const after = command.helpAfter?.();
  if (after !== undefined) out.push(after, "");
  return out.join("\n");
}
