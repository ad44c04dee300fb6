/**
 * The Lua support's error classes, apart from the engine so callers can recognise them without
 * loading wasmoon (see src/lua/config.ts).
 */

/** A Lua ratecontroller that could not start; the message names the file (and line). */
export class LuaRatecontrollerError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "LuaRatecontrollerError";
  }
}

/** A script reference that names nothing readable. */
export class ScriptNotFoundError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "ScriptNotFoundError";
  }
}
