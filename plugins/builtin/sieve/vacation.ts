/**
 * The vacation reply (RFC 5230, RFC 6131): once per sender per period, counted in the
 * plugin's kv, and the reply message itself (RFC 3834 §5: `Auto-Submitted: auto-replied`,
 * In-Reply-To and References to the original).
 *
 * @module
 */
import type { PluginKv } from "../../sdk.ts";
import type { Action } from "./eval.ts";
import { encodeWord } from "./headers.ts";

type Vacation = Extract<Action, { type: "vacation" }>;

async function sha256(s: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * True when this sender has not had this vacation reply (same handle) within its period
 * (RFC 5230 §4.2); counts the reply. `:seconds 0` answers every time (RFC 6131 §2).
 */
export async function firstInPeriod(kv: PluginKv, account: string, v: Vacation): Promise<boolean> {
  if (v.period <= 0) return true;
  const key = `vacation:${account.toLowerCase()}:` +
    await sha256(`${v.to.toLowerCase()}\0${v.handle}`);
  return await kv.incr(key, 1, v.period * 1000) === 1;
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, " ").trim();
}

/** The reply as a whole message (CRLF line ends). */
export function vacationMessage(v: Vacation, account: string, now = new Date()): string {
  const from = v.from && v.from.includes("@") ? oneLine(v.from) : account;
  const domain = account.slice(account.lastIndexOf("@") + 1);
  const headers = [
    `From: ${from}`,
    `To: <${v.to}>`,
    `Subject: ${encodeWord(oneLine(v.subject))}`,
    `Date: ${now.toUTCString().replace(/GMT$/, "+0000")}`,
    `Message-ID: <${crypto.randomUUID()}@${domain}>`,
    ...(v.inReplyTo ? [`In-Reply-To: ${v.inReplyTo}`, `References: ${v.inReplyTo}`] : []),
    "Auto-Submitted: auto-replied (vacation)",
    "MIME-Version: 1.0",
  ];
  const text = v.reason.replace(/\r?\n/g, "\r\n");
  // :mime: the reason is a MIME entity with its own header fields (RFC 5230 §5.1).
  if (v.mime) return headers.join("\r\n") + "\r\n" + text;
  headers.push("Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit");
  return headers.join("\r\n") + "\r\n\r\n" + text + (text.endsWith("\r\n") ? "" : "\r\n");
}
