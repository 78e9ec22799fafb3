/**
 * Certificates built here: the PKCS#10 request sent to finalize an order (RFC 8555 §7.4,
 * RFC 2986) and the self-signed TLS-ALPN-01 challenge certificate (RFC 8737 §3). Keys are
 * ECDSA P-256, signed ecdsa-with-SHA256 (RFC 5758 §3.2).
 *
 * @module
 */
import { createHash, type KeyObject, randomBytes, sign } from "node:crypto";
import {
  bits,
  bool,
  explicit,
  implicitPrim,
  int,
  octets,
  oid,
  seq,
  set,
  time,
  uint,
  utf8,
} from "./der.ts";

const ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"));
const OID_CN = "2.5.4.3";
const OID_SAN = "2.5.29.17";
const OID_EXTENSION_REQUEST = "1.2.840.113549.1.9.14";
/** id-pe-acmeIdentifier (RFC 8737 §6.1). */
const OID_ACME_IDENTIFIER = "1.3.6.1.5.5.7.1.31";

function spki(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ type: "spki", format: "der" }) as Uint8Array);
}

function name(cn: string): Uint8Array {
  return seq(set(seq(oid(OID_CN), utf8(cn))));
}

function sanExtension(domains: string[]): Uint8Array {
  const names = domains.map((d) => implicitPrim(2, new TextEncoder().encode(d)));
  return seq(oid(OID_SAN), octets(seq(...names)));
}

function signed(tbs: Uint8Array, key: KeyObject): Uint8Array {
  const sig = new Uint8Array(sign("sha256", tbs, key)); // DER Ecdsa-Sig-Value
  return seq(tbs, ECDSA_SHA256, bits(sig));
}

/** DER of a CSR for `domains` (the first is the CN), signed by the certificate key. */
export function buildCsr(
  domains: string[],
  privateKey: KeyObject,
  publicKey: KeyObject,
): Uint8Array {
  const extReq = seq(oid(OID_EXTENSION_REQUEST), set(seq(sanExtension(domains))));
  const info = seq(int(0), name(domains[0]), spki(publicKey), explicit(0, extReq));
  return signed(info, privateKey);
}

/**
 * DER of the RFC 8737 §3 challenge certificate for `domain`: self-signed, one dNSName SAN,
 * and the critical acmeIdentifier extension holding SHA-256(key authorization).
 */
export function challengeCertificate(
  domain: string,
  keyAuthorization: string,
  privateKey: KeyObject,
  publicKey: KeyObject,
  now: number,
): Uint8Array {
  const digest = new Uint8Array(createHash("sha256").update(keyAuthorization).digest());
  const acme = seq(oid(OID_ACME_IDENTIFIER), bool(true), octets(octets(digest)));
  const tbs = seq(
    explicit(0, int(2)), // v3
    uint(new Uint8Array(randomBytes(16))),
    ECDSA_SHA256,
    name(domain),
    seq(time(new Date(now - 86_400_000)), time(new Date(now + 7 * 86_400_000))),
    name(domain),
    spki(publicKey),
    explicit(3, seq(sanExtension([domain]), acme)),
  );
  return signed(tbs, privateKey);
}
