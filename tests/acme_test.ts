/**
 * ACME against pebble (a real ACME server) on loopback: issuance by HTTP-01 and by
 * TLS-ALPN-01, the issued certificate served afterwards on SMTP STARTTLS, IMAPS and HTTPS
 * (checked by openssl against pebble's root), and renewal 30 days before expiry (fake
 * clock) replacing it without dropping an open connection.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { connect as tlsConnect } from "node:tls";
import { join } from "node:path";
import { configFromObject } from "../core/config.ts";
import { type RunningServer, startServer } from "../app/server.ts";
import { run } from "./harness.ts";
import { startDnsServer } from "./lib/dns_server.ts";
import { freePort, startPebble } from "./lib/pebble.ts";
import { configToml, startServerProcess } from "./lib/server_process.ts";

const NAMES = ["mail.example.test", "mta-sts.example.test"];

interface Setup {
  server: RunningServer;
  clock: { now: number };
  rootFile: string;
  stop(): Promise<void>;
}

/**
 * The ports given to pebble and to the server are picked free beforehand, so another
 * process (the machine is shared) may take one in between: then start again with others.
 */
async function retryOnPortClash<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await start();
    } catch (e) {
      const clash = /address already in use|did not start|exited before it was ready/i;
      if (attempt >= 3 || !clash.test(String((e as Error).message))) throw e;
    }
  }
}

function setup(challenge: "http-01" | "tls-alpn-01"): Promise<Setup> {
  return retryOnPortClash(() => setupOnce(challenge));
}

