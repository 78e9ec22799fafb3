/**
 * Where ACME keeps its files under data_dir, and the swap of a new certificate pair into
 * the files the TLS listeners serve (data_dir/tls/cert.pem and key.pem).
 *
 * The swap must never leave a key next to a certificate it does not match (the server
 * would refuse to start): both are written as `.next` files first (fsync'd), then the key
 * and the certificate are renamed in. A crash between the renames is completed by
 * finishSwap() at the next start.
 *
 * @module
 */
import { join } from "node:path";
import { EcKey } from "./jws.ts";

export interface AcmePaths {
  dir: string;
  accountKey: string;
  cert: string;
  key: string;
}

export function acmePaths(dataDir: string): AcmePaths {
  const tls = join(dataDir, "tls");
  return {
    dir: join(dataDir, "acme"),
    accountKey: join(dataDir, "acme", "account.key"),
    cert: join(tls, "cert.pem"),
    key: join(tls, "key.pem"),
  };
}

/** Loads the account key, creating it (mode 0600) on first use. */
export async function accountKey(paths: AcmePaths): Promise<EcKey> {
  try {
    return EcKey.fromPem(await Deno.readTextFile(paths.accountKey));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new Error(`acme: cannot use ${paths.accountKey}: ${(e as Error).message}`);
    }
  }
  await Deno.mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const key = EcKey.generate();
  await writeDurable(paths.accountKey, key.toPem(), 0o600);
  return key;
}

async function writeDurable(path: string, text: string, mode: number): Promise<void> {
  const f = await Deno.open(path, { write: true, create: true, truncate: true, mode });
  try {
    await f.write(new TextEncoder().encode(text));
    await f.sync();
  } finally {
    f.close();
  }
  await Deno.chmod(path, mode); // an existing file keeps its mode through open()
}

/** Installs a new pair: both `.next` files durable (key first), then renamed key, then certificate. */
export async function installPair(paths: AcmePaths, certPem: string, keyPem: string) {
  await Deno.mkdir(join(paths.cert, ".."), { recursive: true, mode: 0o700 });
  // The key first: a `.next` certificate then always has its key beside it or already in place.
  await writeDurable(`${paths.key}.next`, keyPem, 0o600);
  await writeDurable(`${paths.cert}.next`, certPem, 0o644);
  await finishSwap(paths);
}

/** Completes a swap that a crash interrupted (or that installPair just prepared). */
export async function finishSwap(paths: AcmePaths): Promise<void> {
  const exists = (p: string) => Deno.stat(p).then(() => true, () => false);
  if (!(await exists(`${paths.cert}.next`))) return;
  if (await exists(`${paths.key}.next`)) await Deno.rename(`${paths.key}.next`, paths.key);
  await Deno.rename(`${paths.cert}.next`, paths.cert);
}
