/**
 * The few MQTT 3.1.1 packets a QoS 0 publisher needs (CONNECT with a retained last will,
 * PUBLISH, PINGREQ, DISCONNECT) and a reader for what the broker sends back (CONNACK, PINGRESP).
 * Pure byte encoding; the connection lives in mqtt_publisher.ts. Reference: the OASIS MQTT 3.1.1
 * standard, sections 2 and 3 (docs/observability.md).
 */

const encoder = new TextEncoder();

/** MQTT control packet types (upper nibble of the first byte). */
export const PacketType = {
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  PINGREQ: 12,
  PINGRESP: 13,
  DISCONNECT: 14,
} as const;

/** The variable-length "remaining length" encoding (1–4 bytes, 7 bits each). */
export function encodeRemainingLength(n: number): number[] {
  if (n < 0 || n > 268_435_455) throw new RangeError(`MQTT remaining length ${n} out of range`);
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

/** A UTF-8 string with its 2-byte length prefix. */
function mqttString(s: string): Uint8Array {
  const bytes = encoder.encode(s);
  if (bytes.length > 65535) throw new RangeError("MQTT string longer than 65535 bytes");
  const out = new Uint8Array(2 + bytes.length);
  out[0] = bytes.length >> 8;
  out[1] = bytes.length & 0xff;
  out.set(bytes, 2);
  return out;
}

function packet(firstByte: number, parts: readonly Uint8Array[]): Uint8Array {
  const len = parts.reduce((a, p) => a + p.length, 0);
  const head = [firstByte, ...encodeRemainingLength(len)];
  const out = new Uint8Array(head.length + len);
  out.set(head, 0);
  let at = head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Options of a CONNECT packet. */
export interface ConnectOptions {
  /** Client identifier. */
  clientId: string;
  /** Keep-alive in seconds (0 = none). */
  keepAliveS: number;
  /** User name, if any. */
  username?: string;
  /** Password, if any (only with a user name). */
  password?: string;
  /** Last will: published (retained) by the broker when the connection dies. */
  will?: { topic: string; payload: string; retain: boolean };
}

/** CONNECT with a clean session. */
export function connectPacket(o: ConnectOptions): Uint8Array {
  let flags = 0x02; // clean session
  if (o.will) flags |= 0x04 | (o.will.retain ? 0x20 : 0);
  if (o.username !== undefined) flags |= 0x80;
  if (o.username !== undefined && o.password !== undefined) flags |= 0x40;
  const variable = new Uint8Array([
    ...mqttString("MQTT"),
    4, // protocol level 3.1.1
    flags,
    o.keepAliveS >> 8,
    o.keepAliveS & 0xff,
  ]);
  const payload = [mqttString(o.clientId)];
  if (o.will) payload.push(mqttString(o.will.topic), mqttString(o.will.payload));
  if (o.username !== undefined) payload.push(mqttString(o.username));
  if (o.username !== undefined && o.password !== undefined) payload.push(mqttString(o.password));
  return packet(PacketType.CONNECT << 4, [variable, ...payload]);
}

/** PUBLISH at QoS 0 (no packet identifier, no acknowledgement). */
export function publishPacket(topic: string, payload: string, o: { retain: boolean }): Uint8Array {
  return packet((PacketType.PUBLISH << 4) | (o.retain ? 1 : 0), [
    mqttString(topic),
    encoder.encode(payload),
  ]);
}

/** PINGREQ. */
export function pingPacket(): Uint8Array {
  return new Uint8Array([PacketType.PINGREQ << 4, 0]);
}

/** DISCONNECT. */
export function disconnectPacket(): Uint8Array {
  return new Uint8Array([PacketType.DISCONNECT << 4, 0]);
}

/** One packet read from the broker. */
export interface IncomingPacket {
  /** Packet type. */
  type: number;
  /** Bytes after the fixed header. */
  body: Uint8Array;
}

/**
 * Splits a byte stream into packets: feed chunks, get complete packets back; a partial packet
 * stays buffered until the rest arrives.
 */
export class PacketReader {
  #buf = new Uint8Array(0);

  /** Appends `chunk` and returns every packet now complete. */
  push(chunk: Uint8Array): IncomingPacket[] {
    const joined = new Uint8Array(this.#buf.length + chunk.length);
    joined.set(this.#buf, 0);
    joined.set(chunk, this.#buf.length);
    this.#buf = joined;
    const out: IncomingPacket[] = [];
    for (;;) {
      if (this.#buf.length < 2) break;
      let len = 0;
      let mult = 1;
      let i = 1;
      let complete = false;
      for (; i < Math.min(this.#buf.length, 5); i++) {
        len += (this.#buf[i] & 0x7f) * mult;
        mult *= 128;
        if ((this.#buf[i] & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) break;
      const start = i + 1;
      if (this.#buf.length < start + len) break;
      out.push({ type: this.#buf[0] >> 4, body: this.#buf.slice(start, start + len) });
      this.#buf = this.#buf.slice(start + len);
    }
    return out;
  }
}
