/** Applying rates: the `Shaper` contract, tc-based CAKE/HTB/TBF shapers, an in-memory shaper. */
export * from "../util/command.ts";
export * from "./shaper.ts";
export * from "./memory.ts";
