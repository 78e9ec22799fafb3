/**
 * builtin:policy — per-sender and per-IP rate limits, an attachment type block list,
 * sender / recipient allow and block lists, and a maximum number of recipients.
 *
 * ```toml
 * [[plugins]]
 * name = "policy"
 * module = "builtin:policy"
 * options = { max_recipients = 50,
 *             sender_rate = { max = 100, per = "1h" }, ip_rate = { max = 500, per = "1h" },
 *             block_attachments = ["exe", "scr", "js"],
 *             block_senders = ["@spam.example"], allow_senders = ["boss@example.com"],
 *             block_recipients = ["noreply@example.com"], allow_recipients = [] }
 * ```
 *
 * List entries are a full address ("a@b.test"), a domain ("@b.test" or "b.test"; matches
 * its subdomains too). An allow-listed sender or recipient is exempt from the other rules
 * of that hook; a block-listed one is refused with 550 5.7.1. Rate limits count messages
 * (at MAIL) in fixed windows kept in the plugin's kv area; over the limit is 451 4.7.1.
 * Needs no permissions.
 *
 * @module
 */
import { accept, definePlugin, type HookResult, reject, tempfail } from "../../sdk.ts";
import { addressListed } from "../../../mime/address.ts";

interface Rate {
  max: number;
  perMs: number;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30s" / "5m" / "1h" / "1d" -> ms; a bad value throws (the hook fails, on_error applies). */
function duration(v: unknown, key: string): number {
  const m = typeof v === "string" ? /^(\d+)(s|m|h|d)$/.exec(v) : null;
  if (!m) throw new Error(`policy: ${key} must be a duration like "1h"`);
  return Number(m[1]) * UNITS[m[2]];
}

function rate(v: unknown, key: string): Rate | null {
  if (v === undefined) return null;
  const o = v as { max?: unknown; per?: unknown };
  if (typeof o !== "object" || o === null || !Number.isInteger(o.max) || (o.max as number) < 1) {
    throw new Error(`policy: ${key} must be { max = N, per = "1h" }`);
  }
  return { max: o.max as number, perMs: duration(o.per ?? "1h", `${key}.per`) };
}

function list(v: unknown, key: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    throw new Error(`policy: ${key} must be a list of strings`);
  }
  return v.map((x: string) => x.toLowerCase().trim());
}

/** Does `address` match an entry: the address, "@domain" / "domain" and its subdomains. */
export const matches = addressListed;

/**
 * File names of attachments: filename= / name= parameters of Content-Type and
 * Content-Disposition fields (with their folded lines) anywhere in the message.
 */
export function attachmentNames(text: string): string[] {
  const fields: string[] = [];
  let current: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (current !== null && /^[ \t]/.test(line)) {
      current += line;
      continue;
    }
    if (current !== null) fields.push(current);
    current = /^content-(type|disposition)\s*:/i.test(line) ? line : null;
  }
  if (current !== null) fields.push(current);
  const names: string[] = [];
  // RFC 2183 filename=, RFC 2045 name=, quoted or not; RFC 2231 filename*= too.
  const re = /\b(?:file)?name\*?(?:\d+\*?)?\s*=\s*(?:"([^"]*)"|([^\s;]+))/gi;
  for (const f of fields) {
    for (const m of f.matchAll(re)) names.push((m[1] ?? m[2]).replace(/^utf-8''/i, ""));
  }
  return names;
}

type Options = {
  maxRecipients: number | null;
  senderRate: Rate | null;
  ipRate: Rate | null;
  blockAttachments: string[];
  allowSenders: string[];
  blockSenders: string[];
  allowRecipients: string[];
  blockRecipients: string[];
};

function readOptions(o: Record<string, unknown>): Options {
  const max = o.max_recipients;
  if (max !== undefined && (!Number.isInteger(max) || (max as number) < 1)) {
    throw new Error("policy: max_recipients must be a positive integer");
  }
  return {
    maxRecipients: (max as number | undefined) ?? null,
    senderRate: rate(o.sender_rate, "sender_rate"),
    ipRate: rate(o.ip_rate, "ip_rate"),
    blockAttachments: list(o.block_attachments, "block_attachments").map((x) =>
      x.replace(/^\./, "")
    ),
    allowSenders: list(o.allow_senders, "allow_senders"),
    blockSenders: list(o.block_senders, "block_senders"),
    allowRecipients: list(o.allow_recipients, "allow_recipients"),
    blockRecipients: list(o.block_recipients, "block_recipients"),
  };
}

/** Counts one event in the current fixed window; true when over the limit. */
async function over(
  kv: { incr(key: string, by?: number, ttlMs?: number): Promise<number> },
  key: string,
  r: Rate,
): Promise<boolean> {
  const window = Math.floor(Date.now() / r.perMs);
  return await kv.incr(`${key}:${window}`, 1, r.perMs) > r.max;
}

export default definePlugin({
  // data looks for blocked attachment names in the MIME parts: the body.
  reads: "message",
  hooks: {
    async mail(ctx): Promise<HookResult | undefined> {
      const o = readOptions(ctx.options);
      const sender = ctx.sender.address;
      if (sender && matches(sender, o.allowSenders)) return accept("allow-listed sender");
      if (sender && matches(sender, o.blockSenders)) {
        return reject(550, "5.7.1", "Sender address rejected by policy");
      }
      if (o.ipRate && await over(ctx.kv, `ip:${ctx.session.remoteIp}`, o.ipRate)) {
        return tempfail(451, "4.7.1", "Too many messages from your address, try again later");
      }
      // Mail from an authenticated user counts against the user, else the envelope sender.
      const who = ctx.session.user ?? sender;
      if (o.senderRate && who && await over(ctx.kv, `sender:${who}`, o.senderRate)) {
        return tempfail(451, "4.7.1", "Too many messages from this sender, try again later");
      }
    },
    rcpt(ctx): HookResult | undefined {
      const o = readOptions(ctx.options);
      const rcpt = ctx.rcpt.address;
      if (matches(rcpt, o.allowRecipients)) return accept("allow-listed recipient");
      if (matches(rcpt, o.blockRecipients)) {
        return reject(550, "5.7.1", "Recipient address rejected by policy");
      }
      // RFC 5321 §4.5.3.1.10: too many recipients -> 452, the client sends the rest later.
      if (o.maxRecipients !== null && ctx.recipients.length >= o.maxRecipients) {
        return tempfail(452, "4.5.3", "Too many recipients");
      }
    },
    data(ctx): HookResult | undefined {
      const o = readOptions(ctx.options);
      if (o.blockAttachments.length === 0) return;
      for (const name of attachmentNames(ctx.message.text())) {
        const ext = name.toLowerCase().split(".").pop() ?? "";
        if (name.includes(".") && o.blockAttachments.includes(ext)) {
          return reject(550, "5.7.1", `Attachments of type .${ext} are not accepted`);
        }
      }
    },
  },
});
