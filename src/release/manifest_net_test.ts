import { assert, assertEquals } from "../util/assert.ts";
import { DAEMON_MANIFEST } from "./manifest.ts";
import { listenProblem, mqttProblem } from "./manifest_net.ts";
import { runCli } from "../cli/mod.ts";
import { ExitCode } from "../util/exit_codes.ts";

Deno.test("metrics_listen: empty and the manifest's addresses pass; others are named with the allowed ones", () => {
  assertEquals(listenProblem("", DAEMON_MANIFEST), undefined);
  assertEquals(listenProblem("127.0.0.1:9101", DAEMON_MANIFEST), undefined);
  assertEquals(listenProblem("[::1]:9101", DAEMON_MANIFEST), undefined);
  const other = listenProblem("192.0.2.1:9101", DAEMON_MANIFEST);
  assert(other?.startsWith("metrics_listen: 192.0.2.1:9101 is outside"), other);
  assert(other?.includes("127.0.0.1:9101, 0.0.0.0:9101"), other);
  const port = listenProblem("127.0.0.1:8080", DAEMON_MANIFEST);
  assert(port?.includes("127.0.0.1:8080 is outside"), port);
  const bad = listenProblem("localhost", DAEMON_MANIFEST);
  assert(bad?.includes('"localhost" is not HOST:PORT'), bad);
  assert(listenProblem("127.0.0.1:70000", DAEMON_MANIFEST)?.includes("not 1-65535"));
  // The manifest's broker entries are not listen addresses: listening there takes a local
  // broker's port (and the publisher would talk to the daemon's own HTTP listener).
  const broker = listenProblem("127.0.0.1:1883", DAEMON_MANIFEST);
  assert(broker?.startsWith("metrics_listen: 127.0.0.1:1883 is outside"), broker);
  assert(broker?.includes("allows only 127.0.0.1:9101, 0.0.0.0:9101, [::1]:9101, [::]:9101 for"));
  assert(listenProblem("localhost:1883", DAEMON_MANIFEST)?.includes("is outside"));
});

Deno.test("mqtt_url: a local broker on 1883 passes; another host, port or scheme is named", () => {
  assertEquals(mqttProblem("", DAEMON_MANIFEST), undefined);
  assertEquals(mqttProblem("mqtt://127.0.0.1", DAEMON_MANIFEST), undefined);
  assertEquals(mqttProblem("mqtt://ha:secret@localhost:1883", DAEMON_MANIFEST), undefined);
  assertEquals(mqttProblem("mqtt://[::1]:1883", DAEMON_MANIFEST), undefined);
  const far = mqttProblem("mqtt://192.0.2.7:1883", DAEMON_MANIFEST);
  assert(far?.startsWith("mqtt_url: 192.0.2.7:1883 is outside"), far);
  const tls = mqttProblem("mqtts://127.0.0.1:8883", DAEMON_MANIFEST);
  assert(tls?.includes("only mqtt:// is supported"), tls);
  assert(mqttProblem("127.0.0.1:1883", DAEMON_MANIFEST)?.includes("is not a URL like mqtt://"));
  // The metrics listener's entries are not a broker: the publisher would talk to the daemon.
  const own = mqttProblem("mqtt://127.0.0.1:9101", DAEMON_MANIFEST);
  assert(own?.startsWith("mqtt_url: 127.0.0.1:9101 is outside"), own);
  assert(own?.includes("127.0.0.1:1883, localhost:1883, [::1]:1883 for it"), own);
});

Deno.test("check-config rejects a metrics_listen outside the manifest (exit 78)", async () => {
  let out = "", err = "";
  const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t) };
  const args = [
    "check-config",
    "--upload-interface",
    "wan",
    "--download-interface",
    "ifb4wan",
    "--upload-base-kbits",
    "10000",
    "--download-base-kbits",
    "50000",
    "--metrics-listen",
  ];
  assertEquals(await runCli([...args, "0.0.0.0:9101"], io), ExitCode.OK, err);
  assertEquals(await runCli([...args, "0.0.0.0:9090"], io), ExitCode.CONFIG);
  assert((out + err).includes("metrics_listen: 0.0.0.0:9090 is outside"), out + err);
});
