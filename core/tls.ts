/**
 * Server TLS material: the configured cert/key, or a self-signed pair generated once into
 * `data_dir/tls/`. The SecureContext is rebuilt when the files change or on reload()
 * (SIGHUP); connections already open keep the context they started with.
 *
 * TLS 1.2 is the minimum (RFC 8996 deprecates 1.0 and 1.1).
 *
 * @module
 */
import { createSecureContext, type SecureContext } from "node:tls";
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import selfsigned from "selfsigned";
import { type Config, ConfigError } from "./config.ts";
import { log } from "../lib/log.ts";
import { checkTlsPair, TlsPairError } from "./tls_check.ts";

export interface TlsFiles {
  certPath: string;
  keyPath: string;
}

/** Where the certificate lives; generates a self-signed one when none is configured. */
export async function ensureTlsFiles(config: Config): Promise<TlsFiles> {
  if (config.tls.cert && config.tls.key) {
    return { certPath: config.tls.cert, keyPath: config.tls.key };
  }
  const dir = join(config.dataDir, "tls");
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  try {
    await Deno.stat(certPath);
    await Deno.stat(keyPath);
    return { certPath, keyPath };
  } catch {
    // generate below
  }
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const pems = await selfsigned.generate(
    [{ name: "commonName", value: config.hostname }],
    {
      keySize: 2048,
      notAfterDate: new Date(Date.now() + 3650 * 86_400_000),
      algorithm: "sha256",
      extensions: [{
        name: "subjectAltName",
        altNames: [
          { type: 2, value: config.hostname },
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      }],
    },
  );
  await Deno.writeTextFile(keyPath, pems.private, { mode: 0o600 });
  await Deno.writeTextFile(certPath, pems.cert, { mode: 0o644 });
  log.info("tls", `generated a self-signed certificate for ${config.hostname} in ${dir}`);
  return { certPath, keyPath };
}

/** Holds the current SecureContext and rebuilds it when the certificate changes. */
export class TlsProvider {
  #files: TlsFiles;
  #context: SecureContext;
  #certPem: string;
  #keyPem: string;
  #watcher: Deno.FsWatcher | null = null;
  /** Called after each successful reload (listeners that hold PEM, not a context). */
  #onReload = new Set<() => void>();
  #reloading: Promise<unknown> = Promise.resolve();
  #debounce: ReturnType<typeof setTimeout> | undefined;

  private constructor(files: TlsFiles, context: SecureContext, certPem: string, keyPem: string) {
    this.#files = files;
    this.#context = context;
    this.#certPem = certPem;
    this.#keyPem = keyPem;
  }

  /** Loads and checks the pair; a pair that cannot serve is a ConfigError naming tls.cert/tls.key. */
  static async load(files: TlsFiles): Promise<TlsProvider> {
    try {
      const { context, cert, key } = await buildContext(files);
      log.info("tls", `serving ${describeCert(cert)}`, {
        cert: files.certPath,
        key: files.keyPath,
      });
      return new TlsProvider(files, context, cert, key);
    } catch (e) {
      if (e instanceof TlsPairError) throw new ConfigError(`${e.key}: ${e.message}`);
      throw e;
    }
  }

  /** The context for the next handshake. */
  context(): SecureContext {
    return this.#context;
  }

  /** PEM of the served certificate (tests trust it). */
  get certPem(): string {
    return this.#certPem;
  }

  /** PEM of the served key: for listeners that take PEM rather than a context (https). */
  get keyPem(): string {
    return this.#keyPem;
  }

  /**
   * Re-reads the files; swaps only a pair that has completed a test handshake, and keeps
   * serving the old one otherwise. Reloads run one at a time (SIGHUP and the watcher).
   */
  reload(): Promise<boolean> {
    const next = this.#reloading.then(async () => {
      try {
        const { context, cert, key } = await buildContext(this.#files);
        // The same pair again (a watcher event after an explicit reload): nothing to restart.
        if (cert === this.#certPem && key === this.#keyPem) return true;
        this.#context = context;
        this.#certPem = cert;
        this.#keyPem = key;
        log.info("tls", `certificate reloaded: serving ${describeCert(cert)}`);
        for (const fn of this.#onReload) fn();
        return true;
      } catch (e) {
        const why = e instanceof TlsPairError ? `${e.key}: ${e.message}` : (e as Error).message;
        log.error("tls", `certificate reload failed, keeping the old one: ${why}`);
        return false;
      }
    });
    this.#reloading = next;
    return next;
  }

  /** Calls `fn` after every successful reload; returns the function that unsubscribes. */
  onReload(fn: () => void): () => void {
    this.#onReload.add(fn);
    return () => this.#onReload.delete(fn);
  }

  /** Reloads when the certificate or key file changes. */
  watch(): void {
    if (this.#watcher) return;
    try {
      this.#watcher = Deno.watchFs([this.#files.certPath, this.#files.keyPath]);
    } catch {
      return;
    }
    const w = this.#watcher;
    (async () => {
      for await (const ev of w) {
        if (ev.kind === "access") continue;
        clearTimeout(this.#debounce);
        // Files are often written in two steps (ACME writes the key, then the certificate).
        this.#debounce = setTimeout(() => this.reload(), 200);
      }
    })().catch(() => {});
  }

  close(): void {
    clearTimeout(this.#debounce); // no reload after the server has stopped
    this.#watcher?.close();
    this.#watcher = null;
  }
}

async function buildContext(
  files: TlsFiles,
): Promise<{ context: SecureContext; cert: string; key: string }> {
  const cert = await readPem(files.certPath, "tls.cert");
  const key = await readPem(files.keyPath, "tls.key");
  let context: SecureContext;
  try {
    context = createSecureContext({ cert, key, minVersion: "TLSv1.2" });
  } catch (e) {
    throw new TlsPairError("tls.key", `cannot use ${files.keyPath}: ${(e as Error).message}`);
  }
  await checkTlsPair(cert, key, context, files);
  return { context, cert, key };
}

async function readPem(path: string, key: "tls.cert" | "tls.key"): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new TlsPairError(key, `cannot read ${path}: ${(e as Error).message}`);
  }
}

/** "CN=…, self-signed" or "CN=…, issued by …" for the logs. */
function describeCert(pem: string): string {
  try {
    const x = new X509Certificate(pem);
    const subject = x.subject.replaceAll("\n", ", ");
    const selfSigned = x.issuer === x.subject && x.verify(x.publicKey);
    return selfSigned
      ? `a self-signed certificate for ${subject} (clients will not trust it)`
      : `a certificate for ${subject} issued by ${x.issuer.replaceAll("\n", ", ")}`;
  } catch {
    return "a certificate";
  }
}
