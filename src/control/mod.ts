/** The control loop shared by the daemon, the simulator and the tests, and its real-time driver. */
export * from "./loop.ts";
export * from "./driver.ts";
