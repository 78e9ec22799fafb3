/**
 * The webmail over HTTP, without a browser: the page's security headers, hashed assets
 * with ETags and long caching, the JavaScript budget, sign-in (throttled, https-only
 * outside loopback, JSON only) and sign-out revoking the token.
 */
import assert from "node:assert/strict";
import { startTestServer } from "./harness.ts";

const JS_BUDGET_GZIP = 200 * 1024;

async function gzipSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

Deno.test("webmail: page, assets, sign-in and sign-out over http", async (t) => {
  const ts = await startTestServer({ listeners: { http: "127.0.0.1:0" } });
  try {
    const alice = await ts.addUser("alice@example.test", "alice-password");
    const base = `http://127.0.0.1:${ts.port("http")}`;

    let script = "";
    await t.step("the page: strict CSP, no framing, no referrer, no sniffing", async () => {
      const res = await fetch(`${base}/`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
      const csp = res.headers.get("content-security-policy") ?? "";
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'(;|$)/, "no inline script, no eval");
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(res.headers.get("x-frame-options"), "DENY");
      assert.equal(res.headers.get("referrer-policy"), "no-referrer");
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(res.headers.get("cache-control"), "no-cache");
      const html = await res.text();
      assert.doesNotMatch(html, /<script>|<script [^>]*>[^<]/, "no inline script");
      script = html.match(/<script type="module" src="(\/assets\/[^"]+\.js)"/)?.[1] ?? "";
      assert.ok(script, "the page loads one hashed module");
      const again = await fetch(`${base}/`, {
        headers: { "if-none-match": res.headers.get("etag")! },
      });
      assert.equal(again.status, 304);
      await again.body?.cancel();
    });

    await t.step("hashed assets: ETag, cached for a year, JS under budget", async () => {
      const res = await fetch(`${base}${script}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/javascript/);
      assert.match(res.headers.get("cache-control") ?? "", /max-age=31536000.*immutable/);
      const etag = res.headers.get("etag");
      assert.ok(etag);
      const size = await gzipSize(new Uint8Array(await res.arrayBuffer()));
      console.log(`webmail JavaScript: ${size} bytes gzipped`);
      assert.ok(size < JS_BUDGET_GZIP, `${size} bytes gzipped`);
      const again = await fetch(`${base}${script}`, { headers: { "if-none-match": etag } });
      assert.equal(again.status, 304);
      await again.body?.cancel();
      const missing = await fetch(`${base}/assets/nope.js`);
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
    });

    await t.step("sign-in: JSON only; wrong password 401; right one a working token", async () => {
      const post = (body: string, type = "application/json") =>
        fetch(`${base}/webmail/signin`, {
          method: "POST",
          headers: { "content-type": type },
          body,
        });
      const form = await post("email=alice%40example.test&password=alice-password", "text/plain");
      assert.equal(form.status, 415, "a cross-site form cannot sign in");
      await form.body?.cancel();
      const wrong = await post(JSON.stringify({ email: "alice@example.test", password: "nope" }));
      assert.equal(wrong.status, 401);
      assert.equal(typeof (await wrong.json()).error, "string");
      const ok = await post(
        JSON.stringify({ email: "alice@example.test", password: "alice-password" }),
      );
      assert.equal(ok.status, 200);
      const { token, username } = await ok.json();
      assert.equal(username, "alice@example.test");
      assert.match(token, /^dmt_/);
      assert.equal((await ts.store.listApiTokens(alice.id)).length, 1);
      const session = await fetch(`${base}/.well-known/jmap`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(session.status, 200);
      await session.body?.cancel();

      const out = await fetch(`${base}/webmail/signout`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(out.status, 204);
      assert.equal((await ts.store.listApiTokens(alice.id)).length, 0, "the token is revoked");
      const after = await fetch(`${base}/.well-known/jmap`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(after.status, 401);
      // Only the Bearer challenge: a Basic one would make the browser prompt for a password.
      assert.doesNotMatch(after.headers.get("www-authenticate") ?? "", /Basic/);
      await after.body?.cancel();
    });
  } finally {
    await ts.stop();
  }
});

Deno.test("webmail: sign-in is throttled like IMAP logins", async () => {
  const ts = await startTestServer({
    listeners: { http: "127.0.0.1:0" },
    auth: { throttle_exempt: [], max_failures_per_address: 2 },
  });
  try {
    await ts.addUser("alice@example.test", "alice-password");
    const base = `http://127.0.0.1:${ts.port("http")}`;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${base}/webmail/signin`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "alice@example.test", password: `guess ${i}` }),
      });
      statuses.push(res.status);
      if (res.status === 429) assert.ok(Number(res.headers.get("retry-after")) >= 1);
      await res.body?.cancel();
    }
    assert.equal(statuses[0], 401);
    assert.equal(statuses.at(-1), 429);
  } finally {
    await ts.stop();
  }
});
