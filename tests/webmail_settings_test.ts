/**
 * The webmail's settings routes over HTTP (protocols/http/web/account_settings.ts): the
 * user's password (checked through the login throttle, the admin's password rules) and the
 * OpenPGP key of builtin:encrypt (the same checks and storage as `user key set`).
 */
import assert from "node:assert/strict";
import * as openpgp from "openpgp";
import { startTestServer, type TestServer } from "./harness.ts";
import { kvKeyFor } from "../plugins/builtin/encrypt/keys.ts";
import { kvNamespace } from "../plugins/engine/services.ts";

async function token(base: string, email: string, password: string): Promise<string | null> {
  const res = await fetch(`${base}/webmail/signin`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  const body = await res.json();
  return res.ok ? body.token : null;
}

function call(base: string, tok: string | null, method: string, path: string, body?: unknown) {
  return fetch(`${base}${path}`, {
    method,
    headers: {
      ...(tok ? { authorization: `Bearer ${tok}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function status(res: Response): Promise<number> {
  await res.body?.cancel();
  return res.status;
}

async function withServer(
  overrides: Record<string, unknown>,
  fn: (ts: TestServer, base: string) => Promise<void>,
) {
  const ts = await startTestServer({ listeners: { http: "127.0.0.1:0" }, ...overrides });
  try {
    await ts.addUser("alice@example.test", "alice-password");
    await ts.addUser("bob@example.test", "bob-password");
    await fn(ts, `http://127.0.0.1:${ts.port("http")}`);
  } finally {
    await ts.stop();
  }
}

Deno.test("webmail settings: change password", async () => {
  await withServer({}, async (_ts, base) => {
    const tok = await token(base, "alice@example.test", "alice-password");
    assert.ok(tok);
    const pw = (body: unknown, t: string | null = tok) =>
      call(base, t, "POST", "/webmail/password", body);
    assert.equal(await status(await pw({ current: "x", new: "y" }, null)), 401);
    const form = await fetch(`${base}/webmail/password`, {
      method: "POST",
      headers: { authorization: `Bearer ${tok}`, "content-type": "text/plain" },
      body: "current=alice-password&new=hijacked-password",
    });
    assert.equal(await status(form), 415, "JSON only");
    const short = await pw({ current: "alice-password", new: "short" });
    assert.equal(short.status, 400);
    assert.match((await short.json()).error, /at least 8/);
    const wrong = await pw({ current: "not-it", new: "a-new-long-password" });
    assert.equal(wrong.status, 403);
    assert.match((await wrong.json()).error, /not right/);
    assert.equal(
      await status(await pw({ current: "alice-password", new: "a-new-long-password" })),
      204,
    );
    assert.equal(await token(base, "alice@example.test", "alice-password"), null);
    assert.ok(await token(base, "alice@example.test", "a-new-long-password"));
    // Bob's token changes Bob's password only.
    const bob = await token(base, "bob@example.test", "bob-password");
    assert.equal(
      await status(await pw({ current: "a-new-long-password", new: "bobs-new-password" }, bob)),
      403,
    );
  });
});

Deno.test("webmail settings: wrong current passwords count in the login throttle", async () => {
  await withServer(
    { auth: { throttle_exempt: [], max_failures_per_address: 2 } },
    async (_ts, base) => {
      const tok = await token(base, "alice@example.test", "alice-password");
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await call(base, tok, "POST", "/webmail/password", {
          current: `guess ${i}`,
          new: "a-new-long-password",
        });
        statuses.push(res.status);
        if (res.status === 429) assert.ok(Number(res.headers.get("retry-after")) >= 1);
        await res.body?.cancel();
      }
      assert.equal(statuses[0], 403);
      assert.equal(statuses.at(-1), 429);
    },
  );
});

Deno.test("webmail settings: encryption key set, shown, removed", async () => {
  await withServer({}, async (ts, base) => {
    const tok = await token(base, "alice@example.test", "alice-password");
    const key = (method: string, body?: unknown) => call(base, tok, method, "/webmail/key", body);
    assert.equal(await status(await call(base, null, "GET", "/webmail/key")), 401);
    assert.equal(await status(await key("GET")), 404);
    const bad = await key("POST", { armored: "not a key" });
    assert.equal(bad.status, 400);
    assert.equal(typeof (await bad.json()).error, "string");
    const { publicKey, privateKey } = await openpgp.generateKey({
      type: "ecc",
      curve: "curve25519Legacy",
      userIDs: [{ email: "alice@example.test" }],
      format: "armored",
    });
    const priv = await key("POST", { armored: privateKey });
    assert.equal(priv.status, 400);
    assert.match((await priv.json()).error, /private key/);
    const set = await key("POST", { armored: publicKey });
    assert.equal(set.status, 200);
    const fingerprint = (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint();
    assert.equal((await set.json()).fingerprint.toLowerCase(), fingerprint.toLowerCase());
    const stored = await ts.store.kvGet(kvNamespace("encrypt"), kvKeyFor("alice@example.test"));
    assert.ok(stored?.includes("BEGIN PGP PUBLIC KEY BLOCK"), "where `user key set` puts it");
    const shown = await key("GET");
    assert.equal((await shown.json()).fingerprint.toLowerCase(), fingerprint.toLowerCase());
    const bob = await token(base, "bob@example.test", "bob-password");
    assert.equal(await status(await call(base, bob, "GET", "/webmail/key")), 404, "per user");
    assert.equal(await status(await key("DELETE")), 204);
    assert.equal(await status(await key("GET")), 404);
  });
});
