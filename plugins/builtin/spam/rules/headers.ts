/**
 * Header rules: required fields missing or malformed (RFC 5322), a HELO that lies
 * (RFC 5321 §4.1.1.1), a From that does not match the envelope or spoofs another address.
 * Pure: everything comes in as arguments.
 *
 * @module
 */
import { domainAtEnd, type ParsedMail } from "../parse.ts";
import { hasTrackingId } from "./subject.ts";
import { hit, type RuleHit } from "./table.ts";
import { splitMailbox } from "../../../../mime/address.ts";

/** What the SMTP transaction said, when the message came over SMTP. */
export interface Envelope {
  /** MAIL FROM address, "" for the null sender; undefined when unknown (CLI). */
  sender?: string;
  recipients?: string[];
  ip?: string;
  helo?: string;
}

const MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec";
// RFC 5322 §3.3 date-time, with the obsolete forms of §4.3 (2-digit years, named zones).
const DATE_RE = new RegExp(
  `^\\s*(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\\s*,?\\s*)?(\\d{1,2})\\s+(${MONTHS})[a-z]*\\s+(\\d{2,4})\\s+` +
    `(\\d{1,2}):(\\d{2})(?::(\\d{2}))?(?:\\s+([+-]\\d{4}|[a-z]{1,5}|"[^"]*"))?(?:\\s*\\(.*\\))?\\s*$`,
  "i",
);

/** Parses a Date field value; NaN when it is not an RFC 5322 (or obsolete) date. */
export function parseDate(value: string): number {
  const m = DATE_RE.exec(value);
  if (!m) return NaN;
  const day = Number(m[1]);
  const month = MONTHS.split("|").indexOf(m[2].toLowerCase());
  let year = Number(m[3]);
  // RFC 5322 §4.3: 2-digit years: 00-49 -> 20xx, 50-99 -> 19xx; 3 digits: + 1900.
  if (m[3].length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[3].length === 3) year += 1900;
  const h = Number(m[4]), min = Number(m[5]), s = Number(m[6] ?? 0);
  if (day < 1 || day > 31 || h > 23 || min > 59 || s > 60) return NaN;
  let offset = 0;
  const z = m[7];
  if (z && /^[+-]\d{4}$/.test(z)) {
    const sign = z[0] === "-" ? -1 : 1;
    offset = sign * (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5)));
  }
  return Date.UTC(year, month, day, h, min, s) - offset * 60_000;
}

/**
 * True when a Date value's zone is outside what any clock uses. RFC 5322 §3.3: the zone is
 * the offset from UTC as +/-hhmm; real offsets lie between -1200 and +1400 with minutes
 * below 60. Bulk tools that compute it wrongly write "-1600" or "-1900".
 */
export function absurdZone(value: string): boolean {
  const z = /([+-])(\d\d)(\d\d)\s*(?:\([^()]*\))?\s*$/.exec(value);
  return z !== null && (Number(z[2]) > 14 || Number(z[3]) > 59);
}

/**
 * When the newest hop received the message: the date after the last ";" of the first
 * Received field (RFC 5321 §4.4), NaN when there is none or it does not parse.
 */
export function receivedAt(m: ParsedMail): number {
  const top = m.header("received");
  const semi = top?.lastIndexOf(";") ?? -1;
  return semi < 0 ? NaN : parseDate(top!.slice(semi + 1));
}

/** Addresses at least this many in To and Cc, over at least MANY_DOMAINS domains. */
const MANY_RCPTS = 5;
const MANY_DOMAINS = 4;

/**
 * Five or more visible recipients at four or more domains in a message that answers
 * nothing: a list of harvested addresses pasted into To/Cc. A thread where people keep
 * each other in copy has In-Reply-To or References (RFC 5322 §3.6.4).
 */
function bulkRecipients(m: ParsedMail): boolean {
  if (m.header("in-reply-to") !== undefined || m.header("references") !== undefined) {
    return false;
  }
  const visible = `${m.header("to") ?? ""},${m.header("cc") ?? ""}`;
  const domains = addressesIn(visible).map(domainOf);
  return domains.length >= MANY_RCPTS && new Set(domains).size >= MANY_DOMAINS;
}

/** "sub.example.co.uk" -> "co.uk"-blind organizational guess: the last two labels. */
export function orgDomain(domain: string): string {
  const labels = domain.toLowerCase().replace(/\.$/, "").split(".");
  // A short second-level label under a country code (co.uk, com.au) takes three labels.
  if (labels.length >= 3 && labels.at(-1)!.length === 2 && labels.at(-2)!.length <= 3) {
    return labels.slice(-3).join(".");
  }
  return labels.slice(-2).join(".");
}

/** "a.b.c" when `s` is dot-separated labels of word characters and "-", at least two. */
function isDomain(s: string): boolean {
  const labels = s.split(".");
  return labels.length >= 2 && labels.every((l) => l !== "" && !/[^\w-]/.test(l));
}

