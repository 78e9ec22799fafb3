/**
 * TLS material is picked up again when the certificate files change, without dropping the
 * connections that are already open (issue: SMTP complete, TLS bullet).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestServer } from "./harness.ts";
import { run } from "./harness.ts";
import { connect as tlsConnect } from "node:tls";
import { startServerProcess } from "./lib/server_process.ts";

async function makeCert(dir: string, name: string, cn: string) {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${cn}`,
    "-keyout",
    key,
    "-out",
    cert,
  ]);
  return { key, cert };
}

/** The subject CN the server presents to a new implicit-TLS connection. */
async function servedCn(port: number): Promise<string> {
  const r = await run("openssl", [
    "s_client",
    "-connect",
    `127.0.0.1:${port}`,
    "-servername",
    "localhost",
  ], { stdin: "", check: false });
  return /subject=.*CN\s*=\s*([\w.-]+)/.exec(r.stdout)?.[1] ?? "";
}

Deno.test("tls: certificate files are reloaded on change; open connections carry on", async () => {
  const certDir = await Deno.makeTempDir({ prefix: "denomail-certs-" });
  const live = { cert: join(certDir, "live.pem"), key: join(certDir, "live.key") };
  const first = await makeCert(certDir, "first", "first.example.test");
  const second = await makeCert(certDir, "second", "second.example.test");
  await Deno.copyFile(first.cert, live.cert);
  await Deno.copyFile(first.key, live.key);
  const ts = await startTestServer({ tls: { cert: live.cert, key: live.key } });
  try {
    await ts.addUser("carol@example.test", "carol-password");
    const port = ts.port("imaps");
    assert.equal(await servedCn(port), "first.example.test");

    // An IMAP session opened before the change must keep working after it.
    const open = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false });
    const received: string[] = [];
    const waitFor = (re: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const check = () => re.test(received.join("")) && resolve();
        open.on("data", (d: Uint8Array) => {
          received.push(new TextDecoder().decode(d));
          check();
        });
        open.once("error", reject);
        check();
      });
    await waitFor(/^\* OK/);

    await Deno.copyFile(second.key, live.key);
    await Deno.copyFile(second.cert, live.cert);
    const deadline = Date.now() + 10_000;
    let cn = "";
    while (Date.now() < deadline) {
      cn = await servedCn(port);
      if (cn === "second.example.test") break;
      await new Promise((r) => setTimeout(r, 100)); // polling the reload, bounded by the deadline
    }
    assert.equal(cn, "second.example.test");

    open.write("a1 NOOP\r\n");
    await waitFor(/a1 OK/);
    open.destroy();
  } finally {
    await ts.stop();
    await Deno.remove(certDir, { recursive: true });
  }
});

/** A config for a server process serving imaps only, with the given pair. */
async function tlsOnlyConfig(dir: string, live: { cert: string; key: string }) {
  const path = join(dir, "denomail.toml");
  const off = [
    "smtp",
    "submission",
    "submissions",
    "imap",
    "pop3",
    "pop3s",
    "managesieve",
    "http",
    "https",
  ]
    .map((n) => `${n} = ""`).join("\n");
  await Deno.writeTextFile(
    path,
    `hostname = "mail.example.test"\ndata_dir = "${dir}/data"\n` +
      `[tls]\ncert = "${live.cert}"\nkey = "${live.key}"\n` +
      `[listeners]\nimaps = "127.0.0.1:0"\n${off}\n`,
  );
  return path;
}

Deno.test("tls: a garbage, empty or mismatched key on SIGHUP is refused; the old pair keeps serving", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-certs-" });
  const live = { cert: join(dir, "live.pem"), key: join(dir, "live.key") };
  const first = await makeCert(dir, "first", "first.example.test");
  const second = await makeCert(dir, "second", "second.example.test");
  await Deno.copyFile(first.cert, live.cert);
  await Deno.copyFile(first.key, live.key);
  const server = await startServerProcess(await tlsOnlyConfig(dir, live), ["imaps"]);
  const count = (re: RegExp) => server.log().split("\n").filter((l) => re.test(l)).length;
  /** Waits (bounded) until more than `before` log lines match `re`. */
  const waitForLine = async (re: RegExp, before: number) => {
    const deadline = Date.now() + 15_000;
    while (count(re) <= before) {
      if (Date.now() > deadline) throw new Error(`no ${re}; log:\n${server.log()}`);
      await new Promise((r) => setTimeout(r, 50)); // polling the log, bounded by the deadline
    }
  };
  /** SIGHUP, then wait for one more log line matching `re`. */
  const hupAndWait = async (re: RegExp) => {
    const before = count(re);
    server.child.kill("SIGHUP");
    await waitForLine(re, before);
  };
  try {
    const port = server.ports.imaps;
    assert.equal(await servedCn(port), "first.example.test");
    const failed = /ERROR.*\[tls\] certificate reload failed, keeping the old one: tls\.key/;
    // The file watcher: a key overwritten in place is checked the same way, without a signal.
    await Deno.writeTextFile(live.key, "garbage\n");
    await waitForLine(failed, 0);
    assert.equal(await servedCn(port), "first.example.test", "watcher: old pair still served");
    const cases: [string, () => Promise<void>][] = [
      ["garbage key", () => Deno.writeTextFile(live.key, "garbage\n")],
      ["empty key", () => Deno.writeTextFile(live.key, "")],
      ["mismatched pair", () => Deno.copyFile(second.key, live.key)],
    ];
    for (const [name, write] of cases) {
      await write();
      await hupAndWait(failed);
      assert.equal(await servedCn(port), "first.example.test", `${name}: old pair still served`);
    }
    assert.doesNotMatch(server.log(), /certificate reloaded/);
    await Deno.copyFile(second.cert, live.cert); // now second.cert + second.key: a good pair
    await hupAndWait(/certificate reloaded/);
    assert.equal(await servedCn(port), "second.example.test");
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

/** `serve` that must exit on its own: a server that starts anyway is killed after 20 s. */
async function serveMustExit(config: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../main.ts", import.meta.url).pathname,
      "serve",
      "--config",
      config,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("tls: a configured pair that cannot serve stops the start with exit 2 naming the key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-certs-" });
  const live = { cert: join(dir, "live.pem"), key: join(dir, "live.key") };
  const first = await makeCert(dir, "first", "first.example.test");
  const second = await makeCert(dir, "second", "second.example.test");
  const config = await tlsOnlyConfig(dir, live);
  try {
    await Deno.copyFile(first.cert, live.cert);
    for (
      const [key, re] of [
        ["garbage\n", /tls\.key: .*live\.key is not a PEM private key/],
        ["", /tls\.key: .*live\.key is not a PEM private key/],
        [await Deno.readTextFile(second.key), /tls\.key: .*live\.key does not match/],
      ] as const
    ) {
      await Deno.writeTextFile(live.key, key);
      const r = await serveMustExit(config);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, re);
      // One error line (the log lines before it say which config was read).
      assert.equal(r.stderr.split("\n").filter((l) => l.startsWith("denomail:")).length, 1);
    }
    await Deno.writeTextFile(live.cert, "not a certificate\n");
    const r = await serveMustExit(config);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /tls\.cert: .*live\.pem is not a PEM certificate/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
