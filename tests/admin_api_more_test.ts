/**
 * The admin API routes of the console's later pages, over HTTP against a running server:
 * the DNS check through a loopback DNS server, one-time sign-up links (made by an admin,
 * used once by the new user, who then logs in over IMAP), Activity (a failed IMAP login by
 * python imaplib and an unknown recipient refused to python smtplib show up, searchable),
 * the OpenPGP key status of users, the queue's bounce marks, plugin reload under `serve`,
 * and the audit entries every change leaves.
 */
import assert from "node:assert/strict";
import * as openpgp from "openpgp";
import { python, startTestServer } from "./harness.ts";
import { startDnsServer } from "./lib/dns_server.ts";
import { basic, type Json } from "./lib/jmap_client.ts";
import { cli, startDenomailProcess } from "./lib/server_process.ts";
import { smtpDialog } from "./smtp_helpers.ts";

const ADMIN = basic("root@example.test", "root-password");

/** Calls the API at `base` as `auth`; the JSON answer. */
async function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  auth: string | null = ADMIN,
): Promise<{ status: number; json: Json }> {
  const headers = new Headers();
  if (auth) headers.set("authorization", auth);
  if (method !== "GET") headers.set("content-type", "application/json");
  const res = await fetch(`${base}/${path}`, {
    method,
    headers,
    body: method === "GET" ? undefined : JSON.stringify(body ?? {}),
  });
  const text = await res.text();
  let json: Json = null;
  try {
    json = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, json };
}

/** Python imaplib logging in; "ok" or the error. */
async function imapLogin(port: number, user: string, pass: string): Promise<string> {
  const r = await python(
    `
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
try:
    m.login(sys.argv[2], sys.argv[3])
    print("ok")
    m.logout()
except imaplib.IMAP4.error as e:
    print("refused", e)
`,
    [String(port), user, pass],
  );
  return r.stdout.trim();
}