/**
 * The addresses written in a header value or a display name: `local@domain`, the local part
 * word characters, ".", "+" and "-". Found by one split, not by a pattern that scans for
 * them: that one backtracks on a long run without "@" (seconds on a crafted 100 KB field).
 */
export function addressesIn(text: string): string[] {
  const out: string[] = [];
  for (const run of text.split(/[^\w.+@-]+/)) {
    const at = run.lastIndexOf("@");
    if (at <= 0) continue;
    const local = run.slice(run.lastIndexOf("@", at - 1) + 1, at);
    // The domain ends where a character a domain cannot hold ("+") or a trailing dot is.
    let domain = run.slice(at + 1).split("+")[0];
    while (domain.endsWith(".")) domain = domain.slice(0, -1);
    if (local !== "" && isDomain(domain)) out.push(`${local}@${domain}`);
  }
  return out;
}

/** The domain of an address; the whole string when it has no "@". */
function domainOf(address: string): string {
  return (splitMailbox(address)?.domain ?? address).toLowerCase();
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * The free mail providers of the first list (issue 21, round 3). `bench/spam_campaigns.ts`
 * keys its folds on it, so they stay the same as the list below grows.
 */
export const FREEMAIL_FIRST_LIST: readonly string[] = [
  "hotmail.com",
  "msn.com",
  "outlook.com",
  "live.com",
  "yahoo.com",
  "yahoo.co.uk",
  "yahoo.ca",
  "yahoo.fr",
  "ymail.com",
  "aol.com",
  "gmail.com",
  "googlemail.com",
  "excite.com",
  "lycos.com",
  "netscape.net",
  "juno.com",
  "mail.com",
  "gmx.net",
  "gmx.de",
  "web.de",
  "mail.ru",
  "yandex.ru",
  "icloud.com",
  "me.com",
  "zoho.com",
  "protonmail.com",
  "rediffmail.com",
  "usa.net",
  "email.com",
];

/** Free mail providers (org domains): anyone can have an address there. */
const FREEMAIL = new Set([
  ...FREEMAIL_FIRST_LIST,
  // More of the big free mail services (general knowledge, SpamAssassin's freemail list
  // names the same): mail.ru's other domains, Rambler, the national Yahoo and Hotmail
  // domains, the Chinese, Korean, Turkish, Polish, Czech, Italian, French and Brazilian
  // portals, and mail.com's and Lycos's many domains. Not services whose users send through
  // their own mail programs and servers (Fastmail, Hushmail): FREEMAIL_MSGID fires on the
  // ham of such users (10 easy-ham messages on the development split).
  "bk.ru",
  "list.ru",
  "inbox.ru",
  "rambler.ru",
  "yandex.com",
  "ya.ru",
  "hotmail.co.uk",
  "hotmail.fr",
  "hotmail.de",
  "hotmail.it",
  "hotmail.es",
  "yahoo.de",
  "yahoo.it",
  "yahoo.es",
  "yahoo.com.au",
  "yahoo.co.in",
  "yahoo.com.cn",
  "yahoo.co.jp",
  "yahoo.com.br",
  "rocketmail.com",
  "aim.com",
  "sina.com",
  "sina.com.cn",
  "sohu.com",
  "163.com",
  "126.com",
  "yeah.net",
  "qq.com",
  "china.com",
  "21cn.com",
  "tom.com",
  "naver.com",
  "hanmail.net",
  "daum.net",
  "kolaymail.com",
  "mynet.com",
  "hotpop.com",
  "libero.it",
  "virgilio.it",
  "tiscali.it",
  "laposte.net",
  "caramail.com",
  "wp.pl",
  "o2.pl",
  "interia.pl",
  "onet.pl",
  "seznam.cz",
  "centrum.cz",
  "freemail.hu",
  "abv.bg",
  "walla.com",
  "bol.com.br",
  "ig.com.br",
  "uol.com.br",
  "flashmail.com",
  "mailcity.com",
  "bigfoot.com",
  "iname.com",
  "usa.com",
  "post.com",
  "europe.com",
  "asia.com",
  "myself.com",
  "lycos.co.uk",
  "care2.com",
  "netzero.net",
]); // deno-fmt-ignore

/** The org domain of a free mail address, or null. */
export function freemail(address: string): string | null {
  const d = orgDomain(domainOf(address));
  return FREEMAIL.has(d) ? d : null;
}

/** Rules on the RFC 5322 header fields. */
export function headerRules(
  m: ParsedMail,
  scores: Record<string, number>,
  now: number,
): RuleHit[] {
  const hits: RuleHit[] = [];
  const date = m.header("date");
  if (date === undefined) hits.push(hit("MISSING_DATE", scores));
  else {
    const t = parseDate(date);
    if (Number.isNaN(t)) hits.push(hit("INVALID_DATE", scores));
    else if (absurdZone(date)) hits.push(hit("INVALID_DATE_TZ_ABSURD", scores));
    // Ahead of when the newest hop received it (a clock set wrong, or a date made up to
    // sort on top of the inbox); without a readable Received, ahead of now.
    const got = receivedAt(m);
    if (Number.isNaN(got) ? t > now + 86_400_000 : t > got + 12 * 3_600_000) {
      hits.push(hit("DATE_IN_FUTURE", scores));
    }
  }
  const mid = m.header("message-id");
  if (mid === undefined) hits.push(hit("MISSING_MID", scores));
  // RFC 5322 §3.6.4: msg-id = [CFWS] "<" id-left "@" id-right ">" [CFWS]
  else if (!/^\s*<[^<>@\s]+@[^<>@\s]+>\s*$/.test(mid)) hits.push(hit("INVALID_MSGID", scores));
  if (m.header("from") === undefined || m.fromAddress === "") {
    hits.push(hit("MISSING_FROM", scores));
  }
  if (m.header("subject") === undefined) hits.push(hit("MISSING_SUBJECT", scores));
  // No rule for a missing To/Cc: RFC 5322 §3.6.3 makes the destination fields optional, and
  // mail sent Bcc or as a list digest lacks them (5.4 % of development easy ham, no spam).
  const letters = m.subject.replace(/[^\p{L}]/gu, "");
  if (
    letters.length >= 10 && letters === letters.toUpperCase() && letters !== letters.toLowerCase()
  ) {
    hits.push(hit("SUBJ_ALL_CAPS", scores));
  }
  if (hasTrackingId(m.subject)) hits.push(hit("SUBJ_TRACKING_ID", scores));
  const to = m.header("to");
  if (to !== undefined && to.trim() === "") hits.push(hit("EMPTY_TO", scores));
  if (bulkRecipients(m)) hits.push(hit("RCPTS_MANY_DOMAINS", scores));
  // Mail from a free mail account is written through that provider, whose Message-ID it
  // carries; a made-up one elsewhere is what bulk tools do.
  const fm = m.fromAddress ? freemail(m.fromAddress) : null;
  const midDomain = domainAtEnd(mid ?? "");
  if (fm && midDomain && !midDomain.includes(fm.split(".")[0])) {
    hits.push(hit("FREEMAIL_MSGID", scores));
  }
  const replyTo = m.header("reply-to");
  const rt = replyTo ? addressesIn(replyTo)[0]?.toLowerCase() : undefined;
  if (
    rt && freemail(rt) && m.fromAddress &&
    orgDomain(domainOf(rt)) !== orgDomain(domainOf(m.fromAddress))
  ) {
    hits.push(hit("FREEMAIL_REPLYTO", scores));
  }
  // Outlook Express always writes X-MimeOLE next to X-MSMail-Priority; bulk tools copy one.
  if (m.header("x-msmail-priority") !== undefined && m.header("x-mimeole") === undefined) {
    hits.push(hit("MSMAIL_NO_MIMEOLE", scores));
  }
  if (
    /^\s*1\b/.test(m.header("x-priority") ?? "") ||
    /high/i.test(m.header("x-msmail-priority") ?? "")
  ) {
    hits.push(hit("PRIORITY_HIGH", scores));
  }
  // A display name that is itself an address of another domain ("paypal.com" <x@evil>).
  const shown = addressesIn(m.fromName)[0]?.split("@")[1];
  if (shown && m.fromAddress && orgDomain(shown) !== orgDomain(domainOf(m.fromAddress))) {
    hits.push(hit("FROM_DISPLAY_SPOOF", scores));
  }
  return hits;
}

/** Rules on the SMTP envelope and HELO. */
export function envelopeRules(
  m: ParsedMail,
  env: Envelope,
  scores: Record<string, number>,
): RuleHit[] {
  const hits: RuleHit[] = [];
  const helo = env.helo?.trim().toLowerCase();
  if (helo) {
    const literal = /^\[(?:ipv6:)?([^\]]+)\]$/.exec(helo)?.[1];
    if (literal !== undefined) {
      // RFC 5321 §4.1.3: an address literal should be the client's address.
      if (env.ip && literal !== env.ip.toLowerCase()) hits.push(hit("HELO_IP_MISMATCH", scores));
    } else if (IPV4.test(helo) || helo.includes(":")) {
      hits.push(hit("HELO_BARE_IP", scores));
    } else if (!helo.includes(".")) {
      // RFC 5321 §4.1.1.1: the argument is the client's FQDN (or an address literal).
      hits.push(hit("HELO_NOT_FQDN", scores));
    } else if (
      env.recipients?.some((r) => helo === domainOf(r) || helo.endsWith(`.${domainOf(r)}`))
    ) {
      // A stranger claiming to be one of the domains we receive mail for.
      hits.push(hit("HELO_FORGED_LOCAL", scores));
    }
  }
  if (env.sender && m.fromAddress) {
    if (orgDomain(domainOf(env.sender)) !== orgDomain(domainOf(m.fromAddress))) {
      hits.push(hit("FROM_ENVELOPE_DIFF", scores));
    }
  }
  return hits;
}
