// zod's tree-shakable "mini" build: the classic build registers its whole API (about 440 KB of
// JavaScript) at start-up and kept about 6 MB more resident in the daemon (docs/footprint.md).
import * as z from "zod/mini";
import { SETTING_NAMES, SETTINGS_TABLE, type SettingSpec } from "./settings_table.ts";

/** The zod schema of one setting's typed value, derived from its table row. */
export function schemaOf(spec: SettingSpec): z.ZodMiniType {
  switch (spec.kind) {
    case "number":
    case "integer": {
      const checks = [
        ...(spec.kind === "integer" ? [z.int()] : []),
        ...(spec.min !== undefined ? [z.gte(spec.min)] : []),
        ...(spec.max !== undefined ? [z.lte(spec.max)] : []),
      ];
      return checks.length > 0 ? z.number().check(...checks) : z.number();
    }
    case "boolean":
      return z.boolean();
    case "enum":
      return z.enum(spec.choices as [string, ...string[]]);
    case "list":
      return z.array(z.string().check(z.minLength(1)));
    default:
      return spec.pattern ? z.string().check(z.regex(spec.pattern.re)) : z.string();
  }
}

/** The zod schema of the whole table (every setting, typed). */
export const tableSchema: z.ZodMiniObject = z.object(
  Object.fromEntries(SETTING_NAMES.map((n) => [n, schemaOf(SETTINGS_TABLE[n])])),
);

/** Human text for a setting's accepted values, e.g. `an integer in 10…100000000 (kbit/s)`. */
export function acceptedText(spec: SettingSpec): string {
  const unit = spec.unit ? ` ${spec.unit}` : "";
  switch (spec.kind) {
    case "number":
    case "integer": {
      const what = spec.kind === "integer" ? "an integer" : "a number";
      const clamped = spec.clamp ? " (one outside is clamped, as upstream does)" : "";
      return `${what} from ${spec.min} to ${spec.max}${unit}${clamped}`;
    }
    case "boolean":
      return "a boolean (1/true/yes/y/on or 0/false/no/n/off)";
    case "enum":
      return `one of ${spec.choices?.join(", ")}`;
    case "list":
      return "a list of non-empty paths";
    case "path":
      return "a file path";
    default:
      return spec.pattern?.text ?? "a string";
  }
}
