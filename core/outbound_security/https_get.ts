/**
 * A minimal HTTPS GET for MTA-STS policies (RFC 8461 §3.3): the host name is resolved
 * through OUR resolver (`[dns] nameserver`, not the system's), the certificate chain must
 * verify against the given roots and match the host name, redirects are not followed, the
 * body is bounded, and the whole exchange has one deadline. HTTP/1.1 with
 * `Connection: close`; Content-Length, chunked, or read-to-close bodies.
 *
 * @module
 */
import { connect as tlsConnect } from "node:tls";
import type { DnsResolver } from "../dns.ts";
import { concatBytes, indexOfBytes } from "../../lib/bytes.ts";

/** What came back: status, lower-case header names -> value, body. */
export interface HttpsResponse {
  status: number;
  headers: Map<string, string>;
  body: Uint8Array;
}

export interface HttpsGetOptions {
  dns: DnsResolver;
  /** PEM roots to trust (system roots plus `[delivery] tls_ca_file`). */
  ca: string[];
  port: number;
  timeoutMs: number;
  /** Bytes of head + body accepted at most. */
  maxBytes: number;
}

const CRLFCRLF = new Uint8Array([13, 10, 13, 10]);

/** GETs https://host:port/path; throws Error (network, TLS verification, size, syntax). */
export async function httpsGet(
  host: string,
  path: string,
  o: HttpsGetOptions,
): Promise<HttpsResponse> {
  // A first, then AAAA (as for MX hosts); a lookup failure is the fetch's failure.
  const ips = await o.dns.a(host).catch(() => o.dns.aaaa(host));
  const raw = await exchange(host, ips[0], path, o);
  return parseResponse(raw);
}

function exchange(host: string, ip: string, path: string, o: HttpsGetOptions): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const sock = tlsConnect({
      host: ip,
      port: o.port,
      servername: host,
      ca: o.ca,
      // RFC 8461 §3.3: the policy host's certificate must be valid for the host name and
      // chain to a trusted root: node checks both when rejectUnauthorized is on.
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
    });
    const timer = setTimeout(
      () => fail(new Error(`timed out fetching https://${host}${path}`)),
      o.timeoutMs,
    );
    const fail = (e: Error) => {
      clearTimeout(timer);
      sock.destroy();
      reject(e);
    };
    sock.on("error", (e: Error) => fail(new Error(`https://${host}${path}: ${e.message}`)));
    sock.once("secureConnect", () => {
      sock.write(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: denomail\r\n` +
          `Accept: text/plain\r\nConnection: close\r\n\r\n`,
      );
    });
    sock.on("data", (b: Uint8Array) => {
      size += b.length;
      if (size > o.maxBytes) return fail(new Error(`https://${host}${path}: response too large`));
      chunks.push(new Uint8Array(b));
    });
    sock.on("end", () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(concatBytes(chunks));
    });
  });
}

/** Parses an HTTP/1.1 response read to the end of the connection. Throws on bad syntax. */
export function parseResponse(raw: Uint8Array): HttpsResponse {
  const end = indexOfBytes(raw, CRLFCRLF);
  if (end < 0) throw new Error("HTTP response without a complete head");
  const head = new TextDecoder().decode(raw.subarray(0, end)).split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(head[0]);
  if (!m) throw new Error("bad HTTP status line");
  const headers = new Map<string, string>();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error("bad HTTP header line");
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  let body = raw.subarray(end + 4);
  if (/\bchunked\b/i.test(headers.get("transfer-encoding") ?? "")) body = unchunk(body);
  else if (headers.has("content-length")) {
    const n = Number(headers.get("content-length"));
    if (!Number.isSafeInteger(n) || n < 0 || n > body.length) {
      throw new Error("HTTP body shorter than its Content-Length");
    }
    body = body.subarray(0, n);
  }
  return { status: Number(m[1]), headers, body };
}

/** RFC 9112 §7.1: chunk-size [ext] CRLF data CRLF ... 0 CRLF. */
function unchunk(b: Uint8Array): Uint8Array {
  const out: Uint8Array[] = [];
  let pos = 0;
  for (;;) {
    const eol = indexOfBytes(b, new Uint8Array([13, 10]), pos);
    if (eol < 0) throw new Error("bad chunked body");
    const sizeText = new TextDecoder().decode(b.subarray(pos, eol)).split(";")[0].trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new Error("bad chunk size");
    const n = parseInt(sizeText, 16);
    if (n === 0) return concatBytes(out);
    if (eol + 2 + n > b.length) throw new Error("truncated chunk");
    out.push(b.subarray(eol + 2, eol + 2 + n));
    pos = eol + 2 + n + 2;
  }
}
