/**
 * DKIM (RFC 6376) keys and signing of outbound mail from local domains, with `mailauth`.
 *
 * Keys live in `data_dir/dkim/<domain>.json` ({ selector, privateKey (PKCS#8 PEM) }, mode
 * 0600), created by `denomail dkim generate`. The message is signed for the domain of its
 * From address (RFC 7489 §3.1 alignment) when that domain has a key.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { dkimSign } from "mailauth/lib/dkim/sign.js";
import { headerSection } from "./dsn.ts";
import { log } from "../../lib/log.ts";
import { concatBytes } from "../../lib/bytes.ts";

/** One domain's signing key. */
export interface DkimKey {
  domain: string;
  selector: string;
  privateKey: string;
}

/** Where a domain's key file lives. */
export function dkimKeyPath(dataDir: string, domain: string): string {
  return join(dataDir, "dkim", `${domain.toLowerCase()}.json`);
}

/** Creates an RSA-2048 key pair (RFC 8301 §3.2: at least 1024, 2048 recommended). */
export function generateDkimKey(domain: string, selector: string): DkimKey & { publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const der = publicKey.export({ type: "spki", format: "der" }) as Uint8Array;
  let bin = "";
  for (const b of der) bin += String.fromCharCode(b);
  return {
    domain: domain.toLowerCase(),
    selector,
    privateKey: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    publicKey: btoa(bin),
  };
}

/** RFC 6376 §3.6.1: the TXT record value that publishes a public key. */
export function dkimTxtRecord(publicKeyBase64: string): string {
  return `v=DKIM1; k=rsa; p=${publicKeyBase64}`;
}

/** Writes a key file (0600). */
export async function saveDkimKey(dataDir: string, key: DkimKey): Promise<string> {
  await Deno.mkdir(join(dataDir, "dkim"), { recursive: true, mode: 0o700 });
  const path = dkimKeyPath(dataDir, key.domain);
  await Deno.writeTextFile(
    path,
    JSON.stringify({ selector: key.selector, privateKey: key.privateKey }),
    { mode: 0o600 },
  );
  return path;
}

/** Reads a domain's key, or null when it has none. */
export async function loadDkimKey(dataDir: string, domain: string): Promise<DkimKey | null> {
  try {
    const j = JSON.parse(await Deno.readTextFile(dkimKeyPath(dataDir, domain)));
    if (typeof j.selector !== "string" || typeof j.privateKey !== "string") return null;
    return { domain: domain.toLowerCase(), selector: j.selector, privateKey: j.privateKey };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** The domain of the (first) From address, lower-case, or null. */
export function fromDomain(message: Uint8Array): string | null {
  const head = new TextDecoder().decode(headerSection(message)).replace(/\r?\n[ \t]+/g, " ");
  const m = /^from:(.*)$/im.exec(head);
  if (!m) return null;
  const domain = angleDomain(m[1]) ?? /@([A-Za-z0-9.-]+)/.exec(m[1])?.[1];
  return domain ? domain.toLowerCase().replace(/\.$/, "") : null;
}

/**
 * The domain of the first `<...@domain>` in a From value, or undefined. Each `<...>` span is
 * looked at once (a pattern for it backtracked: seconds on a crafted 100 KB From field).
 * Every `<` before the same `>` sees the same tail, so only the first of them is tried.
 */
function angleDomain(value: string): string | undefined {
  for (let lt = value.indexOf("<"); lt >= 0; lt = value.indexOf("<", lt)) {
    const gt = value.indexOf(">", lt);
    if (gt < 0) return undefined;
    const at = value.lastIndexOf("@", gt);
    const domain = at > lt ? value.slice(at + 1, gt) : "";
    if (domain !== "" && !/\s/.test(domain)) return domain;
    lt = gt;
  }
  return undefined;
}

/** Signs outbound messages with the keys under data_dir/dkim (cached for a few seconds). */
export class DkimSigner {
  #cache = new Map<string, { key: DkimKey | null; at: number }>();

  constructor(readonly dataDir: string, readonly cacheMs = 10_000) {}

  async #key(domain: string): Promise<DkimKey | null> {
    const hit = this.#cache.get(domain);
    if (hit && Date.now() - hit.at < this.cacheMs) return hit.key;
    const key = await loadDkimKey(this.dataDir, domain);
    this.#cache.set(domain, { key, at: Date.now() });
    return key;
  }

  /**
   * Returns the message with a DKIM-Signature header prepended when the From domain has a
   * key; otherwise (or when signing fails) the message unchanged.
   */
  async sign(message: Uint8Array): Promise<Uint8Array> {
    const domain = fromDomain(message);
    if (!domain) return message;
    const key = await this.#key(domain);
    if (!key) return message;
    try {
      // mailauth's typings name top-level fields, but at run time only `signatureData`
      // produces a signature (checked against mailauth 7.1.0).
      const opts = {
        canonicalization: "relaxed/relaxed",
        signatureData: [{
          signingDomain: key.domain,
          selector: key.selector,
          privateKey: key.privateKey,
        }],
      } as unknown as Parameters<typeof dkimSign>[1];
      const r = await dkimSign(Buffer.from(message), opts);
      if (r.errors?.length || !r.signatures) {
        log.warn("dkim", `signing for ${domain} failed`, { error: String(r.errors?.[0]?.err) });
        return message;
      }
      return concatBytes([new TextEncoder().encode(r.signatures), message]);
    } catch (e) {
      log.warn("dkim", `signing for ${domain} failed`, { error: (e as Error).message });
      return message;
    }
  }
}