Deno.test("admin api: dns check, sign-up links, activity, key status, reload", async (t) => {
  const dns = await startDnsServer();
  const ts = await startTestServer({
    listeners: { http: "127.0.0.1:0" },
    dns: { nameserver: dns.nameserver },
    auth: { throttle_exempt: [], max_failures_per_address: 3 },
  });
  await ts.server.queue.stop();
  const base = `http://127.0.0.1:${ts.port("http")}/api/admin`;
  const call = (method: string, path: string, body?: unknown, auth?: string | null) =>
    api(base, method, path, body, auth);
  try {
    await ts.addUser("root@example.test", "root-password");
    await ts.store.setAdmin("root@example.test", true);
    await ts.addUser("bob@example.test", "bob-password");

    await t.step("GET domains/D/dns: the complete set, structured", async () => {
      const r = await call("GET", "domains/example.test/dns");
      assert.equal(r.status, 200);
      const byKey = new Map(r.json.records.map((x: Json) => [`${x.name} ${x.type}`, x]));
      for (
        const k of [
          "example.test. MX",
          "_dmarc.example.test. TXT",
          "_mta-sts.example.test. TXT",
          "mta-sts.example.test. CNAME",
          "_smtp._tls.example.test. TXT",
          "autoconfig.example.test. CNAME",
          "autodiscover.example.test. CNAME",
          "_submission._tcp.example.test. SRV",
          "_imaps._tcp.example.test. SRV",
          "_25._tcp.mail.example.test. TLSA",
        ]
      ) assert.ok(byKey.has(k), k);
      const tlsa = byKey.get("_25._tcp.mail.example.test. TLSA") as Json;
      assert.match(tlsa.value, /^3 1 1 [0-9a-f]{64}$/);
      assert.equal(typeof tlsa.why, "string");
      // No DKIM key yet: said in a note, not a record.
      assert.ok(r.json.notes.some((n: string) => n.includes("dkim generate example.test")));
    });

    await t.step("GET domains/D/dns/check: OK, missing, wrong, one row each", async () => {
      dns.zone.set("example.test", {
        MX: [{ preference: 10, exchange: "mail.example.test" }],
        TXT: ["v=spf1 mx ~all"],
      });
      dns.zone.set("_dmarc.example.test", { TXT: ["v=DMARC1; p=none"] });
      const r = await call("GET", "domains/example.test/dns/check");
      assert.equal(r.status, 200);
      assert.equal(r.json.ok, false);
      const status = new Map(r.json.checks.map((c: Json) => [`${c.name} ${c.type}`, c]));
      assert.equal((status.get("example.test. MX") as Json).status, "ok");
      assert.equal((status.get("example.test. TXT") as Json).status, "ok");
      const dmarc = status.get("_dmarc.example.test. TXT") as Json;
      assert.equal(dmarc.status, "wrong");
      assert.deepEqual(dmarc.found, ["v=DMARC1; p=none"]);
      assert.match(dmarc.value, /^v=DMARC1; p=quarantine; rua=mailto:postmaster@example\.test$/);
      assert.equal((status.get("_imaps._tcp.example.test. SRV") as Json).status, "missing");
      const bad = await call("GET", "domains/bad_domain/dns/check");
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error, 'domain: "bad_domain" is not a valid domain name');
    });

    let token = "";
    await t.step(
      "POST invites: a one-time sign-up link; errors as user add words them",
      async () => {
        const r = await call("POST", "invites", { email: "New@Example.TEST" });
        assert.equal(r.status, 201);
        assert.equal(r.json.email, "new@example.test");
        assert.match(r.json.path, /^\/signup\/dmt_[A-Za-z0-9_-]+$/);
        assert.ok(Date.parse(r.json.expiresAt) > Date.now());
        token = r.json.token;
        const dup = await call("POST", "invites", { email: "bob@example.test" });
        assert.equal(dup.status, 409);
        assert.equal(dup.json.error, "user bob@example.test already exists");
        const bad = await call("POST", "invites", { email: "nope" });
        assert.equal(bad.status, 400);
        assert.equal(bad.json.error, 'EMAIL: "nope" is not a valid address (local@domain)');
        const typo = await call("POST", "invites", { email: "x@exmple.test" });
        assert.match(typo.json.error, /did you mean example\.test\?/);
        assert.equal((await call("POST", "invites", { email: "x@a.test" }, null)).status, 401);
        assert.equal(
          (await call(
            "POST",
            "invites",
            { email: "x@a.test" },
            basic("bob@example.test", "bob-password"),
          ))
            .status,
          403,
        );
      },
    );

    await t.step("the link: address shown, password set once, then IMAP login works", async () => {
      const signup = `http://127.0.0.1:${ts.port("http")}/api/signup/${token}`;
      const info = await fetch(signup);
      assert.equal(info.status, 200);
      assert.equal((await info.json()).email, "new@example.test");
      const post = (body: unknown, type = "application/json") =>
        fetch(signup, {
          method: "POST",
          headers: { "content-type": type },
          body: JSON.stringify(body),
        });
      const form = await post({ password: "x" }, "text/plain");
      assert.equal(form.status, 415);
      await form.body?.cancel();
      const short = await post({ password: "short" });
      assert.equal(short.status, 400);
      assert.equal((await short.json()).error, "password must be at least 8 characters");
      // A refused password does not use the link up.
      const ok = await post({ password: "new-user-password" });
      assert.equal(ok.status, 201);
      assert.deepEqual(await ok.json(), { email: "new@example.test" });
      assert.equal(await imapLogin(ts.port("imap"), "new@example.test", "new-user-password"), "ok");
      const again = await post({ password: "another-password" });
      assert.equal(again.status, 404);
      assert.equal(
        (await again.json()).error,
        "this sign-up link is unknown, already used or expired",
      );
      const gone = await fetch(signup);
      assert.equal(gone.status, 404);
      await gone.body?.cancel();
      const junk = await fetch(`http://127.0.0.1:${ts.port("http")}/api/signup/not-a-token`);
      assert.equal(junk.status, 404);
      await junk.body?.cancel();
    });

    await t.step("activity: a failed IMAP login and an unknown recipient, searchable", async () => {
      assert.match(
        await imapLogin(ts.port("imap"), "bob@example.test", "wrong-password"),
        /^refused/,
      );
      const replies = await smtpDialog(ts.port("smtp"), [
        ["ehlo"],
        ["cmd", "MAIL FROM:<spammer@elsewhere.test>"],
        ["cmd", "RCPT TO:<nobody@example.test>"],
        ["cmd", "RCPT TO:<someone@not-ours.test>"],
        ["cmd", "QUIT"],
      ]);
      assert.deepEqual(replies.slice(3, 5).map((r) => r[0]), [550, 550]);
      const failed = await call("GET", "activity?kind=login_failed");
      assert.equal(failed.status, 200);
      const login = failed.json.events.find((e: Json) => e.addresses.includes("bob@example.test"));
      assert.ok(login, JSON.stringify(failed.json.events));
      assert.equal(login.protocol, "imap");
      assert.equal(login.ip, "127.0.0.1");
      const refused = await call("GET", "activity?kind=refused&address=NOBODY@example");
      assert.equal(refused.json.events.length, 1, JSON.stringify(refused.json.events));
      assert.equal(refused.json.events[0].reason, "unknown_recipient");
      assert.ok(refused.json.events[0].addresses.includes("spammer@elsewhere.test"));
      const relay = await call("GET", "activity?address=not-ours.test");
      assert.equal(relay.json.events[0].reason, "relay");
      const byIp = await call("GET", "activity?ip=127.0.0.1&limit=500");
      assert.ok(byIp.json.events.length >= 3);
      assert.equal((await call("GET", "activity?ip=192.0.2.")).json.events.length, 0);
      const hourly = (await call("GET", "activity")).json.hourly;
      assert.equal(hourly.length, 24);
      const now = hourly[23];
      assert.ok(now.refused >= 2 && now.loginFailed >= 1, JSON.stringify(now));
      assert.equal((await call("GET", "activity?kind=nonsense")).status, 400);
      assert.equal((await call("GET", "activity?limit=0")).status, 400);
      // The log line of each refusal is where the event came from.
    });

    await t.step("activity: a received message by its id, and a delivery", async () => {
      const replies = await smtpDialog(ts.port("smtp"), [
        ["ehlo"],
        ["sendmail", "friend@elsewhere.test", ["bob@example.test"], "Subject: hi\r\n\r\nhello\r\n"],
      ]);
      assert.equal(replies[2][0], 250);
      const got = await call("GET", "activity?kind=received&address=friend@elsewhere.test");
      assert.equal(got.json.events.length, 1);
      const id = got.json.events[0].message;
      assert.ok(id.length > 0);
      const byId = await call("GET", `activity?message=${encodeURIComponent(id)}`);
      assert.equal(byId.json.events[0].kind, "received");
      assert.ok((await call("GET", "activity")).json.hourly[23].in >= 1);
    });

    await t.step("throttled addresses: failed logins from 127.0.0.2 get it listed", async () => {
      // Loopback is not exempt on this server (throttle_exempt = []); 127.0.0.2 is another
      // address, so the admin's own calls from 127.0.0.1 are not slowed down.
      const started = Date.now();
      const r = await python(
        `
import socket, sys
conns = []
for i in range(6):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30, source_address=("127.0.0.2", 0))
    f = s.makefile("rb")
    f.readline()
    conns.append((s, f))
for s, f in conns:
    s.sendall(b'a LOGIN "bob@example.test" "wrong"\\r\\n')
for s, f in conns:
    print(f.readline().decode().strip())
    s.close()
`,
        [String(ts.port("imap"))],
      );
      assert.match(r.stdout, /a NO/);
      const asked = Date.now();
      const a = (await call("GET", "activity")).json;
      const b = a.throttled.find((x: Json) => x.address === "127.0.0.2");
      // The wait (1 s) began after `started`: asked within it, the address must be listed.
      if (asked < started + 1000) {
        assert.ok(b, JSON.stringify(a.throttled));
        assert.ok(b.failures >= 3 && Date.parse(b.until) > started);
      }
      const ev = await call("GET", "activity?kind=throttled&ip=127.0.0.2");
      assert.ok(ev.json.events.length >= 1);
      assert.ok(ev.json.events[0].addresses.includes("bob@example.test"));
    });

    await t.step("users: OpenPGP key status", async () => {
      const { publicKey } = await openpgp.generateKey({
        type: "ecc",
        curve: "curve25519Legacy" as never,
        userIDs: [{ email: "bob@example.test" }],
        format: "armored",
      });
      await ts.store.kvSet("plugin:encrypt", "key:bob@example.test", publicKey);
      const users = (await call("GET", "users")).json.users;
      const bob = users.find((u: Json) => u.email === "bob@example.test");
      const key = await openpgp.readKey({ armoredKey: publicKey });
      assert.equal(bob.key.fingerprint, key.getFingerprint().toUpperCase());
      assert.equal(users.find((u: Json) => u.email === "root@example.test").key, null);
    });

    await t.step("queue: bounces are marked; plugins; reload needs serve", async () => {
      const e = await ts.store.enqueue(new TextEncoder().encode("Subject: b\r\n\r\nx\r\n"), {
        sender: "",
        recipients: [{ address: "far@remote.test", status: "pending" }],
        nextAttemptAt: Date.now() + 3_600_000,
        meta: { bounceOf: 7, action: "failed" },
      });
      const q = (await call("GET", "queue")).json.queue;
      const entry = q.find((x: Json) => x.id === e.id);
      assert.equal(entry.bounceOf, 7);
      assert.equal(entry.notice, "failed");
      const server = (await call("GET", "server")).json;
      const m = new Map(server.metrics.map((x: Json) => [x.name, x.value]));
      assert.equal(m.get("denomail_up"), 1);
      assert.equal(m.get("denomail_queue_entries"), (await ts.store.listQueue()).length);
      const plugins = await call("GET", "plugins");
      assert.deepEqual(plugins.json.plugins, []);
      assert.equal(typeof plugins.json.figures, "boolean");
      const reload = await call("POST", "plugins/reload");
      assert.equal(reload.status, 409);
      assert.match(reload.json.error, /not started by serve/);
    });

    await t.step("audit: invites, sign-ups and reloads", async () => {
      const lines =
        (await (await fetch(`${base}/audit/export`, { headers: { authorization: ADMIN } }))
          .text()).trim().split("\n").map((l) => JSON.parse(l));
      const invite = lines.find((l) => l.action === "user.invite");
      assert.equal(invite.actor, "root@example.test");
      assert.equal(invite.target, "new@example.test");
      const signup = lines.find((l) => l.action === "user.add" && l.target === "new@example.test");
      assert.equal(signup.actor, "new@example.test", "the sign-up is the new user's own act");
      assert.ok(!JSON.stringify(lines).includes(token), "the token is never logged");
      assert.ok(!JSON.stringify(lines).includes("new-user-password"));
    });
  } finally {
    await ts.stop();
    await dns.close();
  }
});

