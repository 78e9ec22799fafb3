/**
 * STARTTLS (SMTP, IMAP) and STLS (POP3) share one handshake bound, limits.tls_handshake_timeout
 * (core/session/security.ts): a client that asks for TLS and then never sends a ClientHello
 * is closed when it runs out, in every protocol.
 */
import assert from "node:assert/strict";
import { startTestServer } from "./harness.ts";
import type { ListenerName } from "../core/config.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Reads until `done` matches what has arrived. */
async function readUntil(c: Deno.Conn, done: RegExp): Promise<string> {
  let acc = "";
  const buf = new Uint8Array(4096);
  while (!done.test(acc)) {
    const n = await c.read(buf);
    if (n === null) break;
    acc += dec.decode(buf.subarray(0, n));
  }
  return acc;
}

/** Milliseconds until the server closes `c` (EOF or reset). */
async function closedAfter(c: Deno.Conn): Promise<number> {
  const t0 = Date.now();
  const buf = new Uint8Array(1024);
  for (;;) {
    const n = await c.read(buf).catch(() => null);
    if (n === null) return Date.now() - t0;
  }
}

Deno.test("STARTTLS and STLS: a silent handshake ends at tls_handshake_timeout", async (t) => {
  const ts = await startTestServer({ limits: { tls_handshake_timeout: "1s" } });
  const cases: [string, ListenerName, RegExp, string, RegExp][] = [
    ["smtp", "smtp", /^220 .*\r\n$/, "EHLO x.test\r\nSTARTTLS\r\n", /220 2\.0\.0 Ready[^\n]*\n$/],
    ["imap", "imap", /^\* OK .*\r\n$/, "a STARTTLS\r\n", /a OK [^\n]*\n$/],
    ["pop3", "pop3", /^\+OK .*\r\n$/, "STLS\r\n", /\+OK Begin[^\n]*\n$/],
  ];
  try {
    for (const [name, listener, greeting, command, goAhead] of cases) {
      await t.step(name, async () => {
        const c = await Deno.connect({ hostname: "127.0.0.1", port: ts.port(listener) });
        try {
          assert.match(await readUntil(c, greeting), greeting);
          await c.write(enc.encode(command));
          assert.match(await readUntil(c, goAhead), goAhead);
          const ms = await closedAfter(c);
          assert.ok(ms >= 800 && ms < 5000, `${name}: closed after ${ms} ms`);
        } finally {
          c.close();
        }
      });
    }
  } finally {
    await ts.stop();
  }
});
