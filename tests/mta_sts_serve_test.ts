/**
 * The MTA-STS policy we publish (RFC 8461 §3.2), fetched the way a sending server does:
 * HTTPS to mta-sts.<domain> (curl --resolve), plus the [acme]/[mta_sts] config checks.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { configFromObject } from "../core/config.ts";
import { run, startTestServer } from "./harness.ts";

async function certFor(dir: string, names: string[]) {
  const cert = join(dir, "web.pem");
  const key = join(dir, "web.key");
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
    `/CN=${names[0]}`,
    "-addext",
    `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}`,
    "-keyout",
    key,
    "-out",
    cert,
  ]);
  return { cert, key };
}

Deno.test("mta-sts: policy for Host mta-sts.<local domain> on https only; 404 otherwise", async () => {
  const certDir = await Deno.makeTempDir({ prefix: "denomail-sts-" });
  const tls = await certFor(certDir, ["mail.example.test", "mta-sts.example.test"]);
  const ts = await startTestServer({
    listeners: { http: "127.0.0.1:0", https: "127.0.0.1:0" },
    tls,
    mta_sts: { mode: "testing", max_age: "1d" },
  });
  try {
    await ts.addUser("alice@example.test", "alice-password");
    const port = ts.port("https");
    const fetchPolicy = (host: string) =>
      run("curl", [
        "-sS",
        "-i",
        "--cacert",
        tls.cert,
        "--resolve",
        `${host}:${port}:127.0.0.1`,
        `https://${host}:${port}/.well-known/mta-sts.txt`,
      ], { check: false });
    const ok = await fetchPolicy("mta-sts.example.test");
    const [head, body] = ok.stdout.split("\r\n\r\n");
    assert.match(head, /^HTTP\/\S+ 200/);
    assert.match(head, /content-type: text\/plain/i);
    assert.equal(
      body,
      "version: STSv1\r\nmode: testing\r\nmx: mail.example.test\r\nmax_age: 86400\r\n",
    );
    // Another domain, the plain host name, or plain http: not ours to answer.
    for (const host of ["mta-sts.other.test", "mail.example.test"]) {
      const r = await run("curl", [
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-k",
        "-H",
        `Host: ${host}`,
        `https://127.0.0.1:${port}/.well-known/mta-sts.txt`,
      ]);
      assert.equal(r.stdout, "404", host);
    }
    const plain = await run("curl", [
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "-H",
      "Host: mta-sts.example.test",
      `http://127.0.0.1:${ts.port("http")}/.well-known/mta-sts.txt`,
    ]);
    assert.equal(plain.stdout, "404");
  } finally {
    await ts.stop();
    await Deno.remove(certDir, { recursive: true });
  }
});

Deno.test("config: [acme] and [mta_sts] are checked, errors name the key", () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ mta_sts: { mode: "strict" } }, /mta_sts\.mode/],
    [{ mta_sts: { max_age: "400d" } }, /mta_sts\.max_age/],
    [{ acme: { directory: "http://ca.example/dir" } }, /acme\.directory/],
    [{ acme: { directory: "https://ca.example/dir", challenge: "dns-01" } }, /acme\.challenge/],
    [
      { acme: { directory: "https://ca.example/dir", domains: ["bad name"] } },
      /acme\.domains\[0\]/,
    ],
    [{ acme: { directory: "https://ca.example/dir", email: "nobody" } }, /acme\.email/],
    [{ acme: { directory: "https://ca.example/dir", unknown: 1 } }, /acme\.unknown/],
    [{ acme: { directory: "https://ca.example/dir" }, listeners: { http: "" } }, /listeners\.http/],
    [{ acme: { directory: "https://ca.example/dir" }, tls: { cert: "c", key: "k" } }, /tls\.cert/],
  ];
  for (const [doc, re] of bad) assert.throws(() => configFromObject(doc, "/tmp"), re);
  const c = configFromObject({
    hostname: "mail.example.test",
    acme: { directory: "https://ca.example/dir", challenge: "tls-alpn-01", ca_file: "root.pem" },
  }, "/etc/denomail");
  assert.deepEqual(c.acme, {
    directory: "https://ca.example/dir",
    email: null,
    domains: ["mail.example.test"],
    challenge: "tls-alpn-01",
    caFile: "/etc/denomail/root.pem",
  });
  assert.deepEqual(c.mtaSts, { mode: "enforce", maxAgeS: 604800 });
  assert.equal(configFromObject({}, "/tmp").acme, null);
});
