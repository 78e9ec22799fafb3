/**
 * The https front used with TLS-ALPN-01 (protocols/http/alpn_front.ts): ordinary clients
 * reach the https server through it with their own address (never the relay's loopback
 * one), an "acme-tls/1" handshake with no pending challenge is dropped, one with a pending
 * challenge completes with openssl's client (our TLS 1.3 responder, checked by another
 * implementation than pebble's Go), and the ClientHello parser fed garbage returns instead
 * of throwing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startHttp } from "../protocols/http/mod.ts";
import { Router, text } from "../protocols/http/router.ts";
import { parseClientHello } from "../core/acme/client_hello.ts";
import { run } from "./harness.ts";
import { AcmeChallenges } from "../core/acme/challenges.ts";
import { challengeCertificate } from "../core/acme/csr.ts";
import { EcKey } from "../core/acme/jws.ts";
import { createHash, X509Certificate } from "node:crypto";
import { connect as tlsConnect } from "node:tls";

/** A throwaway certificate and key for the https server behind the front. */
async function testPems() {
  const dir = await Deno.makeTempDir({ prefix: "denomail-front-" });
  const key = join(dir, "k.pem");
  const cert = join(dir, "c.pem");
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=mail.example.test",
    "-keyout",
    key,
    "-out",
    cert,
  ]);
  const pems = {
    certPem: await Deno.readTextFile(cert),
    keyPem: await Deno.readTextFile(key),
    onReload: () => () => {},
  };
  await Deno.remove(dir, { recursive: true });
  return pems;
}

Deno.test("alpn front: relays https with the client's address; refuses acme-tls/1 without a challenge", async () => {
  const router = new Router().route("/ip", ["GET"], (r) => text(200, r.ip));
  const pems = await testPems();
  const l = await startHttp(router, { host: "127.0.0.1", port: 0 }, {
    tls: pems,
    acmeAlpn: { respondAlpn: () => Promise.resolve(false) },
  });
  try {
    // 127.0.0.2 is loopback too, but not the relay's own address: it must come through.
    const r = await run("curl", [
      "-sSk",
      "--interface",
      "127.0.0.2",
      `https://127.0.0.1:${l.port}/ip`,
    ]);
    assert.equal(r.stdout, "127.0.0.2");
    const acme = await run("openssl", [
      "s_client",
      "-connect",
      `127.0.0.1:${l.port}`,
      "-alpn",
      "acme-tls/1",
      "-servername",
      "mail.example.test",
    ], { stdin: "", check: false });
    assert.doesNotMatch(acme.stdout, /ALPN protocol: acme-tls\/1/);
    assert.match(acme.stdout + acme.stderr, /no peer certificate available|errno|error/i);
  } finally {
    await l.stop();
  }
});

Deno.test("alpn front: the ClientHello parser survives truncated and random input", () => {
  const hello = Uint8Array.from([
    0x16,
    3,
    1,
    0,
    60,
    1,
    0,
    0,
    56,
    3,
    3,
    ...new Array(32).fill(7),
    0,
    0,
    2,
    0x13,
    1,
    1,
    0,
    0,
    13,
    0,
    16,
    0,
    9,
    0,
    7,
    6,
    ...new TextEncoder().encode("acme-t"),
  ]);
  for (let n = 0; n <= hello.length; n++) parseClientHello(hello.subarray(0, n));
  for (let i = 0; i < 2000; i++) {
    const junk = crypto.getRandomValues(new Uint8Array(1 + (i % 300)));
    junk[0] = 0x16;
    junk[5] = 1;
    parseClientHello(junk);
  }
  const full = Uint8Array.from([
    0x16,
    3,
    1,
    0,
    0,
    1,
    0,
    0,
    0,
    3,
    3,
    ...new Array(32).fill(7),
    0,
    0,
    2,
    0x13,
    1,
    1,
    0,
    0,
    29, // extensions length
    0,
    0,
    0,
    14,
    0,
    12,
    0,
    0,
    9,
    ...new TextEncoder().encode("a.example"),
    0,
    16,
    0,
    7,
    0,
    5,
    4,
    ...new TextEncoder().encode("h2.x"),
  ]);
  const parsed = parseClientHello(full);
  assert.equal(parsed.serverName, "a.example");
  assert.deepEqual(parsed.alpn, ["h2.x"]);
  assert.deepEqual(parsed.cipherSuites, [0x1301]);
});

Deno.test("alpn front: openssl's client completes the acme-tls/1 handshake and sees the challenge certificate", async () => {
  const challenges = new AcmeChallenges();
  const key = EcKey.generate();
  const keyAuth = "token-abc.thumbprint-xyz";
  challenges.addAlpn(
    "mail.example.test",
    challengeCertificate("mail.example.test", keyAuth, key.privateKey, key.publicKey, Date.now()),
    key.privateKey,
  );
  const l = await startHttp(new Router(), { host: "127.0.0.1", port: 0 }, {
    tls: await testPems(),
    acmeAlpn: challenges,
  });
  try {
    const r = await run("openssl", [
      "s_client",
      "-connect",
      `127.0.0.1:${l.port}`,
      "-alpn",
      "acme-tls/1",
      "-tls1_3",
      "-servername",
      "mail.example.test",
    ], { stdin: "", check: false });
    assert.match(r.stdout, /ALPN protocol: acme-tls\/1/, r.stdout + r.stderr);
    const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(r.stdout)![0];
    const x = new X509Certificate(pem);
    assert.equal(x.subjectAltName, "DNS:mail.example.test");
    // id-pe-acmeIdentifier holds SHA-256(key authorization) (RFC 8737 §3).
    const digest = createHash("sha256").update(keyAuth).digest("hex");
    assert.ok(Buffer.from(x.raw).toString("hex").includes(digest));
  } finally {
    await l.stop();
  }
});

Deno.test("alpn front: a certificate reload (the server behind restarts) drops no new connection", async () => {
  const reloads = new Set<() => void>();
  const pems = {
    ...(await testPems()),
    onReload: (fn: () => void) => {
      reloads.add(fn);
      return () => reloads.delete(fn);
    },
  };
  const router = new Router().route("/ok", ["GET"], () => text(200, "ok"));
  const l = await startHttp(router, { host: "127.0.0.1", port: 0 }, {
    tls: pems,
    acmeAlpn: { respondAlpn: () => Promise.resolve(false) },
  });
  const get = () =>
    new Promise<string>((resolve) => {
      const s = tlsConnect({ host: "127.0.0.1", port: l.port, rejectUnauthorized: false }, () => {
        s.write("GET /ok HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
      });
      let got = "";
      s.on("data", (d: Uint8Array) => got += new TextDecoder().decode(d));
      s.on("close", () => resolve(got));
      s.on("error", (e: Error) => resolve(`error: ${e.message}`));
    });
  try {
    const results: Promise<string>[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 10; i++) results.push(get());
      for (const fn of reloads) fn();
      for (let i = 0; i < 10; i++) results.push(get());
    }
    const answers = await Promise.all(results);
    const bad = answers.filter((a) => !/^HTTP\/1\.1 200/.test(a));
    assert.deepEqual(bad, [], `${bad.length} of ${answers.length} requests failed`);
  } finally {
    await l.stop();
  }
});
