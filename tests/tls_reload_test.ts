/**
 * TLS material is picked up again when the certificate files change, without dropping the
 * connections that are already open (issue: SMTP complete, TLS bullet).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestServer } from "./harness.ts";
import { run } from "./harness.ts";
import { connect as tlsConnect } from "node:tls";

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
