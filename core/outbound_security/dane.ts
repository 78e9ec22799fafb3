/**
 * DANE for SMTP (RFC 7672) on the certificate chain a server presented: TLSA records
 * (RFC 6698) of usage DANE-EE(3) and DANE-TA(2), selector Cert(0) or SPKI(1), matching
 * Full(0), SHA2-256(1) or SHA2-512(2). PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP
 * (RFC 7672 §3.1.3). Pure: no I/O.
 *
 * - DANE-EE: the leaf matches; names and validity dates are not checked (RFC 7672 §3.1.1).
 * - DANE-TA: a certificate the server sent (not the leaf) matches; every link from the leaf
 *   up to it verifies, the leaf is within its validity period and names the MX host
 *   (RFC 7672 §3.1.2, §3.2.2). A trust anchor that is not in the chain is not found
 *   (RFC 7672 §3.1.2 asks servers to send it).
 *
 * @module
 */
import { createHash, X509Certificate } from "node:crypto";
import type { TlsaRecord } from "../dns.ts";

/** The records DANE can use (RFC 7672 §3.1.3, RFC 6698 §2.1). */
export function usableTlsa(records: TlsaRecord[]): TlsaRecord[] {
  return records.filter((r) =>
    (r.usage === 2 || r.usage === 3) && (r.selector === 0 || r.selector === 1) &&
    (r.matching === 0 || r.matching === 1 || r.matching === 2)
  );
}

/** What the selector picks (RFC 6698 §2.1.2): the whole certificate or its SPKI, DER. */
function selected(cert: X509Certificate, selector: number): Uint8Array {
  if (selector === 0) return new Uint8Array(cert.raw);
  return new Uint8Array(cert.publicKey.export({ type: "spki", format: "der" }));
}

/** RFC 6698 §2.1.3: the data compared, full or hashed. */
function matches(r: TlsaRecord, cert: X509Certificate): boolean {
  const bytes = selected(cert, r.selector);
  const value = r.matching === 0
    ? bytes
    : new Uint8Array(createHash(r.matching === 1 ? "sha256" : "sha512").update(bytes).digest());
  if (value.length !== r.data.length) return false;
  for (let i = 0; i < value.length; i++) if (value[i] !== r.data[i]) return false;
  return true;
}

/** The verdict: which record matched, or why nothing did. */
export type DaneVerdict = { ok: true; matched: string } | { ok: false; reason: string };

/**
 * Checks `chain` (DER, leaf first, as the server sent it) against usable `records` for the
 * MX host `names` (RFC 7672 §3.2.2 reference identifiers) at time `now` (ms).
 */
export function daneVerify(
  chain: Uint8Array[],
  records: TlsaRecord[],
  names: string[],
  now: number,
): DaneVerdict {
  if (chain.length === 0) return { ok: false, reason: "no certificate presented" };
  let certs: X509Certificate[];
  try {
    certs = chain.map((der) => new X509Certificate(der));
  } catch {
    return { ok: false, reason: "unparsable certificate" };
  }
  const leaf = certs[0];
  for (const r of records) {
    if (r.usage === 3 && matches(r, leaf)) return { ok: true, matched: describe(r) };
  }
  for (const r of records) {
    if (r.usage !== 2) continue;
    for (let i = 1; i < certs.length; i++) {
      if (!matches(r, certs[i])) continue;
      const why = chainTo(certs, i, names, now);
      if (why === null) return { ok: true, matched: describe(r) };
      return { ok: false, reason: why };
    }
  }
  return { ok: false, reason: "no TLSA record matches the certificate chain" };
}

/** Why the leaf does not chain up to certs[anchor] for `names`, or null when it does. */
function chainTo(certs: X509Certificate[], anchor: number, names: string[], now: number) {
  for (let k = 0; k < anchor; k++) {
    if (!certs[k].checkIssued(certs[k + 1]) || !certs[k].verify(certs[k + 1].publicKey)) {
      return `certificate ${k} is not signed by certificate ${k + 1}`;
    }
  }
  const leaf = certs[0];
  if (now < Date.parse(leaf.validFrom) || now > Date.parse(leaf.validTo)) {
    return "certificate expired or not yet valid";
  }
  if (!names.some((n) => leaf.checkHost(n) !== undefined)) {
    return `certificate does not name ${names.join(" or ")}`;
  }
  return null;
}

/** "3 1 1 ab12...": the record in presentation form, data shortened (logs). */
export function describe(r: TlsaRecord, full = false): string {
  const hex = Array.from(r.data, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${r.usage} ${r.selector} ${r.matching} ${full ? hex : hex.slice(0, 16)}`;
}
