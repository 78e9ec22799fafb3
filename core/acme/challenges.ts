/**
 * The challenges being answered right now, shared by the ACME client and the listeners:
 * HTTP-01 key authorizations by token (RFC 8555 §8.3) for the http listener, and the
 * TLS-ALPN-01 certificates by domain (RFC 8737 §3) for the https listener.
 *
 * A TLS-ALPN-01 certificate carries the critical acmeIdentifier extension, which Deno's
 * TLS (rustls, behind Deno.listenTls and node:tls alike) refuses to load as its own
 * certificate ("UnsupportedCriticalExtension"). So each one is served by an
 * `openssl s_server` on a loopback port for as long as its challenge is pending, and the
 * https front (protocols/http/alpn_front.ts) relays the connections that offer
 * "acme-tls/1" for that domain to it. HTTP-01 needs no such helper.
 *
 * @module
 */
import { join } from "node:path";
import { log } from "../../lib/log.ts";

const ALPN_ACME = "acme-tls/1";
const START_TIMEOUT_MS = 10_000;

interface AlpnEntry {
  child: Deno.ChildProcess;
  port: number;
  files: string[];
}

export class AcmeChallenges {
  #http = new Map<string, string>();
  #alpn = new Map<string, AlpnEntry>();
  #dir: string;

  /** `dir` holds the challenge key pairs while they are served (data_dir/acme/alpn). */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The key authorization for an HTTP-01 token, if one is pending. */
  httpKeyAuthorization(token: string): string | undefined {
    return this.#http.get(token);
  }

  addHttp(token: string, keyAuthorization: string): void {
    this.#http.set(token, keyAuthorization);
  }

  removeHttp(token: string): void {
    this.#http.delete(token);
  }

  /** Loopback port serving the TLS-ALPN-01 certificate of `domain`, if one is pending. */
  alpnPort(domain: string): number | undefined {
    return this.#alpn.get(domain.toLowerCase())?.port;
  }

  /** Starts serving the challenge certificate of `domain`; resolves once it listens. */
  async addAlpn(domain: string, certPem: string, keyPem: string): Promise<void> {
    const name = domain.toLowerCase();
    this.removeAlpn(name);
    await Deno.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const cert = join(this.#dir, `${name}.crt`);
    const key = join(this.#dir, `${name}.key`);
    await Deno.writeTextFile(key, keyPem, { mode: 0o600 });
    await Deno.writeTextFile(cert, certPem, { mode: 0o600 });
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("openssl", {
        args: [
          "s_server",
          "-accept",
          "127.0.0.1:0",
          "-cert",
          cert,
          "-key",
          key,
          "-alpn",
          ALPN_ACME,
          "-www",
          "-naccept",
          "1000",
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).spawn();
    } catch (e) {
      throw new Error(`tls-alpn-01 needs openssl on PATH: ${(e as Error).message}`);
    }
    const port = await acceptPort(child);
    if (port === null) {
      try {
        child.kill();
      } catch { /* exited */ }
      throw new Error("openssl s_server did not start for the tls-alpn-01 challenge");
    }
    this.#alpn.set(name, { child, port, files: [cert, key] });
    log.info("acme", `serving the tls-alpn-01 certificate of ${name}`);
  }

  removeAlpn(domain: string): void {
    const name = domain.toLowerCase();
    const e = this.#alpn.get(name);
    if (!e) return;
    this.#alpn.delete(name);
    try {
      e.child.kill();
    } catch { /* exited */ }
    for (const f of e.files) Deno.remove(f).catch(() => {});
  }

  close(): void {
    for (const d of [...this.#alpn.keys()]) this.removeAlpn(d);
    this.#http.clear();
  }
}

/** Reads s_server's "ACCEPT 127.0.0.1:PORT" line, then keeps draining its output. */
async function acceptPort(child: Deno.ChildProcess): Promise<number | null> {
  const reader = child.stdout.getReader();
  const timer = setTimeout(() => reader.cancel().catch(() => {}), START_TIMEOUT_MS);
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return null;
      text += new TextDecoder().decode(value);
      const m = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(text);
      if (m) {
        (async () => {
          while (!(await reader.read()).done) { /* drain */ }
        })().catch(() => {});
        return Number(m[1]);
      }
      if (text.length > 65536) return null;
    }
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}
