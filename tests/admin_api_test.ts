/**
 * The admin API over HTTP against a running server: every route's success, validation
 * errors worded as the CLI words them, 401 without credentials, 403 for a non-admin on
 * every route, the CSRF and body rules, and the audit log the changes leave.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestServer } from "./harness.ts";
import { cli, startServerProcess } from "./lib/server_process.ts";
import { basic, type Json } from "./lib/jmap_client.ts";
import { ADMIN_ROUTES } from "../protocols/http/admin/routes.ts";
import { hashApiToken, newApiToken } from "../core/auth/api_token.ts";

const ADMIN = basic("root@example.test", "root-password");
const USER = basic("bob@example.test", "bob-password");

Deno.test("admin api: routes, validation, 401/403, CSRF, audit", async (t) => {
  const ts = await startTestServer({ listeners: { http: "127.0.0.1:0", https: "127.0.0.1:0" } });
  // The queue entries below must stay put: no delivery attempts during the test.
  await ts.server.queue.stop();
  const base = `http://127.0.0.1:${ts.port("http")}/api/admin`;
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    auth: string | null = ADMIN,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; json: Json; res: Response }> => {
    const h = new Headers(headers);
    if (auth) h.set("authorization", auth);
    if (body !== undefined && !h.has("content-type")) h.set("content-type", "application/json");
    const res = await fetch(`${base}/${path}`, {
      method,
      headers: h,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: Json = null;
    try {
      json = JSON.parse(text);
    } catch { /* not JSON */ }
    return { status: res.status, json, res };
  };
  /** A state-changing call: JSON content type even without a body. */
  const change = (method: string, path: string, body: unknown = {}) => call(method, path, body);

  try {
    await ts.addUser("root@example.test", "root-password");
    await ts.store.setAdmin("root@example.test", true);
    await ts.addUser("bob@example.test", "bob-password");

    await t.step("401 without credentials or with wrong ones", async () => {
      const none = await call("GET", "users", undefined, null);
      assert.equal(none.status, 401);
      assert.match(none.res.headers.get("www-authenticate") ?? "", /Basic/);
      const wrong = await call("GET", "users", undefined, basic("root@example.test", "nope"));
      assert.equal(wrong.status, 401);
      const post = await call("POST", "domains", { name: "x.test" }, null);
      assert.equal(post.status, 401);
    });

    await t.step("403 for a non-admin on every route (role checked per call)", async () => {
      for (const route of ADMIN_ROUTES) {
        const path = route.path.replace(":domain", "example.test").replace(
          ":email",
          "bob@example.test",
        ).replace(":source", "x@example.test").replace(":id", "1");
        const r = await call(route.method, path, route.method === "GET" ? undefined : {}, USER);
        assert.equal(r.status, 403, `${route.method} ${path}`);
        assert.equal(r.json.type, "forbidden");
      }
      // A bearer token of a non-admin gets the same answer.
      const token = newApiToken();
      const bob = (await ts.store.getAccount("bob@example.test"))!;
      await ts.store.createApiToken(bob.id, "t", hashApiToken(token));
      assert.equal((await call("GET", "users", undefined, `Bearer ${token}`)).status, 403);
      // Granting the role takes effect at the next request, taking it away too.
      await ts.store.setAdmin("bob@example.test", true);
      assert.equal((await call("GET", "domains", undefined, USER)).status, 200);
      await ts.store.setAdmin("bob@example.test", false);
      assert.equal((await call("GET", "domains", undefined, USER)).status, 403);
    });

    await t.step("CSRF and body rules: JSON content type, bounded object bodies", async () => {
      const form = await call("POST", "domains", "name=evil.test", ADMIN, {
        "content-type": "application/x-www-form-urlencoded",
      });
      assert.equal(form.status, 415);
      const plain = await call("POST", "domains", '{"name":"evil.test"}', ADMIN, {
        "content-type": "text/plain",
      });
      assert.equal(plain.status, 415);
      const multipart = await call("DELETE", "domains/example.test", "x", ADMIN, {
        "content-type": "multipart/form-data; boundary=x",
      });
      assert.equal(multipart.status, 415);
      assert.equal((await call("POST", "domains", "[1]")).status, 400);
      assert.equal((await call("POST", "domains", "{not json")).status, 400);
      const big = await call("POST", "domains", JSON.stringify({ name: "x".repeat(70_000) }));
      assert.equal(big.status, 413);
      const proto = await call("POST", "domains", '{"__proto__":{"name":"p.test"}}');
      assert.equal(proto.status, 400);
      assert.equal(proto.json.error, "missing argument DOMAIN");
      assert.equal(await ts.store.hasDomain("evil.test"), false);
      assert.equal((await call("GET", "nothing-here")).status, 404);
      assert.equal((await call("PUT", "domains")).status, 405);
    });

    await t.step("domains: add, list, DNS records, DKIM, remove; errors", async () => {
      const add = await change("POST", "domains", { name: "Other.TEST." });
      assert.equal(add.status, 201);
      assert.equal(add.json.name, "other.test");
      const list = await call("GET", "domains");
      assert.deepEqual(list.json.domains.map((d: Json) => d.name), ["example.test", "other.test"]);
      const dup = await change("POST", "domains", { name: "other.test" });
      assert.equal(dup.status, 409);
      assert.equal(dup.json.error, "domain already exists: other.test");
      const bad = await change("POST", "domains", { name: "bad_domain" });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error, 'domain: "bad_domain" is not a valid domain name');
      const dkim = await change("POST", "domains/other.test/dkim", { selector: "s1" });
      assert.equal(dkim.status, 201);
      assert.match(dkim.json.record, /^s1\._domainkey\.other\.test\.\tTXT\t"v=DKIM1/);
      const again = await change("POST", "domains/other.test/dkim", { selector: "s2" });
      assert.equal(again.status, 409);
      assert.match(again.json.error, /already has a DKIM key \(selector s1\); use --force/);
      const dns = await call("GET", "domains/other.test/dns");
      assert.equal(dns.status, 200);
      assert.ok(dns.json.zone.some((l: string) => l.startsWith("other.test.\tMX\t10 ")));
      assert.ok(
        dns.json.records.some((r: Json) =>
          r.name === "s1._domainkey.other.test." && r.type === "TXT"
        ),
      );
      const unknown = await change("DELETE", "domains/unknown.test");
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json.error, "no such domain: unknown.test");
      const inUse = await change("DELETE", "domains/example.test");
      assert.equal(inUse.status, 409);
      const rm = await change("DELETE", "domains/other.test");
      assert.equal(rm.status, 200);
      assert.equal(await ts.store.hasDomain("other.test"), false);
    });

    await t.step(
      "users: add, list with quota and usage, password, quota, role, remove",
      async () => {
        const add = await change("POST", "users", {
          email: "Carol@Example.TEST",
          password: "carol-password",
        });
        assert.equal(add.status, 201);
        assert.deepEqual(add.json, { email: "carol@example.test", newDomain: null, role: "user" });
        const dup = await change("POST", "users", {
          email: "carol@example.test",
          password: "carol-password",
        });
        assert.equal(dup.status, 409);
        assert.equal(dup.json.error, "user carol@example.test already exists");
        const badAddr = await change("POST", "users", { email: "not-an-address", password: "x" });
        assert.equal(badAddr.status, 400);
        assert.equal(
          badAddr.json.error,
          'EMAIL: "not-an-address" is not a valid address (local@domain)',
        );
        const typo = await change("POST", "users", {
          email: "dan@exmple.test",
          password: "dan-password",
        });
        assert.equal(typo.status, 400);
        assert.match(
          typo.json.error,
          /domain exmple\.test is not known; did you mean example\.test\?/,
        );
        const short = await change("POST", "users", { email: "dan@example.test", password: "x" });
        assert.equal(short.status, 400);
        assert.equal(short.json.error, "password must be at least 8 characters");
        const admin = await change("POST", "users", {
          email: "eve@new.test",
          password: "eve-password",
          admin: true,
        });
        assert.deepEqual(admin.json, {
          email: "eve@new.test",
          newDomain: "new.test",
          role: "admin",
        });

        const quota = await change("PUT", "users/carol@example.test/quota", { quota: "500M" });
        assert.equal(quota.status, 200);
        assert.equal(quota.json.quotaBytes, 500 * 1024 * 1024);
        const badQuota = await change("PUT", "users/carol@example.test/quota", { quota: "lots" });
        assert.equal(badQuota.status, 400);
        assert.equal(
          badQuota.json.error,
          'SIZE must be a number of bytes (or with K, M, G) or "none", not lots',
        );
        const noQuota = await change("PUT", "users/carol@example.test/quota", {});
        assert.equal(noQuota.json.error, "missing argument SIZE");
        const list = await call("GET", "users");
        const carol = list.json.users.find((u: Json) => u.email === "carol@example.test");
        assert.deepEqual(
          { quota: carol.quotaBytes, usage: carol.usageBytes, role: carol.role },
          { quota: 500 * 1024 * 1024, usage: 0, role: "user" },
        );
        assert.equal(
          list.json.users.find((u: Json) => u.email === "root@example.test").role,
          "admin",
        );

        const pw = await change("PUT", "users/carol@example.test/password", {
          password: "carol-new-password",
        });
        assert.equal(pw.status, 200);
        assert.equal(
          (await call(
            "GET",
            "domains",
            undefined,
            basic(
              "carol@example.test",
              "carol-new-password",
            ),
          )).status,
          403,
          "the new password works (and carol is no admin)",
        );
        const role = await change("PUT", "users/carol@example.test/role", { role: "admin" });
        assert.deepEqual(role.json, { email: "carol@example.test", role: "admin" });
        assert.equal(
          (await call(
            "GET",
            "domains",
            undefined,
            basic(
              "carol@example.test",
              "carol-new-password",
            ),
          )).status,
          200,
        );
        const badRole = await change("PUT", "users/carol@example.test/role", { role: "root" });
        assert.equal(badRole.json.error, "ROLE must be admin or user, not root");
        const nobody = await change("PUT", "users/nobody@example.test/role", { role: "user" });
        assert.equal(nobody.status, 404);
        assert.equal(nobody.json.error, "no such user nobody@example.test");
        const rm = await change("DELETE", "users/carol@example.test");
        assert.equal(rm.status, 200);
        assert.equal(await ts.store.getAccount("carol@example.test"), null);
        assert.equal((await change("DELETE", "users/carol@example.test")).status, 404);
      },
    );

    await t.step("aliases: set (list or text), list, remove; errors", async () => {
      const set = await change("POST", "aliases", {
        source: "Sales@Example.TEST",
        targets: ["bob@example.test", "x@elsewhere.test"],
      });
      assert.equal(set.status, 201);
      assert.deepEqual(set.json, {
        source: "sales@example.test",
        targets: ["bob@example.test", "x@elsewhere.test"],
      });
      const catchAll = await change("POST", "aliases", {
        source: "@example.test",
        targets: "bob@example.test",
      });
      assert.equal(catchAll.status, 201);
      const list = await call("GET", "aliases");
      assert.deepEqual(list.json.aliases.map((a: Json) => a.source), [
        "@example.test",
        "sales@example.test",
      ]);
      const bad = await change("POST", "aliases", { source: "a@example.test", targets: "nope" });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error, 'TARGET: "nope" is not a valid address (local@domain)');
      const missing = await change("POST", "aliases", { source: "a@example.test" });
      assert.equal(missing.json.error, "missing argument TARGET");
      const rm = await change("DELETE", `aliases/${encodeURIComponent("@example.test")}`);
      assert.equal(rm.status, 200);
      const gone = await change("DELETE", `aliases/${encodeURIComponent("@example.test")}`);
      assert.equal(gone.status, 404);
      assert.equal(gone.json.error, "no such alias @example.test");
    });

    await t.step("queue: list, retry, flush, drop; errors", async () => {
      const entry = await ts.store.enqueue(new TextEncoder().encode("Subject: q\r\n\r\nx\r\n"), {
        sender: "bob@example.test",
        recipients: [{ address: "far@remote.test", status: "pending" }],
        nextAttemptAt: Date.now() + 3_600_000,
        meta: {},
      });
      const list = await call("GET", "queue");
      assert.equal(list.json.queue.length, 1);
      assert.equal(list.json.queue[0].id, entry.id);
      assert.equal(list.json.queue[0].recipients[0].address, "far@remote.test");
      const before = Date.now();
      const retry = await change("POST", `queue/${entry.id}/retry`);
      assert.deepEqual(retry.json, { id: entry.id });
      assert.ok((await ts.store.getQueueEntry(entry.id))!.nextAttemptAt >= before);
      const flush = await change("POST", "queue/flush");
      assert.deepEqual(flush.json, { retried: 1 });
      const badId = await change("POST", "queue/abc/retry");
      assert.equal(badId.status, 400);
      assert.equal(badId.json.error, 'ID must be a number (got "abc")');
      const drop = await change("DELETE", `queue/${entry.id}`);
      assert.deepEqual(drop.json, { id: entry.id });
      const again = await change("DELETE", `queue/${entry.id}`);
      assert.equal(again.status, 404);
      assert.equal(again.json.error, `no such queue entry: ${entry.id}`);
    });

    await t.step("plugins and server views", async () => {
      const plugins = await call("GET", "plugins");
      assert.equal(plugins.status, 200);
      assert.deepEqual(plugins.json.plugins, []);
      const server = await call("GET", "server");
      assert.equal(server.status, 200);
      assert.equal(server.json.hostname, "mail.example.test");
      assert.equal(typeof server.json.version, "string");
      assert.ok(server.json.uptimeSeconds >= 0);
      const http = server.json.listeners.find((l: Json) => l.name === "http");
      assert.equal(http.port, ts.port("http"));
      assert.equal(server.json.certificate.selfSigned, true);
      assert.match(server.json.certificate.subject, /CN=/);
      assert.ok(Date.parse(server.json.certificate.notAfter) > Date.now());
      assert.ok(server.json.storage.bytes > 0);
      // The same over https, with a bearer token of the admin.
      const tls = Deno.createHttpClient({ caCerts: [ts.certPem] });
      try {
        const token = newApiToken();
        const root = (await ts.store.getAccount("root@example.test"))!;
        await ts.store.createApiToken(root.id, "admin", hashApiToken(token));
        const res = await fetch(`https://127.0.0.1:${ts.port("https")}/api/admin/server`, {
          headers: { authorization: `Bearer ${token}` },
          client: tls,
        } as RequestInit);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("cache-control"), "no-store");
        assert.equal(res.headers.get("x-content-type-options"), "nosniff");
        await res.body?.cancel();
      } finally {
        tls.close();
      }
    });

    await t.step(
      "audit: every change, who/when/what/where, newest first, paged, export",
      async () => {
        const page = await call("GET", "audit?limit=3");
        assert.equal(page.status, 200);
        assert.equal(page.json.entries.length, 3);
        assert.equal(page.json.entries[0].action, "queue.drop");
        assert.equal(page.json.entries[0].actor, "root@example.test");
        assert.equal(page.json.entries[0].ip, "127.0.0.1");
        assert.ok(Date.parse(page.json.entries[0].time) > 0);
        const ids = page.json.entries.map((e: Json) => e.id);
        assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
        const next = await call("GET", `audit?limit=3&before=${page.json.next}`);
        assert.ok(next.json.entries[0].id < ids[2]);
        const all = await fetch(`${base}/audit/export`, { headers: { authorization: ADMIN } });
        assert.match(all.headers.get("content-type") ?? "", /ndjson/);
        const lines = (await all.text()).trim().split("\n").map((l) => JSON.parse(l));
        const actions = lines.map((l) => l.action).reverse();
        for (
          const a of [
            "domain.add",
            "dkim.generate",
            "domain.remove",
            "user.add",
            "user.quota",
            "user.passwd",
            "user.role",
            "user.remove",
            "alias.set",
            "alias.remove",
            "queue.retry",
            "queue.flush",
            "queue.drop",
          ]
        ) assert.ok(actions.includes(a), a);
        // Refused calls leave nothing; passwords never appear.
        assert.equal(lines.filter((l) => l.action === "user.add").length, 2);
        assert.ok(!JSON.stringify(lines).includes('password"'));
        assert.ok(!JSON.stringify(lines).includes("carol-new-password"));
        const bad = await call("GET", "audit?limit=0");
        assert.equal(bad.status, 400);
      },
    );
  } finally {
    await ts.stop();
  }
});

