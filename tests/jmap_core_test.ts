/**
 * JMAP core (RFC 8620) over the http and https listeners: the session resource, Basic and
 * bearer auth, the API with result references and Core/echo, the request- and method-level
 * errors, upload/download, and the security headers. Requests follow the RFC's examples.
 */
import assert from "node:assert/strict";
import { startTestServer } from "./harness.ts";
import { cli } from "./lib/server_process.ts";
import { basic, CORE, JmapClient, type Json, MAIL } from "./lib/jmap_client.ts";

Deno.test("jmap core: session, auth, API, errors, blobs", async (t) => {
  const ts = await startTestServer({
    listeners: { http: "127.0.0.1:0", https: "127.0.0.1:0" },
  });
  const tlsClient = Deno.createHttpClient({ caCerts: [ts.certPem] });
  try {
    const alice = await ts.addUser("alice@example.test", "alice-password");
    await ts.addUser("bob@example.test", "bob-password");
    const http = `http://127.0.0.1:${ts.port("http")}`;
    const https = `https://127.0.0.1:${ts.port("https")}`;
    const jmap = new JmapClient(http, basic("alice@example.test", "alice-password"));
    const aliceId = `a${alice.id}`;

    await t.step("session resource (RFC 8620 §2) over https with Basic auth", async () => {
      const c = new JmapClient(https, basic("alice@example.test", "alice-password"), tlsClient);
      const res = await c.fetch("/.well-known/jmap");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("cache-control"), "no-store");
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(res.headers.get("referrer-policy"), "no-referrer");
      const s = await res.json();
      const core = s.capabilities[CORE];
      for (
        const k of [
          "maxSizeUpload",
          "maxConcurrentUpload",
          "maxSizeRequest",
          "maxConcurrentRequests",
          "maxCallsInRequest",
          "maxObjectsInGet",
          "maxObjectsInSet",
        ]
      ) assert.equal(typeof core[k], "number", k);
      assert.ok(Array.isArray(core.collationAlgorithms));
      assert.ok(s.capabilities[MAIL]);
      assert.deepEqual(Object.keys(s.accounts), [aliceId]);
      assert.equal(s.accounts[aliceId].name, "alice@example.test");
      assert.equal(s.accounts[aliceId].isPersonal, true);
      assert.equal(s.primaryAccounts[MAIL], aliceId);
      assert.equal(s.username, "alice@example.test");
      assert.equal(s.apiUrl, `${https}/jmap/api/`);
      assert.match(s.downloadUrl, /\{accountId\}.*\{blobId\}.*\{name\}.*\{type\}/);
      assert.match(s.uploadUrl, /\{accountId\}/);
      assert.match(s.eventSourceUrl, /\{types\}.*\{closeafter\}.*\{ping\}/);
      assert.equal(typeof s.state, "string");

      // RFC 8621 §1.3.1: emailQuerySortOptions lists exactly what Email/query can sort by.
      const sortOptions = s.accounts[aliceId].accountCapabilities[MAIL].emailQuerySortOptions;
      assert.deepEqual([...sortOptions].sort(), ["receivedAt", "size"]);
      const sorted = await jmap.api(sortOptions.map((property: string, i: number) => [
        "Email/query",
        { accountId: aliceId, sort: [{ property, isAscending: true }] },
        `${i}`,
      ]));
      for (const [name] of sorted) assert.equal(name, "Email/query");
    });

    await t.step(
      "credentials: missing, wrong, malformed -> 401; every response hardened",
      async () => {
        const none = await fetch(`${http}/.well-known/jmap`);
        assert.equal(none.status, 401);
        assert.match(none.headers.get("www-authenticate") ?? "", /Basic/);
        assert.equal(none.headers.get("cache-control"), "no-store");
        await none.body?.cancel();
        const wrong = new JmapClient(http, basic("alice@example.test", "nope"));
        const r = await wrong.fetch("/.well-known/jmap");
        assert.equal(r.status, 401);
        await r.body?.cancel();
        const bad = await jmap.fetch("/.well-known/jmap", {
          headers: { authorization: "Basic !!!" },
        });
        assert.equal(bad.status, 401);
        await bad.body?.cancel();
        const health = await fetch(`${http}/healthz`);
        assert.equal(health.headers.get("x-content-type-options"), "nosniff");
        await health.body?.cancel();
      },
    );

    await t.step("bearer tokens: token create / list / revoke through the CLI", async () => {
      const configPath = `${ts.dir}/denomail.toml`;
      await Deno.writeTextFile(
        configPath,
        `hostname = "mail.example.test"\ndata_dir = "${ts.dir}"\n`,
      );
      const created = await cli([
        "token",
        "create",
        "alice@example.test",
        "--name",
        "phone",
        "--config",
        configPath,
      ]);
      assert.equal(created.code, 0, created.stderr);
      const token = created.stdout.trim();
      assert.match(token, /^dmt_[A-Za-z0-9_-]{43}$/);
      const bearer = new JmapClient(http, `Bearer ${token}`);
      assert.deepEqual(Object.keys((await bearer.session()).accounts), [aliceId]);
      // Over https too.
      const overTls = new JmapClient(https, `Bearer ${token}`, tlsClient);
      assert.equal((await overTls.session()).username, "alice@example.test");

      const list = await cli(["token", "list", "alice@example.test", "--config", configPath]);
      assert.equal(list.code, 0, list.stderr);
      const [id, , name] = list.stdout.trim().split("\t");
      assert.equal(name, "phone");
      assert.ok(!list.stdout.includes(token), "the token is never shown again");
      for (const file of ["denomail.db", "denomail.db-wal"]) {
        const bytes = await Deno.readFile(`${ts.dir}/${file}`).catch(() => new Uint8Array());
        const raw = new TextDecoder("latin1").decode(bytes);
        assert.ok(!raw.includes(token), `the token is not stored (${file})`);
      }

      const revoked = await cli(["token", "revoke", id, "--config", configPath]);
      assert.equal(revoked.code, 0, revoked.stderr);
      const after = await bearer.fetch("/.well-known/jmap");
      assert.equal(after.status, 401);
      await after.body?.cancel();
      const again = await cli(["token", "revoke", id, "--config", configPath]);
      assert.equal(again.code, 2);
      const nobody = await cli(["token", "create", "nobody@example.test", "--config", configPath]);
      assert.equal(nobody.code, 2);
    });

    await t.step("Core/echo and result references (RFC 8620 §4.1, §3.7)", async () => {
      const responses = await jmap.api([
        ["Core/echo", { hello: true, high: 5, list: [{ id: "x" }, { id: "y" }] }, "c1"],
        ["Core/echo", { "#ids": { resultOf: "c1", name: "Core/echo", path: "/list/*/id" } }, "c2"],
      ]);
      assert.deepEqual(responses[0], [
        "Core/echo",
        { hello: true, high: 5, list: [{ id: "x" }, { id: "y" }] },
        "c1",
      ]);
      assert.deepEqual(responses[1], ["Core/echo", { ids: ["x", "y"] }, "c2"]);
    });

    await t.step("__proto__ and friends are plain data", async () => {
      const body = '{"using":["urn:ietf:params:jmap:core"],"methodCalls":[["Core/echo",' +
        '{"__proto__":{"polluted":1},"constructor":"c"},"c1"]]}';
      const { status, json } = await jmap.post(body);
      assert.equal(status, 200);
      const args = json.methodResponses[0][1];
      assert.equal(args.constructor, "c");
      assert.deepEqual(Object.keys(args).sort(), ["__proto__", "constructor"]);
      assert.equal(({} as Json).polluted, undefined);
    });

    await t.step("request-level errors (RFC 8620 §3.6.1)", async () => {
      const notJson = await jmap.post("{ nope");
      assert.equal(notJson.status, 400);
      assert.equal(notJson.json.type, "urn:ietf:params:jmap:error:notJSON");
      assert.equal(notJson.res.headers.get("content-type"), "application/problem+json");

      // §3.6.1: a request whose content type is not application/json is notJSON too.
      const echo = JSON.stringify({ using: [CORE], methodCalls: [["Core/echo", {}, "c0"]] });
      for (const type of ["text/plain", "application/x-www-form-urlencoded", null]) {
        const res = await jmap.fetch("/jmap/api/", {
          method: "POST",
          headers: type === null ? {} : { "content-type": type },
          body: type === null ? new TextEncoder().encode(echo) : echo,
        });
        assert.equal(res.status, 400, `content type ${type}`);
        assert.equal((await res.json()).type, "urn:ietf:params:jmap:error:notJSON");
      }
      const withCharset = await jmap.fetch("/jmap/api/", {
        method: "POST",
        headers: { "content-type": "Application/JSON; charset=utf-8" },
        body: echo,
      });
      assert.equal(withCharset.status, 200);
      await withCharset.body?.cancel();

      const notRequest = await jmap.post('{"using": "x"}');
      assert.equal(notRequest.json.type, "urn:ietf:params:jmap:error:notRequest");

      const unknown = await jmap.post(
        JSON.stringify({ using: [CORE, "urn:example:nope"], methodCalls: [] }),
      );
      assert.equal(unknown.json.type, "urn:ietf:params:jmap:error:unknownCapability");

      const session = await jmap.session();
      const maxCalls = session.capabilities[CORE].maxCallsInRequest;
      const many = await jmap.post(JSON.stringify({
        using: [CORE],
        methodCalls: Array.from({ length: 10_000 }, (_, i) => ["Core/echo", {}, `c${i}`]),
      }));
      assert.equal(many.status, 400);
      assert.equal(many.json.type, "urn:ietf:params:jmap:error:limit");
      assert.equal(many.json.limit, "maxCallsInRequest");
      assert.ok(maxCalls < 10_000);

      const big = await jmap.post(
        new Uint8Array(session.capabilities[CORE].maxSizeRequest + 1).fill(0x20),
      );
      assert.equal(big.status, 400);
      assert.equal(big.json.limit, "maxSizeRequest");

      const deep = await jmap.post("[".repeat(100_000) + "]".repeat(100_000));
      assert.equal(deep.status, 400);
      assert.equal(deep.json.type, "urn:ietf:params:jmap:error:notRequest");

      const get = await jmap.fetch("/jmap/api/");
      assert.equal(get.status, 405);
      await get.body?.cancel();
    });

    await t.step("method-level errors (RFC 8620 §3.6.2)", async () => {
      const r = await jmap.api([
        ["Nope/get", {}, "0"],
        ["Core/echo", { "#x": { resultOf: "missing", name: "Core/echo", path: "/x" } }, "1"],
        ["Core/echo", { "#x": { resultOf: "1", name: "Core/echo", path: "/x" } }, "2"],
        ["Core/echo", { a: 1 }, "3"],
        ["Core/echo", { "#b": { resultOf: "3", name: "Core/echo", path: "/nope" } }, "4"],
        ["Core/echo", { "#self": { resultOf: "5", name: "Core/echo", path: "" } }, "5"],
        ["Mailbox/get", { accountId: aliceId, bogus: 1 }, "6"],
        ["Mailbox/get", { accountId: "a999999" }, "7"],
        ["Core/echo", { a: 1, "#a": { resultOf: "3", name: "Core/echo", path: "/a" } }, "8"],
      ]);
      assert.deepEqual(r.map((x: Json) => [x[0], x[1].type, x[2]]), [
        ["error", "unknownMethod", "0"],
        ["error", "invalidResultReference", "1"],
        ["error", "invalidResultReference", "2"], // 1 answered "error", not Core/echo
        ["Core/echo", undefined, "3"],
        ["error", "invalidResultReference", "4"],
        ["error", "invalidResultReference", "5"],
        ["error", "invalidArguments", "6"],
        ["error", "accountNotFound", "7"],
        ["error", "invalidArguments", "8"],
      ]);
      // A method outside `using` is unknown (RFC 8620 §3.6.2).
      const [[name, args]] = await jmap.api([["Mailbox/get", { accountId: aliceId }, "0"]], [CORE]);
      assert.deepEqual([name, args.type], ["error", "unknownMethod"]);
    });

    await t.step("upload and download round-trip byte-exact; other accounts refused", async () => {
      const bytes = new Uint8Array(70_000).map((_, i) => (i * 7) & 0xff);
      const up = await jmap.fetch(`/jmap/upload/${aliceId}/`, {
        method: "POST",
        headers: { "content-type": "image/png" },
        body: bytes,
      });
      assert.equal(up.status, 201);
      const info = await up.json();
      assert.equal(info.accountId, aliceId);
      assert.equal(info.size, bytes.length);
      assert.equal(info.type, "image/png");
      const down = await jmap.fetch(
        `/jmap/download/${aliceId}/${info.blobId}/pic%20one.png?accept=image/png`,
      );
      assert.equal(down.status, 200);
      assert.equal(down.headers.get("content-type"), "image/png");
      assert.match(
        down.headers.get("content-disposition") ?? "",
        /filename\*=UTF-8''pic%20one\.png/,
      );
      assert.deepEqual(new Uint8Array(await down.arrayBuffer()), bytes);

      const bob = new JmapClient(http, basic("bob@example.test", "bob-password"));
      const stolen = await bob.fetch(`/jmap/download/${aliceId}/${info.blobId}/x`);
      assert.equal(stolen.status, 404);
      await stolen.body?.cancel();
      const bobId = Object.keys((await bob.session()).accounts)[0];
      const guessed = await bob.fetch(`/jmap/download/${bobId}/${info.blobId}/x`);
      assert.equal(guessed.status, 404, "an upload id of another account");
      await guessed.body?.cancel();
      const into = await bob.fetch(`/jmap/upload/${aliceId}/`, { method: "POST", body: "x" });
      assert.equal(into.status, 404);
      await into.body?.cancel();

      const max = (await jmap.session()).capabilities[CORE].maxSizeUpload;
      const tooBig = await jmap.fetch(`/jmap/upload/${aliceId}/`, {
        method: "POST",
        body: new Uint8Array(max + 1),
      });
      assert.equal(tooBig.status, 413);
      assert.equal((await tooBig.json()).limit, "maxSizeUpload");
    });
  } finally {
    tlsClient.close();
    await ts.stop();
  }
});

