/**
 * builtin:greylist — greylisting (RFC 6647), off unless configured.
 *
 * ```toml
 * [[plugins]]
 * name = "greylist"
 * module = "builtin:greylist"
 * options = { delay = "5m",          # a retry is accepted this long after the first attempt
 *             retry_window = "2d",    # first attempts are forgotten after this long
 *             remember = "35d",       # senders that retried pass without delay this long
 *             allow_ips = ["192.0.2.0/24"] }   # never greylisted (CIDR or address)
 * ```
 *
 * At RCPT, the triplet (client network: IPv4 /24 or IPv6 /64, envelope sender, recipient)
 * is looked up. The first time it is seen the recipient gets `451 4.7.1`; a retry at least
 * `delay` later passes. A client network and sender domain that retried once are
 * remembered (RFC 6647 §4.2.1 "auto-allow") and skip greylisting for `remember`, each pass
 * renewing it. Authenticated sessions are never greylisted.
 *
 * State lives in the plugin's kv area, with TTLs, so it needs no cleanup and no
 * permissions.
 *
 * @module
 */
import { definePlugin, type HookResult, type RcptContext, tempfail } from "../../sdk.ts";
import { splitMailbox } from "../../../mime/address.ts";

/** Checked options. */
export interface GreylistOptions {
  delayMs: number;
  retryWindowMs: number;
  rememberMs: number;
  allowIps: string[];
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function duration(v: unknown, key: string, dflt: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(typeof v === "string" ? v : v === undefined ? dflt : "");
  if (!m) throw new Error(`greylist: ${key} must be a duration like "5m"`);
  return Number(m[1]) * UNITS[m[2]];
}

/** Reads and checks the options; a bad value throws naming the key. */
export function readGreylistOptions(o: Record<string, unknown>): GreylistOptions {
  const allow = o.allow_ips ?? [];
  if (!Array.isArray(allow) || allow.some((x) => typeof x !== "string")) {
    throw new Error("greylist: allow_ips must be a list of addresses or CIDR ranges");
  }
  return {
    delayMs: duration(o.delay, "delay", "5m"),
    retryWindowMs: duration(o.retry_window, "retry_window", "2d"),
    rememberMs: duration(o.remember, "remember", "35d"),
    allowIps: allow,
  };
}

function ipv4(ip: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

/** Does `ip` fall in `range` ("a.b.c.d/n", or an exact address of either family)? */
export function inRange(ip: string, range: string): boolean {
  const [base, bits] = range.split("/");
  const a = ipv4(ip), b = ipv4(base);
  if (a === null || b === null) return ip.toLowerCase() === range.toLowerCase();
  const n = bits === undefined ? 32 : Number(bits);
  if (!Number.isInteger(n) || n < 0 || n > 32) return false;
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  return (a & mask) === (b & mask);
}

/**
 * The client's network as greylisting sees it: IPv4 /24, IPv6 /64 (RFC 6647 §4.1: large
 * senders retry from another address of the same pool).
 */
export function clientNetwork(ip: string): string {
  const v4 = /^(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}$/.exec(ip);
  if (v4) return `${v4[1]}.0/24`;
  if (ip.includes(":")) {
    const [head, tail = ""] = ip.toLowerCase().split("::");
    const h = head ? head.split(":") : [];
    const t = tail ? tail.split(":") : [];
    const groups = ip.includes("::")
      ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t]
      : h;
    return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
  }
  return ip;
}

async function digest(s: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)));
  let hex = "";
  for (const b of d.subarray(0, 16)) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** The domain of an address; the whole string when it has no "@". */
function domainOf(address: string): string {
  return (splitMailbox(address)?.domain ?? address).toLowerCase();
}

async function rcpt(ctx: RcptContext): Promise<HookResult | undefined> {
  const o = readGreylistOptions(ctx.options);
  const ip = ctx.session.remoteIp;
  // Our own users, and networks the admin trusts, are never delayed.
  if (ctx.session.user || o.allowIps.some((r) => inRange(ip, r))) return;
  const net = clientNetwork(ip);
  const sender = ctx.sender.address.toLowerCase() || "<>";
  const known = `s:${await digest(`${net}|${sender === "<>" ? "<>" : domainOf(sender)}`)}`;
  const triplet = await digest(`${net}|${sender}|${ctx.rcpt.address.toLowerCase()}`);
  const now = Date.now();
  if (await ctx.kv.get(known) !== null) {
    await ctx.kv.set(known, String(now), o.rememberMs);
    return { note: "greylist: known sender" };
  }
  const first = await ctx.kv.get(`t:${triplet}`);
  if (first === null) {
    // RFC 6647 §2.1: the first delivery attempt of an unknown triplet is deferred.
    await ctx.kv.set(`t:${triplet}`, String(now), o.retryWindowMs);
    return tempfail(
      451,
      "4.7.1",
      `Greylisted, please try again in ${Math.ceil(o.delayMs / 1000)} seconds`,
    );
  }
  const waited = now - Number(first);
  if (waited < o.delayMs) {
    // RFC 6647 §4.2: a retry too early is deferred again; the first-seen time stays.
    const left = Math.ceil((o.delayMs - waited) / 1000);
    return tempfail(451, "4.7.1", `Greylisted, please try again in ${left} seconds`);
  }
  // It retried: remember the sender's network and domain, forget the pending triplet.
  await ctx.kv.set(known, String(now), o.rememberMs);
  await ctx.kv.delete(`t:${triplet}`);
  return { note: "greylist: passed after retry" };
}

// Greylisting looks at the envelope only (RFC 6647 triplet): no message hook reads more.
export default definePlugin({ reads: "envelope", hooks: { rcpt } });