async function setupOnce(challenge: "http-01" | "tls-alpn-01"): Promise<Setup> {
  const dir = await Deno.makeTempDir({ prefix: "denomail-acme-" });
  const dns = await startDnsServer(
    Object.fromEntries(NAMES.map((n) => [n, { A: ["127.0.0.1"] }])),
  );
  const httpPort = freePort();
  const httpsPort = freePort();
  const cleanup = async () => {
    await dns.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const pebble = await startPebble({
    dir,
    httpPort,
    tlsPort: httpsPort,
    dnsServer: dns.nameserver,
  }).catch(async (e) => {
    await cleanup();
    throw e;
  });
  const clock = { now: Date.now() };
  const config = configFromObject({
    hostname: "mail.example.test",
    data_dir: join(dir, "data"),
    listeners: {
      smtp: "",
      submission: "127.0.0.1:0",
      submissions: "",
      imap: "",
      imaps: "127.0.0.1:0",
      pop3: "",
      pop3s: "",
      managesieve: "",
      http: `127.0.0.1:${httpPort}`,
      https: `127.0.0.1:${httpsPort}`,
    },
    acme: {
      directory: pebble.directory,
      email: "admin@example.test",
      domains: NAMES,
      challenge,
      ca_file: pebble.apiCaFile,
    },
  }, dir);
  const rootFile = join(dir, "pebble-root.pem");
  await Deno.writeTextFile(rootFile, await pebble.issuingRoot());
  const server = await startServer(config, { now: () => clock.now }).catch(async (e) => {
    await pebble.stop();
    await cleanup();
    throw e;
  });
  return {
    server,
    clock,
    rootFile,
    async stop() {
      await server.stop();
      await pebble.stop();
      await dns.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Polls until the server serves a certificate issued by pebble (not the self-signed one). */
async function waitForPebbleCert(s: Setup, notSerial = ""): Promise<X509Certificate> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const x = new X509Certificate(s.server.deps.tls.certPem);
    if (/Pebble/.test(x.issuer) && x.serialNumber !== notSerial) return x;
    if (Date.now() > deadline) throw new Error(`no pebble certificate; serving ${x.issuer}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** openssl s_client's view: verify result and the leaf's serial. */
async function sClient(port: number, extra: string[], rootFile: string) {
  const r = await run("openssl", [
    "s_client",
    "-connect",
    `127.0.0.1:${port}`,
    "-servername",
    "mail.example.test",
    "-CAfile",
    rootFile,
    "-verify_hostname",
    "mail.example.test",
    "-showcerts",
    ...extra,
  ], { stdin: "", check: false });
  const leaf = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(r.stdout)?.[0];
  return {
    verified: /Verify return code: 0 \(ok\)/.test(r.stdout),
    serial: leaf ? new X509Certificate(leaf).serialNumber : "",
    out: r.stdout + r.stderr,
  };
}

async function servedEverywhere(s: Setup, serial: string): Promise<void> {
  const p = s.server.ports;
  const checks: Array<[string, number, string[]]> = [
    ["submission STARTTLS", p.submission!, ["-starttls", "smtp"]],
    ["imaps", p.imaps!, []],
    ["https", p.https!, []],
  ];
  for (const [name, port, extra] of checks) {
    // The https listener restarts on reload: poll briefly for the new certificate there.
    const deadline = Date.now() + 10_000;
    let got = await sClient(port, extra, s.rootFile);
    while (got.serial !== serial && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      got = await sClient(port, extra, s.rootFile);
    }
    assert.equal(got.serial, serial, `${name} serves the issued certificate\n${got.out}`);
    assert.ok(got.verified, `${name}: openssl verifies it against pebble's root\n${got.out}`);
  }
}

Deno.test("acme: http-01 issuance, served on every TLS listener, renewed 30 days before expiry", async () => {
  const s = await setup("http-01");
  try {
    const first = await waitForPebbleCert(s);
    assert.match(first.subjectAltName ?? "", /DNS:mta-sts\.example\.test/);
    await servedEverywhere(s, first.serialNumber);
    // Keys are private to the server.
    const dataDir = s.server.deps.config.dataDir;
    assert.equal((await Deno.stat(join(dataDir, "acme", "account.key"))).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(join(dataDir, "tls", "key.pem"))).mode! & 0o777, 0o600);

    const acme = s.server.deps.acme!;
    assert.equal(await acme.renewalReason(), null, "a fresh certificate is not renewed");
    assert.equal(await acme.check(), false);

    // An IMAPS session open across the renewal keeps working.
    const open = tlsConnect({
      host: "127.0.0.1",
      port: s.server.ports.imaps!,
      rejectUnauthorized: false,
    });
    let received = "";
    open.on("data", (d: Uint8Array) => received += new TextDecoder().decode(d));
    await until(() => received.startsWith("* OK"));

    s.clock.now = Date.parse(first.validTo) - 29 * 86_400_000;
    assert.match(String(await acme.renewalReason()), /expires in 29 days/);
    assert.equal(await acme.check(), true);
    const second = await waitForPebbleCert(s, first.serialNumber);
    // The key is kept across renewals: a TLSA record (3 1 1) for it stays right.
    const spki = (x: X509Certificate) => x.publicKey.export({ type: "spki", format: "der" });
    assert.deepEqual(spki(second), spki(first));
    await servedEverywhere(s, second.serialNumber);

    open.write("a1 NOOP\r\n");
    await until(() => /a1 OK/.test(received));
    open.destroy();
  } finally {
    await s.stop();
  }
});

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("acme: tls-alpn-01 issuance through the https listener, which keeps serving https", async () => {
  const s = await setup("tls-alpn-01");
  try {
    const cert = await waitForPebbleCert(s);
    await servedEverywhere(s, cert.serialNumber);
    // Ordinary https requests pass the ALPN front untouched.
    const r = await run("curl", [
      "-sS",
      "--cacert",
      s.rootFile,
      "--resolve",
      `mail.example.test:${s.server.ports.https}:127.0.0.1`,
      `https://mail.example.test:${s.server.ports.https}/healthz`,
    ]);
    assert.match(r.stdout, /ok/i);
  } finally {
    await s.stop();
  }
});

Deno.test("acme under serve: a failed request is logged and retried; SIGHUP retries at once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-acme-serve-" });
  const dns = await startDnsServer(
    Object.fromEntries(NAMES.map((n) => [n, { A: ["127.0.0.1"] }])),
  );
  const config = join(dir, "denomail.toml");
  const apiPort = freePort();
  let httpPort = 0;
  // The ACME server is not up yet: the first request must fail, be logged, and be retried.
  const server = await retryOnPortClash(async () => {
    httpPort = freePort();
    await Deno.writeTextFile(
      config,
      configToml(join(dir, "data"), ["imaps"], {
        tables: `[acme]
directory = "https://127.0.0.1:${apiPort}/dir"
domains = ${JSON.stringify(NAMES)}
challenge = "http-01"
ca_file = "${join(dir, "api-ca.pem")}"
`,
      }).replace('http = ""', `http = "127.0.0.1:${httpPort}"`),
    );
    return await startServerProcess(config, ["imaps", "http"]);
  });
  let pebble: Awaited<ReturnType<typeof startPebble>> | null = null;
  const waitLog = async (re: RegExp) => {
    const deadline = Date.now() + 60_000;
    while (!re.test(server.log())) {
      if (Date.now() > deadline) throw new Error(`no ${re} in the log:\n${server.log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    await waitLog(
      /WARN\s+\[acme\] certificate request for mail\.example\.test, mta-sts\.example\.test failed \(attempt 1\), retrying in 5 min/,
    );
    pebble = await startPebble({
      dir,
      httpPort,
      tlsPort: freePort(),
      dnsServer: dns.nameserver,
      apiPort,
    });
    const rootFile = join(dir, "pebble-root.pem");
    await Deno.writeTextFile(rootFile, await pebble.issuingRoot());
    Deno.kill(server.child.pid, "SIGHUP");
    await waitLog(
      /INFO\s+\[acme\] certificate for mail\.example\.test, mta-sts\.example\.test installed, valid until/,
    );
    const got = await sClient(server.ports.imaps, [], rootFile);
    assert.ok(got.verified, got.out);
  } finally {
    await server.stop();
    await pebble?.stop();
    await dns.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
