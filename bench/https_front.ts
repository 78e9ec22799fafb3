/**
 * `deno task bench https [--total N] [--sessions S] [--mb M]`: what the TLS-ALPN-01 front
 * (protocols/http/alpn_front.ts) costs the https listener. The same https server is measured
 * directly and behind the front: new TLS connections per second (one small request each,
 * S at a time) and one bulk download (M MB) in MB/s.
 *
 * @module
 */
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { startHttp } from "../protocols/http/mod.ts";
import { Router } from "../protocols/http/router.ts";
import { run } from "../tests/harness.ts";
import { printMarkdownTable } from "./table.ts";

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
}

async function pems() {
  const dir = await Deno.makeTempDir({ prefix: "bench-https-" });
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
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost",
    "-keyout",
    key,
    "-out",
    cert,
  ]);
  const out = { certPem: await Deno.readTextFile(cert), keyPem: await Deno.readTextFile(key) };
  await Deno.remove(dir, { recursive: true });
  return out;
}

/** One request on a new TLS connection; returns the bytes of the response. */
function request(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // The pair is made up on the spot: only the handshake and the bytes are measured.
    const s = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    });
    let n = 0;
    s.on("data", (d: Uint8Array) => n += d.length);
    s.on("end", () => resolve(n));
    s.on("close", () => resolve(n));
    s.on("error", reject);
  });
}

export async function benchHttpsFront(args: string[]): Promise<void> {
  const total = arg(args, "--total", 400);
  const sessions = arg(args, "--sessions", 8);
  const mb = arg(args, "--mb", 64);
  const { certPem, keyPem } = await pems();
  const big = new Uint8Array(mb * 1024 * 1024);
  const router = new Router()
    .route("/small", ["GET"], () => new Response("ok\n"))
    .route("/big", ["GET"], () => new Response(big));
  const rows: string[][] = [];
  for (const front of [false, true]) {
    const l = await startHttp(router, { host: "127.0.0.1", port: 0 }, {
      tls: { certPem, keyPem, onReload: () => () => {} },
      acmeAlpn: front ? { respondAlpn: () => Promise.resolve(false) } : undefined,
    });
    try {
      await request(l.port, "/small"); // warm up
      let next = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: sessions }, async () => {
        while (next++ < total) await request(l.port, "/small");
      }));
      const perSec = total / ((performance.now() - t0) / 1000);
      const t1 = performance.now();
      const bytes = await request(l.port, "/big");
      const mbPerSec = bytes / 1048576 / ((performance.now() - t1) / 1000);
      rows.push([
        front ? "behind the ALPN front" : "direct",
        perSec.toFixed(0),
        mbPerSec.toFixed(0),
      ]);
    } finally {
      await l.stop();
    }
  }
  printMarkdownTable(["https listener", "new TLS connections/s", "bulk MB/s"], rows);
}