Deno.test("admin api: POST plugins/reload reloads a running serve and is audited", async () => {
  const srv = await startDenomailProcess({
    prefix: "denomail-admin-reload-",
    listen: ["http"],
    user: ["root@example.test", "root-password"],
  });
  try {
    const role = await cli([
      "user",
      "role",
      "root@example.test",
      "admin",
      "--config",
      srv.configPath,
    ]);
    assert.equal(role.code, 0, role.stderr);
    const base = `http://127.0.0.1:${srv.proc.ports.http}/api/admin`;
    const r = await api(base, "POST", "plugins/reload");
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json, { ok: true });
    const audit = await api(base, "GET", "audit?limit=1");
    assert.equal(audit.json.entries[0].action, "plugin.reload");
    // The same reload as SIGHUP: its status file says so.
    const status = JSON.parse(await Deno.readTextFile(`${srv.dir}/data/plugins-reload.json`));
    assert.equal(status.ok, true);
    // user invite from the CLI prints the link to open.
    const inv = await cli(["user", "invite", "cli@example.test", "--config", srv.configPath]);
    assert.equal(inv.code, 0, inv.stderr);
    assert.match(inv.stdout, /^https:\/\/mail\.example\.test\/signup\/dmt_[A-Za-z0-9_-]+$/m);
  } finally {
    await srv.stop();
  }
});