Deno.test("jmap auth: plaintext credentials only from loopback when allowed; failures throttled", async () => {
  const ts = await startTestServer({
    listeners: { http: "127.0.0.1:0", https: "127.0.0.1:0" },
    auth: {
      allow_plaintext_loopback: false,
      throttle_exempt: [],
      max_failures_per_address: 3,
    },
  });
  const tlsClient = Deno.createHttpClient({ caCerts: [ts.certPem] });
  try {
    await ts.addUser("carol@example.test", "carol-password");
    const good = basic("carol@example.test", "carol-password");
    const plain = await fetch(`http://127.0.0.1:${ts.port("http")}/.well-known/jmap`, {
      headers: { authorization: good },
    });
    assert.equal(plain.status, 403, "no password over plain http");
    await plain.body?.cancel();
    const https = `https://127.0.0.1:${ts.port("https")}`;
    const ok = new JmapClient(https, good, tlsClient);
    assert.equal((await ok.session()).username, "carol@example.test");

    const wrong = new JmapClient(https, basic("carol@example.test", "wrong"), tlsClient);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await wrong.fetch("/.well-known/jmap");
      statuses.push(r.status);
      await r.body?.cancel();
    }
    assert.deepEqual(statuses.slice(0, 2), [401, 401]);
    assert.equal(statuses.at(-1), 429, `statuses: ${statuses}`);
    const tok = new JmapClient(https, "Bearer dmt_nope", tlsClient);
    const r = await tok.fetch("/.well-known/jmap");
    assert.equal(r.status, 429, "the same throttle covers tokens");
    assert.ok(Number(r.headers.get("retry-after")) >= 1);
    await r.body?.cancel();
  } finally {
    tlsClient.close();
    await ts.stop();
  }
});

