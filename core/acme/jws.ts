/**
 * The account key and the JWS every ACME request is (RFC 8555 §6.2, RFC 7515 flattened
 * JSON serialization): ES256 (RFC 7518 §3.4: the signature is r||s, 64 bytes), the JWK
 * in the first request, the account URL ("kid") afterwards. The key thumbprint for key
 * authorizations is RFC 7638's.
 *
 * @module
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from "node:crypto";

export function b64url(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export interface EcJwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
}

/** An ECDSA P-256 key pair. */
export class EcKey {
  readonly publicKey: KeyObject;
  constructor(readonly privateKey: KeyObject) {
    this.publicKey = createPublicKey(privateKey);
  }

  static generate(): EcKey {
    return new EcKey(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey);
  }

  /** From PKCS#8 PEM; throws unless it is a P-256 key. */
  static fromPem(text: string): EcKey {
    const k = createPrivateKey(text);
    if (k.asymmetricKeyType !== "ec" || k.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
      throw new Error("not an ECDSA P-256 key");
    }
    return new EcKey(k);
  }

  toPem(): string {
    return this.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  }

  get jwk(): EcJwk {
    const j = this.publicKey.export({ format: "jwk" }) as { x: string; y: string };
    return { kty: "EC", crv: "P-256", x: j.x, y: j.y };
  }

  /** RFC 7638 §3: SHA-256 over the required members in lexicographic order. */
  get thumbprint(): string {
    const j = this.jwk;
    const canonical = `{"crv":"${j.crv}","kty":"${j.kty}","x":"${j.x}","y":"${j.y}"}`;
    return b64url(new Uint8Array(createHash("sha256").update(canonical).digest()));
  }

  /** RFC 8555 §6.2: protected header {alg, nonce, url, jwk|kid}; payload "" is POST-as-GET. */
  jws(
    url: string,
    nonce: string,
    payload: unknown | "",
    kid: string | null,
  ): { protected: string; payload: string; signature: string } {
    const header = kid
      ? { alg: "ES256", kid, nonce, url }
      : { alg: "ES256", jwk: this.jwk, nonce, url };
    const p = b64url(JSON.stringify(header));
    const body = payload === "" ? "" : b64url(JSON.stringify(payload));
    const sig = sign("sha256", new TextEncoder().encode(`${p}.${body}`), {
      key: this.privateKey,
      dsaEncoding: "ieee-p1363",
    });
    return { protected: p, payload: body, signature: b64url(new Uint8Array(sig)) };
  }
}
