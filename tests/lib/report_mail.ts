/**
 * Reading report mails in tests: the compressed attachment of a TLS-RPT (RFC 8460 §5.3) or
 * DMARC (RFC 7489 §7.2.1.1) report, base64-decoded and gunzipped.
 *
 * @module
 */
import assert from "node:assert/strict";
import { gunzip } from "../../core/reports/mail.ts";
import { decodeBase64 } from "../../mime/decode.ts";

/** The gzip'd attachment of type `type` in a report mail, as text. */
export async function reportAttachment(msg: string, type: string): Promise<string> {
  const at = msg.indexOf(`Content-Type: ${type}`);
  assert.ok(at >= 0, `no ${type} part in:\n${msg.slice(0, 2000)}`);
  const start = msg.indexOf("\r\n\r\n", at) + 4;
  const end = msg.indexOf("\r\n--", start);
  const gz = decodeBase64(new TextEncoder().encode(msg.slice(start, end)));
  return new TextDecoder().decode(await gunzip(gz, 10_000_000));
}