Deno.test("jmap limits: maxConcurrentRequests and maxConcurrentUpload per user", async () => {
  const ts = await startTestServer({ listeners: { http: "127.0.0.1:0" } });
  try {
    const dana = await ts.addUser("dana@example.test", "dana-password");
    const http = `http://127.0.0.1:${ts.port("http")}`;
    const jmap = new JmapClient(http, basic("dana@example.test", "dana-password"));
    const core = (await jmap.session()).capabilities[CORE];
    // Requests whose bodies never finish hold their slot while the server reads them. One
    // refused because a probe below held a slot at that moment is sent again, so that all
    // of them end up holding one.
    const stalled: Array<ReadableStreamDefaultController<Uint8Array>> = [];
    let releasing = false;
    const holdOne = (path: string): Promise<void> =>
      jmap.fetch(path, {
        method: "POST",
        body: new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode("{"));
            stalled.push(c);
          },
        }),
        duplex: "half",
      } as RequestInit).then(async (r) => {
        await r.body?.cancel();
        if (!releasing && r.status === 400) await holdOne(path);
      }).catch(() => {});
    const hold = (path: string, n: number) => Array.from({ length: n }, () => holdOne(path));
    const held = [
      ...hold("/jmap/api/", core.maxConcurrentRequests),
      ...hold(`/jmap/upload/a${dana.id}/`, core.maxConcurrentUpload),
    ];
    // The held requests are in once a new one is refused (their logins take a while on a
    // loaded machine: a fixed wait here was a guess); a probe that is let in ends at once.
    const refused = async (probe: () => Promise<{ status: number; limit?: string }>) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const r = await probe();
        if (r.status >= 300 || Date.now() > deadline) return r;
        await new Promise((res) => setTimeout(res, 20));
      }
    };
    const over = await refused(async () => {
      const r = await jmap.post(JSON.stringify({ using: [CORE], methodCalls: [] }));
      return { status: r.status, limit: r.json?.limit };
    });
    assert.equal(over.status, 400);
    assert.equal(over.limit, "maxConcurrentRequests");
    const up = await refused(async () => {
      const r = await jmap.fetch(`/jmap/upload/a${dana.id}/`, { method: "POST", body: "x" });
      if (r.status < 300) {
        await r.body?.cancel();
        return { status: r.status };
      }
      return { status: r.status, limit: (await r.json()).limit };
    });
    assert.equal(up.status, 400);
    assert.equal(up.limit, "maxConcurrentUpload");
    // The held ones end (as notJSON and a 1-byte upload).
    releasing = true;
    for (const c of stalled) {
      try {
        c.close();
      } catch { /* a refused one's body, already cancelled */ }
    }
    await Promise.all(held);
    const [[name]] = await jmap.api([["Core/echo", {}, "0"]], [CORE]);
    assert.equal(name, "Core/echo", "slots are given back");
  } finally {
    await ts.stop();
  }
});
