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

/** Why a Lua call failed. */
export type LuaFailure = "error" | "timeout" | "memory" | "syntax";

/** A failed load or call; the message carries the Lua message and, for runtime errors, traceback. */
export class LuaError extends Error {
  /** What went wrong. */
  readonly kind: LuaFailure;
  /** Builds the error. */
  constructor(kind: LuaFailure, message: string) {
    super(message);
    this.name = "LuaError";
    this.kind = kind;
  }
}
