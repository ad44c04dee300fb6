/**
 * The values `rate_controller` accepts, in one place for the settings validation and the
 * factory in src/ratecontroller/mod.ts.
 */

/** Ratecontrollers built into the TypeScript code (lower case, matched exactly). */
export const TS_RATECONTROLLERS: readonly string[] = ["ewma", "capacity"];

/** True when `rate_controller` names a Lua script (a `.lua` path or `builtin:<name>`). */
export function isLuaRatecontroller(name: string): boolean {
  return name.startsWith("builtin:") || name.toLowerCase().endsWith(".lua");
}

/** What is wrong with a `rate_controller` value, or undefined when it names something buildable. */
export function ratecontrollerProblem(value: string): string | undefined {
  const name = value.trim();
  if (name === "" || TS_RATECONTROLLERS.includes(name) || isLuaRatecontroller(name)) {
    return undefined;
  }
  const close = TS_RATECONTROLLERS.find((n) => n === name.toLowerCase());
  const hint = close !== undefined ? ` (did you mean "${close}"? names are lower case)` : "";
  return `"${name}" is not a ratecontroller${hint}; use ${
    TS_RATECONTROLLERS.map((n) => `"${n}"`).join(", ")
  }, a path ending in .lua, or builtin:<name>`;
}
