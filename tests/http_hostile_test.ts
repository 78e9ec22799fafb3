/**
 * Hostile HTTP requests against a running server, before any login: bodies built to make
 * a parser backtrack must be answered promptly, with the normal answer.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestServer } from "./harness.ts";

Deno.test("autodiscover: 16 KB of white space after <EMailAddress> is answered at once", async () => {
  const ts = await startTestServer({ listeners: { http: "127.0.0.1:0" } });
  try {
    await ts.addUser("alice@example.test", "alice-password");
    const post = (body: string) =>
      fetch(`http://127.0.0.1:${ts.port("http")}/autodiscover/autodiscover.xml`, {
        method: "POST",
        headers: { "content-type": "text/xml" },
        body,
      });
    // The old pattern /<EMailAddress>\s*([^<]{1,254}?)\s*<\/EMailAddress>/ was cubic here:
    // about 10 s for 10 KB, 27 s for this request.
    const t0 = performance.now();
    const res = await post(`<EMailAddress>${" ".repeat(16_000)}`);
    const ms = performance.now() - t0;
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<ErrorCode>600<\/ErrorCode>/);
    assert.ok(ms < 5_000, `autodiscover took ${ms.toFixed(0)} ms`);
    // A real request still gets its settings (white space around the address is trimmed).
    const ok = await post(
      `<Autodiscover><Request><EMailAddress>\n  alice@example.test\n</EMailAddress>` +
        `</Request></Autodiscover>`,
    );
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /<LoginName>alice@example.test<\/LoginName>/);
  } finally {
    await ts.stop();
  }
});