Deno.test("login throttle: blocked() lists the addresses that must wait, until when", async () => {
  const { LoginThrottle } = await import("../core/auth/throttle.ts");
  let now = 1_000_000;
  const th = new LoginThrottle({ maxFailuresPerAddress: 2, exempt: [] }, () => now);
  for (let i = 0; i < 2; i++) {
    const a = th.begin("192.0.2.7", "bob@example.test");
    assert.ok(a.ok);
    a.attempt.fail();
  }
  const [b] = th.blocked();
  assert.equal(b.address, "192.0.2.7");
  assert.equal(b.failures, 2);
  assert.ok(b.until > now);
  assert.equal(th.begin("192.0.2.7", "bob@example.test").ok, false);
  now = b.until;
  assert.deepEqual(th.blocked(), []);
});

Deno.test("admin api: a plugin's RCPT reject shows under activity as a plugin reject", async () => {
  const hello = new URL("./fixtures/plugins/hello.ts", import.meta.url).pathname;
  const ts = await startTestServer({
    listeners: { http: "127.0.0.1:0" },
    plugins: [{ name: "hello", module: hello }],
  });
  try {
    await ts.addUser("root@example.test", "root-password");
    await ts.store.setAdmin("root@example.test", true);
    await ts.addUser("x@blocked.test", "x-password");
    const replies = await smtpDialog(ts.port("smtp"), [
      ["ehlo"],
      ["cmd", "MAIL FROM:<a@elsewhere.test>"],
      ["cmd", "RCPT TO:<x@blocked.test>"],
      ["cmd", "QUIT"],
    ]);
    assert.equal(replies[3][0], 550);
    const base = `http://127.0.0.1:${ts.port("http")}/api/admin`;
    const r = await api(base, "GET", "activity?kind=refused&address=x@blocked.test");
    assert.equal(r.json.events.length, 1, JSON.stringify(r.json));
    assert.equal(r.json.events[0].reason, "plugin");
    assert.match(r.json.events[0].detail, /blocked\.test is not welcome/);
    const plugins = (await api(base, "GET", "plugins")).json;
    assert.equal(plugins.plugins[0].name, "hello");
    assert.equal(plugins.plugins[0].state, "ready");
  } finally {
    await ts.stop();
  }
});

