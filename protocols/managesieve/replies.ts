/**
 * Response lines (RFC 5804 §1.2, §4): `OK` / `NO` / `BYE`, an optional `(code)`, an optional
 * human-readable string.
 *
 * @module
 */
import { sieveString } from "./parser.ts";

function response(kind: string, text: string, code?: string): string {
  return `${kind}${code ? ` (${code})` : ""}${text ? ` ${sieveString(text)}` : ""}\r\n`;
}

export const ok = (text = "", code?: string) => response("OK", text, code);
export const no = (text: string, code?: string) => response("NO", text, code);
export const bye = (text: string, code?: string) => response("BYE", text, code);
