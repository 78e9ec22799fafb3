/**
 * Proof that a certificate/key pair can actually serve TLS before it replaces the one in use.
 *
 * node:tls under Deno builds a SecureContext from a garbage, empty or mismatched key without
 * complaint, and only the handshakes fail afterwards. So a pair is checked twice: the key and
 * certificate are parsed and matched (node:crypto), and a real handshake is completed with
 * the new context on an ephemeral loopback port through the same server path the listeners
 * use (TlsTransport.accept).
 *
 * @module
 */
import { connect, type SecureContext } from "node:tls";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { TlsTransport } from "./transport.ts";

/** A pair that cannot serve; `key` says which config key (tls.cert / tls.key) is at fault. */
export class TlsPairError extends Error {
  constructor(readonly key: "tls.cert" | "tls.key", message: string) {
    super(message);
    this.name = "TlsPairError";
  }
}

const PROBE_TIMEOUT_MS = 5000;

/** Throws TlsPairError unless `cert` and `key` parse, match, and complete a handshake. */
export async function checkTlsPair(
  cert: string,
  key: string,
  context: SecureContext,
  paths: { certPath: string; keyPath: string },
): Promise<void> {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (e) {
    throw new TlsPairError("tls.cert", `${paths.certPath} is not a PEM certificate (${msg(e)})`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (e) {
    throw new TlsPairError("tls.key", `${paths.keyPath} is not a PEM private key (${msg(e)})`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new TlsPairError(
      "tls.key",
      `${paths.keyPath} does not match the certificate in ${paths.certPath}`,
    );
  }
  try {
    await probeHandshake(context);
  } catch (e) {
    throw new TlsPairError("tls.key", `a test handshake with the pair failed: ${msg(e)}`);
  }
}

/** Completes one TLS handshake against `context` over loopback; rejects if it does not. */
async function probeHandshake(context: SecureContext): Promise<void> {
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: "127.0.0.1", port: 0, transport: "tcp" });
  } catch {
    return; // no IPv4 loopback here: the key/certificate checks above have to do
  }
  const port = (listener.addr as Deno.NetAddr).port;
  const server = (async () => {
    const conn = await listener.accept();
    listener.close();
    const t = await TlsTransport.accept(conn, context, PROBE_TIMEOUT_MS).catch((e) => {
      try {
        conn.close();
      } catch { /* already closed */ }
      throw e;
    });
    t.close();
  })();
  const client = new Promise<void>((resolve, reject) => {
    // The pair may be for any name and from any CA: only the handshake is tested here.
    const s = connect({ host: "127.0.0.1", port, rejectUnauthorized: false });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error("timed out"));
    }, PROBE_TIMEOUT_MS);
    s.once("secureConnect", () => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    });
    s.once("error", (e: Error) => {
      clearTimeout(timer);
      s.destroy();
      reject(e);
    });
  });
  const cli = await client.then(() => null, (e: Error) => e);
  try {
    listener.close(); // unblocks an accept that never came
  } catch { /* closed after the accept */ }
  // The server's reason (e.g. "unsupported protocol") is the more telling one.
  await server;
  if (cli) throw cli;
}

function msg(e: unknown): string {
  return (e as Error)?.message ?? String(e);
}
