/**
 * Turns what a plugin answered (untrusted data) into a checked result: a known action,
 * a reply code in the right class, one line of text, well-formed header fields.
 * Pure: no I/O.
 *
 * @module
 */
import { type Action, ACTIONS, type DeliverCopy, type HeaderField } from "../sdk.ts";
import type { WireResult } from "./protocol.ts";
import { validHeaderName } from "./message.ts";

/** A plugin's answer after checking. */
export interface CheckedResult {
  action: Action;
  code?: number;
  enhanced?: string;
  text?: string;
  addHeaders: HeaderField[];
  body?: Uint8Array;
  /** The whole replacement message, when the plugin gave one. */
  message?: Uint8Array;
  score: number;
  mailbox?: string;
  copies?: DeliverCopy[];
  redirect?: string[];
  reply?: { to: string; message: string };
  relay?: string;
  tls?: "require" | "opportunistic" | "none";
  note?: string;
}

/** Reply defaults per action: [code, enhanced, text]. */
const DEFAULTS: Partial<Record<Action, [number, string, string]>> = {
  reject: [550, "5.7.1", "Rejected by policy"],
  tempfail: [451, "4.7.1", "Try again later"],
  disconnect: [421, "4.7.0", "Closing connection"],
};

function oneLine(v: unknown, max: number): string | undefined {
  if (typeof v !== "string") return undefined;
  // A CR or LF would let a plugin inject protocol lines.
  const s = v.replace(/[\r\n]+/g, " ").replaceAll("\0", "").trim().slice(0, max);
  return s === "" ? undefined : s;
}

/** Checks a wire result; throws with a message naming the bad field. */
export function checkResult(r: WireResult | null): CheckedResult {
  if (r === null) return { action: "continue", addHeaders: [], score: 0 };
  const action = r.action ?? "continue";
  if (!ACTIONS.includes(action)) throw new Error(`unknown action "${String(action)}"`);
  const out: CheckedResult = { action, addHeaders: [], score: 0 };
  const def = DEFAULTS[action];
  if (def) {
    const cls = def[0] >= 500 ? 5 : 4;
    // RFC 5321 §4.2.1: the first digit says permanent (5) or transient (4); keep it honest.
    const code = Number.isInteger(r.code) && Math.floor(r.code! / 100) === cls ? r.code! : def[0];
    const enhanced = typeof r.enhanced === "string" &&
        new RegExp(`^${cls}\\.\\d{1,3}\\.\\d{1,3}$`).test(r.enhanced)
      ? r.enhanced
      : def[1];
    out.code = code;
    out.enhanced = enhanced;
    out.text = oneLine(r.text, 400) ?? def[2];
  }
  if (r.addHeaders !== undefined) {
    if (!Array.isArray(r.addHeaders)) throw new Error("addHeaders must be a list of [name, value]");
    for (const h of r.addHeaders) {
      if (!Array.isArray(h) || typeof h[0] !== "string" || typeof h[1] !== "string") {
        throw new Error("addHeaders must be a list of [name, value] strings");
      }
      if (!validHeaderName(h[0])) throw new Error(`bad header name "${h[0].slice(0, 40)}"`);
      out.addHeaders.push([h[0], oneLine(h[1], 4000) ?? ""]);
    }
  }
  if (r.body !== undefined) {
    if (!(r.body instanceof Uint8Array)) throw new Error("body must be bytes");
    out.body = r.body;
  }
  if (r.message !== undefined) {
    if (!(r.message instanceof Uint8Array)) throw new Error("message must be bytes");
    out.message = r.message;
  }
  if (r.score !== undefined) {
    if (typeof r.score !== "number" || !Number.isFinite(r.score)) {
      throw new Error("score must be a finite number");
    }
    out.score = r.score;
  }
  const mailbox = oneLine(r.mailbox, 200);
  if (mailbox) out.mailbox = mailbox;
  if (r.copies !== undefined) out.copies = checkCopies(r.copies);
  if (r.redirect !== undefined) out.redirect = checkRedirect(r.redirect);
  if (r.reply !== undefined) out.reply = checkReply(r.reply);
  const relay = oneLine(r.relay, 300);
  if (relay) out.relay = relay;
  if (r.tls === "require" || r.tls === "opportunistic" || r.tls === "none") out.tls = r.tls;
  const note = oneLine(r.note, 200);
  if (note) out.note = note;
  return out;
}

const MAX_COPIES = 32;
const MAX_FLAGS = 64;
/** An IMAP flag or keyword (RFC 9051 §9 flag-keyword, and "\\" for system flags). */
// deno-lint-ignore no-control-regex
const IMAP_FLAG = /^[^\s()\{%*"\]\x00-\x1f\x7f]{1,100}$/;

/** deliver `copies`: bounded, one-line mailbox names, flags without white space. */
function checkCopies(v: unknown): DeliverCopy[] {
  if (!Array.isArray(v) || v.length > MAX_COPIES) {
    throw new Error(`copies must be a list of at most ${MAX_COPIES} { mailbox, flags? }`);
  }
  return v.map((c) => {
    const mailbox = oneLine((c as DeliverCopy)?.mailbox, 200);
    if (!mailbox) throw new Error("copies: each needs a mailbox");
    const flags = (c as DeliverCopy).flags ?? [];
    if (
      !Array.isArray(flags) || flags.length > MAX_FLAGS ||
      !flags.every((f) => typeof f === "string" && IMAP_FLAG.test(f))
    ) throw new Error("copies: flags must be a list of IMAP flags");
    const create = (c as DeliverCopy).create === true;
    return { mailbox, ...(flags.length ? { flags } : {}), ...(create ? { create } : {}) };
  });
}

const MAX_REDIRECTS = 4;
/** A plain address: no white space, brackets or a second "@" (it becomes an RCPT TO). */
const ADDRESS = /^[^\s<>@",;()\[\]\\]{1,64}@[A-Za-z0-9.-]{1,253}$/;

/** deliver `redirect`: at most 4 plain addresses. */
function checkRedirect(v: unknown): string[] {
  if (!Array.isArray(v) || v.length > MAX_REDIRECTS) {
    throw new Error(`redirect must be a list of at most ${MAX_REDIRECTS} addresses`);
  }
  for (const a of v) {
    if (typeof a !== "string" || !ADDRESS.test(a)) {
      throw new Error(`redirect: bad address "${String(a).slice(0, 80)}"`);
    }
  }
  return [...new Set(v as string[])];
}

const MAX_REPLY = 64 * 1024;

/** deliver `reply`: an address and a bounded message (the host checks `to` against the sender). */
function checkReply(v: unknown): { to: string; message: string } {
  const r = v as { to?: unknown; message?: unknown } | null;
  if (typeof r !== "object" || r === null || typeof r.to !== "string" || !ADDRESS.test(r.to)) {
    throw new Error("reply: needs { to: address, message }");
  }
  if (typeof r.message !== "string" || r.message.length === 0 || r.message.length > MAX_REPLY) {
    throw new Error(`reply: message must be 1 to ${MAX_REPLY} characters`);
  }
  return { to: r.to, message: r.message };
}
