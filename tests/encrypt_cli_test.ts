/**
 * `denomail user key set|show|remove` as an admin runs it: a good key is stored (public
 * part only) in the encrypt plugin's kv area; a bad key exits 2 with the reason.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { cli } from "./lib/server_process.ts";
import { loadConfig } from "../core/config.ts";
import { openConfiguredStore } from "../app/store.ts";

async function key(email: string, more: Partial<openpgp.KeyOptions> = {}) {
  return await openpgp.generateKey({
    type: "curve25519",
    userIDs: [{ name: "Alice", email }],
    ...more,
    format: "armored",
  });
}

Deno.test("cli: user key set / show / remove", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-keycli-" });
  const config = join(dir, "denomail.toml");
  await Deno.writeTextFile(config, `data_dir = "${dir}/data"\n`);
  const file = async (name: string, text: string) => {
    const p = join(dir, name);
    await Deno.writeTextFile(p, text);
    return p;
  };
  const run = (...args: string[]) => cli([...args, "--config", config]);
  const alice = await key("alice@example.test");
  try {
    assert.equal(
      (await cli(["user", "add", "alice@example.test", "--password-stdin", "--config", config], {
        stdin: "s3cret-password\n",
      })).code,
      0,
    );
    await t.step("bad keys exit 2 with the reason, one line", async () => {
      const expired = await key("alice@example.test", {
        date: new Date(Date.now() - 100_000),
        keyExpirationTime: 10,
      });
      const bob = await key("bob@example.test");
      const signOnly = await key("alice@example.test", { subkeys: [] });
      const cases: Array<[string[], RegExp]> = [
        [[await file("priv.asc", alice.privateKey)], /private key; upload the public key only/],
        [[await file("bob.asc", bob.publicKey)], /does not carry alice@example\.test/],
        [[await file("old.asc", expired.publicKey)], /not valid now: .*expired/i],
        [[await file("sign.asc", signOnly.publicKey)], /cannot encrypt/],
        [[await file("junk.asc", "not a key\n")], /not an OpenPGP key/],
        [[join(dir, "missing.asc")], /cannot read .*missing\.asc/],
      ];
      // Independent read-only runs: in parallel to keep the test short.
      const results = await Promise.all(
        cases.map(([args]) => run("user", "key", "set", "alice@example.test", ...args)),
      );
      results.forEach((r, i) => {
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, cases[i][1]);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      });
      const noUser = await run("user", "key", "set", "nobody@example.test", join(dir, "bob.asc"));
      assert.equal(noUser.code, 2);
      assert.match(noUser.stderr, /no such user nobody@example\.test/);
      const none = await run("user", "key", "show", "alice@example.test");
      assert.equal(none.code, 2);
      assert.match(none.stderr, /no key for alice@example\.test/);
    });
    await t.step("a good key is stored (public only) and shown", async () => {
      const set = await run(
        "user",
        "key",
        "set",
        "Alice@Example.TEST",
        await file("a.asc", alice.publicKey),
      );
      assert.equal(set.code, 0, set.stderr);
      const fpr = (await openpgp.readKey({ armoredKey: alice.publicKey })).getFingerprint()
        .toUpperCase();
      assert.equal(set.stdout, `key set for alice@example.test: ${fpr}\n`);
      const show = await run("user", "key", "show", "alice@example.test");
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, new RegExp(`^fingerprint: ${fpr}\n`));
      assert.match(show.stdout, /user id: Alice <alice@example\.test>\n/);
      assert.match(show.stdout, /expires: never\n-----BEGIN PGP PUBLIC KEY BLOCK-----/);
      // Where the plugin looks for it: its kv area, plugin:encrypt.
      const store = await openConfiguredStore(await loadConfig(config));
      try {
        const stored = await store.kvGet("plugin:encrypt", "key:alice@example.test");
        assert.ok(stored?.startsWith("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
        assert.ok(!stored?.includes("PRIVATE"));
      } finally {
        await store.close();
      }
    });
    await t.step("remove", async () => {
      const rm = await run("user", "key", "remove", "alice@example.test");
      assert.equal(rm.code, 0, rm.stderr);
      assert.equal(rm.stdout, "key removed for alice@example.test\n");
      assert.equal((await run("user", "key", "remove", "alice@example.test")).code, 2);
      const bad = await run("user", "key", "frob", "alice@example.test");
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /user key: unknown subcommand frob/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
