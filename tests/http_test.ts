/** The operator endpoints on the HTTP listener, fetched with curl. */
import assert from "node:assert/strict";
import selfsigned from "selfsigned";
import { run, startTestServer } from "./harness.ts";

Deno.test("http: /healthz and /metrics for operators", async () => {
  const ts = await startTestServer({ listeners: { http: "127.0.0.1:0" } });
  try {
    await ts.addUser("dave@example.test", "dave-password");
    const base = `http://127.0.0.1:${ts.port("http")}`;
    const health = await run("curl", ["-s", "-w", "\n%{http_code}", `${base}/healthz`]);
    assert.deepEqual(health.stdout.split("\n"), ['{"status":"ok"}', "200"]);

    // One SMTP connection held open shows up in the connection gauge.
    const smtp = await Deno.connect({ hostname: "127.0.0.1", port: ts.port("smtp") });
    await smtp.read(new Uint8Array(512)); // the greeting: the session is running
    const m = await run("curl", ["-s", `${base}/metrics`]);
    assert.match(m.stdout, /^denomail_up 1$/m);
    assert.match(m.stdout, /^denomail_connections\{listener="smtp"\} 1$/m);
    assert.match(m.stdout, /^denomail_accounts 1$/m);
    assert.match(m.stdout, /^denomail_queue_entries 0$/m);
    smtp.close();

    const missing = await run("curl", [
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      `${base}/nope`,
    ]);
    assert.equal(missing.stdout, "404");
    const post = await run("curl", [
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "-X",
      "POST",
      `${base}/healthz`,
    ]);
    assert.equal(post.stdout, "405");
  } finally {
    await ts.stop();
  }
});

/** A self-signed pair for 127.0.0.1 in `dir`, as core/tls.ts makes them. */
async function makePair(dir: string, name: string) {
  const pems = await selfsigned.generate([{ name: "commonName", value: `${name}.example.test` }], {
    keySize: 2048,
    algorithm: "sha256",
    extensions: [{ name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] }],
  });
  const key = `${dir}/${name}.key`;
  const cert = `${dir}/${name}.pem`;
  await Deno.writeTextFile(key, pems.private);
  await Deno.writeTextFile(cert, pems.cert);
  return { key, cert, pem: pems.cert };
}

Deno.test("https: serves the server's certificate and picks up a reloaded one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-https-" });
  const first = await makePair(dir, "first");
  const second = await makePair(dir, "second");
  const live = { cert: `${dir}/live.pem`, key: `${dir}/live.key` };
  await Deno.copyFile(first.cert, live.cert);
  await Deno.copyFile(first.key, live.key);
  const ts = await startTestServer({ listeners: { https: "127.0.0.1:0" }, tls: live });
  const trustFirst = Deno.createHttpClient({ caCerts: [first.pem] });
  const trustSecond = Deno.createHttpClient({ caCerts: [second.pem] });
  try {
    const url = `https://127.0.0.1:${ts.port("https")}/healthz`;
    const ok = await fetch(url, { client: trustFirst });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("cache-control"), "no-store");
    await ok.body?.cancel();
    await assert.rejects(fetch(url, { client: trustSecond }));

    await Deno.copyFile(second.cert, live.cert);
    await Deno.copyFile(second.key, live.key);
    assert.equal(await ts.server.deps.tls.reload(), true);
    let res: Response | null = null;
    for (let i = 0; i < 100 && !res; i++) {
      res = await fetch(url, { client: trustSecond }).catch(() => null);
      if (!res) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(res?.status, 200, "the new certificate is served");
    await res?.body?.cancel();
  } finally {
    trustFirst.close();
    trustSecond.close();
    await ts.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
