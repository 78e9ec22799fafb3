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
import { join } from "node:path";
import selfsigned from "selfsigned";
import type { Config } from "./config.ts";
import { log } from "./log.ts";

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
  #watcher: Deno.FsWatcher | null = null;

  private constructor(files: TlsFiles, context: SecureContext, certPem: string) {
    this.#files = files;
    this.#context = context;
    this.#certPem = certPem;
  }

  static async load(files: TlsFiles): Promise<TlsProvider> {
    const { context, cert } = await buildContext(files);
    return new TlsProvider(files, context, cert);
  }

  /** The context for the next handshake. */
  context(): SecureContext {
    return this.#context;
  }

  /** PEM of the served certificate (tests trust it). */
  get certPem(): string {
    return this.#certPem;
  }

  /** Re-reads the files; keeps the old context when the new files are broken. */
  async reload(): Promise<void> {
    try {
      const { context, cert } = await buildContext(this.#files);
      this.#context = context;
      this.#certPem = cert;
      log.info("tls", "certificate reloaded");
    } catch (e) {
      log.error("tls", `certificate reload failed, keeping the old one: ${(e as Error).message}`);
    }
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
      let timer: ReturnType<typeof setTimeout> | undefined;
      for await (const ev of w) {
        if (ev.kind === "access") continue;
        clearTimeout(timer);
        timer = setTimeout(() => this.reload(), 200); // files are often written in two steps
      }
    })().catch(() => {});
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = null;
  }
}

async function buildContext(files: TlsFiles): Promise<{ context: SecureContext; cert: string }> {
  const [cert, key] = await Promise.all([
    Deno.readTextFile(files.certPath),
    Deno.readTextFile(files.keyPath),
  ]);
  const context = createSecureContext({ cert, key, minVersion: "TLSv1.2" });
  return { context, cert };
}
