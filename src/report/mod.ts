/** Statistics output: upstream CSV formats, buffered rotating writers, injectable storage. */
export * from "./store.ts";
export * from "./csv_writer.ts";
export * from "./stats.ts";
