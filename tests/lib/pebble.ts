/**
 * Pebble (Let's Encrypt's test ACME server, Debian package `pebble`) on loopback for the
 * ACME tests: its own HTTPS certificate is made here with openssl (the file to give
 * `[acme] ca_file`), validation goes to the given http/tls ports on 127.0.0.1 and names
 * are resolved through the given DNS server (tests/lib/dns_server.ts).
 *
 * @module
 */
import { join } from "node:path";
import { run } from "../harness.ts";

export interface Pebble {
  directory: string;
  /** Pebble's HTTPS certificate: trust it to talk to the ACME API (`[acme] ca_file`). */
  apiCaFile: string;
  /** The root that signs issued certificates (PEM), fetched from the management API. */
  issuingRoot(): Promise<string>;
  stop(): Promise<void>;
}

/** A port free right now (bind port 0, close). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export async function startPebble(opts: {
  dir: string;
  httpPort: number;
  tlsPort: number;
  dnsServer: string;
  /** Seconds an issued certificate is valid (pebble's default is 5 years). */
  validitySeconds?: number;
  /** The ACME API's port (default: a free one). */
  apiPort?: number;
}): Promise<Pebble> {
  const { caFile, cert, key } = await apiCertificate(opts.dir);
  const apiPort = opts.apiPort ?? freePort();
  const mgmtPort = freePort();
  const config = join(opts.dir, "pebble.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${apiPort}`,
        managementListenAddress: `127.0.0.1:${mgmtPort}`,
        certificate: cert,
        privateKey: key,
        httpPort: opts.httpPort,
        tlsPort: opts.tlsPort,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
        ...(opts.validitySeconds ? { certificateValidityPeriod: opts.validitySeconds } : {}),
      },
    }),
  );
  const child = new Deno.Command("pebble", {
    args: ["-config", config, "-dnsserver", opts.dnsServer],
    env: { PEBBLE_VA_NOSLEEP: "1", PEBBLE_VA_ALWAYS_VALID: "0" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const drain = async (s: ReadableStream<Uint8Array>) => {
    for await (const c of s) output += new TextDecoder().decode(c);
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(caFile)] });
  const directory = `https://127.0.0.1:${apiPort}/dir`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await fetch(directory, { client });
      await r.body?.cancel();
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      child.kill();
      await drained;
      throw new Error(`pebble did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    directory,
    apiCaFile: caFile,
    async issuingRoot() {
      const r = await fetch(`https://127.0.0.1:${mgmtPort}/roots/0`, { client });
      return await r.text();
    },
    async stop() {
      client.close();
      try {
        child.kill();
      } catch { /* exited */ }
      await child.status;
      await drained;
    },
  };
}

/**
 * A test CA and, signed by it, pebble's API certificate for 127.0.0.1 (rustls, behind
 * Deno's fetch, refuses a self-signed CA certificate used as the server's own).
 */
async function apiCertificate(dir: string) {
  const f = (n: string) => join(dir, n);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run("openssl", [
    "req",
    "-x509",
    ...ec,
    "-days",
    "2",
    "-subj",
    "/CN=denomail test ACME API CA",
    "-keyout",
    f("api-ca.key"),
    "-out",
    f("api-ca.pem"),
  ]);
  await run("openssl", [
    "req",
    ...ec,
    "-subj",
    "/CN=pebble-api",
    "-keyout",
    f("pebble-api.key"),
    "-out",
    f("pebble-api.csr"),
  ]);
  await Deno.writeTextFile(
    f("api.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    f("pebble-api.csr"),
    "-CA",
    f("api-ca.pem"),
    "-CAkey",
    f("api-ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    f("api.ext"),
    "-out",
    f("pebble-api.pem"),
  ]);
  return { caFile: f("api-ca.pem"), cert: f("pebble-api.pem"), key: f("pebble-api.key") };
}
