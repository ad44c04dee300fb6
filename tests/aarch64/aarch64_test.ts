/**
 * `deno task test:aarch64`: the program on aarch64 Deno (docs/install.md, "What is proven
 * where"). One test module, because `deno test` evaluates every test file on its own: this way
 * the aarch64 Deno is unpacked and the bundle built once for all cases.
 */
import "./cli_cases.ts";
import "./daemon_case.ts";
