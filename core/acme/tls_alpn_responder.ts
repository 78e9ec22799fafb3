/**
 * The server side of one TLS 1.3 handshake (RFC 8446), just enough to answer a TLS-ALPN-01
 * validation (RFC 8737 §3): the validator offers only "acme-tls/1", checks the certificate
 * it is shown, and hangs up without sending application data.
 *
 * Why our own: the challenge certificate must carry the critical acmeIdentifier
 * extension, and Deno's TLS (rustls, behind Deno.listenTls and node:tls alike) refuses to
 * load a certificate with an unknown critical extension ("UnsupportedCriticalExtension").
 *
 * One suite and group only: TLS_AES_128_GCM_SHA256 (mandatory, §9.1) with an X25519 key
 * share and ecdsa_secp256r1_sha256; a ClientHello without them gets a handshake_failure
 * alert (no HelloRetryRequest). The server flight goes out in one encrypted record; the
 * client's Finished is not checked, since nothing secret follows it.
 *
 * @module
 */
import {
  createCipheriv,
  createHash,
  createHmac,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";
import { concat } from "./der.ts";
import type { ClientHello } from "./client_hello.ts";

const TLS13 = 0x0304;
const AES128_GCM_SHA256 = 0x1301;
const ECDSA_P256_SHA256 = 0x0403;
const ALPN = "acme-tls/1";

const u8 = (...b: number[]) => Uint8Array.from(b);
const u16 = (n: number) => u8(n >> 8, n & 0xff);
const u24 = (n: number) => u8(n >> 16, (n >> 8) & 0xff, n & 0xff);
const vec16 = (b: Uint8Array) => concat([u16(b.length), b]);
const sha256 = (b: Uint8Array) => new Uint8Array(createHash("sha256").update(b).digest());
const hmac = (key: Uint8Array, data: Uint8Array) =>
  new Uint8Array(createHmac("sha256", key).update(data).digest());

/** A handshake message (§4): type, 24-bit length, body. */
const handshake = (type: number, body: Uint8Array) => concat([u8(type), u24(body.length), body]);

/** HKDF-Expand-Label (§7.1) for outputs up to one hash long (all we need). */
function expandLabel(secret: Uint8Array, label: string, context: Uint8Array, length: number) {
  const l = new TextEncoder().encode(`tls13 ${label}`);
  const info = concat([u16(length), u8(l.length), l, u8(context.length), context]);
  return hmac(secret, concat([info, u8(1)])).subarray(0, length);
}

/** Why a ClientHello cannot be answered, or null. */
export function unsupported(ch: ClientHello): string | null {
  if (!ch.message) return "ClientHello does not fit one record";
  if (!ch.versions.includes(TLS13)) return "no TLS 1.3";
  if (!ch.cipherSuites.includes(AES128_GCM_SHA256)) return "no TLS_AES_128_GCM_SHA256";
  if (!ch.x25519) return "no X25519 key share";
  if (!ch.sigAlgs.includes(ECDSA_P256_SHA256)) return "no ecdsa_secp256r1_sha256";
  if (!ch.alpn.includes(ALPN)) return "acme-tls/1 not offered";
  return null;
}

/**
 * The bytes of the server's flight (ServerHello, ChangeCipherSpec for middlebox
 * compatibility, then EncryptedExtensions, Certificate, CertificateVerify and Finished in
 * one record), or a fatal handshake_failure alert when the hello cannot be answered.
 */
export function serverFlight(ch: ClientHello, certDer: Uint8Array, key: KeyObject): Uint8Array {
  if (unsupported(ch)) return u8(0x15, 0x03, 0x03, 0x00, 0x02, 2, 40); // alert(40)
  const eph = generateKeyPairSync("x25519");
  const clientPub = createPublicKey({
    key: { kty: "OKP", crv: "X25519", x: b64url(ch.x25519!) },
    format: "jwk",
  });
  const shared = new Uint8Array(
    diffieHellman({ privateKey: eph.privateKey, publicKey: clientPub }),
  );
  const ourPub = b64urlDecode((eph.publicKey.export({ format: "jwk" }) as { x: string }).x);

  // §4.1.3 ServerHello, with supported_versions and key_share.
  const extensions = concat([
    u16(43),
    u16(2),
    u16(TLS13),
    u16(51),
    u16(36),
    u16(0x001d),
    u16(32),
    ourPub,
  ]);
  const serverHello = handshake(
    2,
    concat([
      u16(0x0303),
      new Uint8Array(randomBytes(32)),
      u8(ch.sessionId.length),
      ch.sessionId,
      u16(AES128_GCM_SHA256),
      u8(0),
      vec16(extensions),
    ]),
  );

  // §7.1 key schedule up to the server handshake traffic secret.
  const zeros = new Uint8Array(32);
  const early = hmac(zeros, zeros);
  const derived = expandLabel(early, "derived", sha256(new Uint8Array()), 32);
  const hsSecret = hmac(derived, shared);
  let transcript = concat([ch.message!, serverHello]);
  const sHs = expandLabel(hsSecret, "s hs traffic", sha256(transcript), 32);
  const writeKey = expandLabel(sHs, "key", new Uint8Array(), 16);
  const writeIv = expandLabel(sHs, "iv", new Uint8Array(), 12);

  // §4.3.1 EncryptedExtensions: the negotiated ALPN (RFC 7301 §3.1).
  const proto = new TextEncoder().encode(ALPN);
  const alpnExt = concat([u16(16), vec16(vec16(concat([u8(proto.length), proto])))]);
  const encryptedExtensions = handshake(8, vec16(alpnExt));
  // §4.4.2 Certificate: empty request context, one entry without extensions.
  const entry = concat([u24(certDer.length), certDer, u16(0)]);
  const certificate = handshake(11, concat([u8(0), u24(entry.length), entry]));
  transcript = concat([transcript, encryptedExtensions, certificate]);
  // §4.4.3 CertificateVerify over 64 spaces, the context string, 0, the transcript hash.
  const toSign = concat([
    new Uint8Array(64).fill(0x20),
    new TextEncoder().encode("TLS 1.3, server CertificateVerify"),
    u8(0),
    sha256(transcript),
  ]);
  const signature = new Uint8Array(sign("sha256", toSign, key));
  const certificateVerify = handshake(15, concat([u16(ECDSA_P256_SHA256), vec16(signature)]));
  transcript = concat([transcript, certificateVerify]);
  // §4.4.4 Finished.
  const finishedKey = expandLabel(sHs, "finished", new Uint8Array(), 32);
  const finished = handshake(20, hmac(finishedKey, sha256(transcript)));

  // §5.2 record protection: inner plaintext = messages || content type 22; nonce = iv ^ seq 0.
  const inner = concat([encryptedExtensions, certificate, certificateVerify, finished, u8(22)]);
  const header = concat([u8(23, 3, 3), u16(inner.length + 16)]);
  const cipher = createCipheriv("aes-128-gcm", writeKey, writeIv);
  cipher.setAAD(header);
  const sealed = concat([
    new Uint8Array(cipher.update(inner)),
    new Uint8Array(cipher.final()),
    new Uint8Array(cipher.getAuthTag()),
  ]);
  return concat([
    u8(22, 3, 3),
    u16(serverHello.length),
    serverHello,
    u8(20, 3, 3, 0, 1, 1), // change_cipher_spec (Appendix D.4)
    header,
    sealed,
  ]);
}

function b64url(b: Uint8Array): string {
  return btoa(String.fromCharCode(...b)).replaceAll("+", "-").replaceAll("/", "_").replace(
    /=+$/,
    "",
  );
}

function b64urlDecode(s: string): Uint8Array {
  const b = atob(s.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}
