/** The client connection against a scripted server on loopback. */
import assert from "node:assert/strict";
import { ClientConnection } from "./connection.ts";
import { NetworkError } from "../../../core/queue/failure.ts";

/** A one-connection server that writes `script` and keeps the socket open until closed. */
function scripted(script: string) {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const c = await l.accept();
    await c.write(new TextEncoder().encode(script));
    const buf = new Uint8Array(1024);
    try {
      while ((await c.read(buf)) !== null) { /* drain until the client closes */ }
    } catch { /* reset */ }
    c.close();
  })();
  return { port: (l.addr as Deno.NetAddr).port, done: () => (l.close(), served) };
}

Deno.test("smtp client connection: lines, bounds, close", async (t) => {
  await t.step("CRLF and bare LF lines, then the close", async () => {
    const s = scripted("220-a\r\n220 b\nx");
    const c = await ClientConnection.connect("127.0.0.1", s.port, 2000);
    assert.equal(await c.readLine(100, 2000), "220-a");
    assert.equal(await c.readLine(100, 2000), "220 b");
    c.close();
    await s.done();
  });

  await t.step("a line over the bound is a NetworkError", async () => {
    const s = scripted("250 " + "x".repeat(300) + "\r\n");
    const c = await ClientConnection.connect("127.0.0.1", s.port, 2000);
    await assert.rejects(
      c.readLine(100, 2000),
      (e) => e instanceof NetworkError && /too long/.test(e.message),
    );
    c.close();
    await s.done();
  });

  await t.step("silence is a timeout", async () => {
    const s = scripted("");
    const c = await ClientConnection.connect("127.0.0.1", s.port, 2000);
    await assert.rejects(
      c.readLine(100, 50),
      (e) => e instanceof NetworkError && /timed out/.test(e.message),
    );
    c.close();
    await s.done();
  });
});