Deno.test("admin cli: --admin, user role, the API's messages, audit as cli", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-admin-cli-" });
  const config = join(dir, "denomail.toml");
  await Deno.writeTextFile(config, `data_dir = "${dir}/data"\n`);
  try {
    const add = await cli(
      ["user", "add", "root@example.test", "--admin", "--password-stdin", "--config", config],
      { stdin: "root-password\n" },
    );
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stdout.trim(), "added user root@example.test (admin)");
    const role = await cli(["user", "role", "root@example.test", "user", "--config", config]);
    assert.equal(role.code, 0, role.stderr);
    assert.equal(role.stdout.trim(), "role of root@example.test: user");
    const bad = await cli(["user", "role", "root@example.test", "boss", "--config", config]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim(), "denomail: ROLE must be admin or user, not boss");
    const addr = await cli(["user", "add", "not-an-address", "--config", config]);
    assert.equal(addr.code, 2);
    // The same words the API answers with (the admin api test asserts that side).
    assert.equal(
      addr.stderr.trim(),
      'denomail: EMAIL: "not-an-address" is not a valid address (local@domain)',
    );
    const quota = await cli(["user", "quota", "root@example.test", "lots", "--config", config]);
    assert.equal(
      quota.stderr.trim(),
      'denomail: SIZE must be a number of bytes (or with K, M, G) or "none", not lots',
    );
    const { openStore } = await import("../storage/open.ts");
    const store = await openStore({ backend: "sqlite", dataDir: join(dir, "data") });
    try {
      const log = await store.listAudit({ limit: 10 });
      assert.deepEqual(log.map((e) => [e.action, e.actor]), [
        ["user.role", "cli"],
        ["user.add", "cli"],
      ]);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("admin cli: serve on a data dir without an admin says how to create one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-admin-serve-" });
  const config = join(dir, "denomail.toml");
  const off = [
    "smtp",
    "submission",
    "submissions",
    "imaps",
    "pop3",
    "pop3s",
    "managesieve",
    "http",
    "https",
  ]
    .map((n) => `${n} = ""`).join("\n");
  await Deno.writeTextFile(
    config,
    `data_dir = "${dir}/data"\n[listeners]\nimap = "127.0.0.1:0"\n${off}\n`,
  );
  try {
    const server = await startServerProcess(config, ["imap"]);
    try {
      const hint = /no admin account yet: create one with "deno task cli user add EMAIL --admin"/;
      for (let i = 0; i < 100 && !hint.test(server.log()); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(server.log(), hint);
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