Deno.test("plugin figures: calls, p50/p99 from the host's histogram, verdicts", async () => {
  const { pluginFigures } = await import("../protocols/http/admin/plugin_stats.ts");
  assert.equal(pluginFigures(undefined), null);
  const host = {
    stats: () => [{
      name: "spam",
      // 90 calls <= 1 ms, 9 <= 10 ms, 1 past the last bucket (+Inf).
      calls: {
        rcpt: { calls: 50, buckets: [50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], seconds: 0.02 },
        data: { calls: 50, buckets: [40, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], seconds: 20 },
      },
      verdicts: { continue: 97, reject: 2, error: 1 },
      timeouts: 1,
      errors: 0,
      restarts: 0,
    }],
  };
  // deno-lint-ignore no-explicit-any
  const f = pluginFigures(host as any)!.get("spam")!;
  assert.equal(f.calls, 100);
  assert.equal(f.p50Ms, 1);
  assert.equal(f.p99Ms, 10);
  assert.deepEqual(f.verdicts, { continue: 97, reject: 2, error: 1 });
  host.stats()[0].calls.data.buckets[13] = 5;
  const g = pluginFigures({
    stats: () => [{
      ...host.stats()[0],
      calls: {
        data: { calls: 2, buckets: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], seconds: 20 },
      },
    }],
    // deno-lint-ignore no-explicit-any
  } as any)!.get("spam")!;
  assert.equal(g.p99Ms, ">10000");
});
