/**
 * Hostile Sieve scripts uploaded over ManageSieve (RFC 5804) to a running server: scripts
 * built to make the compiler slow must be answered promptly, and the session goes on.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestServer } from "./harness.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A raw ManageSieve connection: sends a command, reads lines up to OK / NO / BYE. */
async function connect(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let buf = "";
  const response = async (): Promise<string> => {
    for (;;) {
      const m = /^(OK|NO|BYE).*\r\n/m.exec(buf);
      if (m) {
        const out = buf.slice(0, m.index + m[0].length);
        buf = buf.slice(m.index + m[0].length);
        return out;
      }
      const chunk = new Uint8Array(65536);
      const n = await conn.read(chunk);
      if (n === null) throw new Error(`closed; so far ${JSON.stringify(buf)}`);
      buf += dec.decode(chunk.subarray(0, n));
    }
  };
  const command = async (text: string) => {
    let b = enc.encode(text + "\r\n");
    while (b.length) b = b.subarray(await conn.write(b));
    return await response();
  };
  return { conn, response, command };
}

Deno.test("managesieve: a 250 KB script of encoded characters compiles in linear time", async () => {
  const ts = await startTestServer();
  try {
    await ts.addUser("sieve@example.test", "sieve-pass-1");
    const c = await connect(ts.port("managesieve"));
    try {
      assert.match(await c.response(), /^OK/m);
      const plain = btoa("\0sieve@example.test\0sieve-pass-1");
      assert.match(await c.command(`AUTHENTICATE "PLAIN" "${plain}"`), /^OK/m);
      // RFC 5228 §2.4.2.4 "${hex: ${hex: ...}": each "${" looked for its "}" at the end of
      // the string and split all that lay between (16 s for this 250 KB script before).
      const script = `require ["fileinto", "encoded-character"];\r\n` +
        `fileinto "${"${hex: ".repeat(35_000)}}";\r\n`;
      const t0 = performance.now();
      const r = await c.command(`PUTSCRIPT "hostile" {${enc.encode(script).length}+}\r\n${script}`);
      const ms = performance.now() - t0;
      // Each "${hex: " is malformed (another "${" before its "}") and stays as written;
      // the last one is the only real encoding.
      assert.match(r, /^OK/m);
      assert.ok(ms < 5_000, `PUTSCRIPT took ${ms.toFixed(0)} ms`);
      assert.match(await c.command("LISTSCRIPTS"), /"hostile"/);
    } finally {
      c.conn.close();
    }
  } finally {
    await ts.stop();
  }
});
