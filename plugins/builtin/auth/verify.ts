/**
 * SPF (RFC 7208), DKIM (RFC 6376), ARC (RFC 8617) and DMARC (RFC 7489 / RFC 9989) checks of
 * one inbound message with `mailauth`, and the `Authentication-Results:` header field
 * (RFC 8601) that records them.
 *
 * DNS goes through the resolver it is given (the host's DNS service in the plugin); BIMI is
 * off (it fetches over HTTPS). The whole check is bounded by `timeoutMs`: past it the
 * message gets temperror results instead of making the plugin miss its own deadline.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { isIP } from "node:net";
import { spf } from "mailauth";
import { evaluateDmarc } from "mailauth/lib/dmarc/index.js";
import { parseAddressList } from "../../../mime/mod.ts";
import type { HeaderField } from "../../sdk.ts";
import type { MailauthResolver } from "./resolver.ts";
import { authenticateSigned } from "./signed.ts";
import { type AuthSummary, bestDkim } from "./results.ts";

/** What the checks need to know about the SMTP transaction. */
export interface VerifyInput {
  /** The whole message as received. */
  raw: Uint8Array;
  /** Client IP address. */
  ip: string;
  /** EHLO/HELO argument. */
  helo?: string;
  /** MAIL FROM address; "" for the null sender. */
  sender: string;
  /** The authserv-id (RFC 8601 §2.5): this server's name. */
  authservId: string;
  /** The message's header fields (unfolded), to see whether it carries signatures. */
  headers: HeaderField[];
}

/** The outcome of {@link verifyMessage}. */
export interface VerifyOutput {
  summary: AuthSummary;
  /** The value of the Authentication-Results header field (one line, no name). */
  header: string;
  /** The value of a Received-SPF header field (RFC 7208 §9.1), one line. */
  receivedSpf: string | null;
}

/** Most result rows kept in the header (each is a DKIM signature, SPF, ARC, DMARC). */
const MAX_ROWS = 8;

/** Collapses folding and tabs into single spaces. */
function oneLine(s: string): string {
  return s.replace(/\r?\n[ \t]*/g, " ").replace(/\s+/g, " ").trim();
}

/** RFC 8601 §2.2: authserv-id is a value (token or quoted-string). */
export function authservValue(id: string): string {
  return /^[A-Za-z0-9.!#$%&'*+\-/=?^_`{|}~]+$/.test(id) ? id : `"${id.replace(/["\\]/g, "")}"`;
}

/** An Authentication-Results value from result rows (already in `method=result ...` form). */
export function authResultsValue(authservId: string, rows: string[]): string {
  // RFC 8601 §2.2: "none" when no method was applied.
  const body = rows.length ? rows.slice(0, MAX_ROWS).map(oneLine).join("; ") : "none";
  return `${authservValue(authservId)}; ${body}`;
}

function temperror(authservId: string, why: string): VerifyOutput {
  return {
    summary: {
      spf: "temperror",
      dkim: "temperror",
      dkimAligned: false,
      dmarc: "temperror",
      policy: "",
      arc: "none",
    },
    header: authResultsValue(authservId, [
      `spf=temperror (${why})`,
      `dkim=temperror (${why})`,
      `dmarc=temperror (${why})`,
    ]),
    receivedSpf: null,
  };
}

/** Header fields that make DKIM or ARC verification necessary. */
const SIGNATURE_FIELDS = new Set(["dkim-signature", "arc-seal", "arc-message-signature"]);

/**
 * Longest signature field handed to mailauth. A real one is well under 2 KB (an RSA-4096
 * `b=` is ~700 characters); mailauth's field parser is quadratic in the field's length (3.5
 * s for 100 KB of spaces), so a longer one is a broken signature (dkim=permerror, RFC 8601
 * §2.7.1) and the message is checked as unsigned otherwise.
 */
const MAX_SIGNATURE_FIELD = 8192;

/** And longest of them all together (many fields just under the limit add up). */
const MAX_SIGNATURE_BYTES = 32768;

/** The From mailboxes (addr-specs) of the header fields, as DMARC's author (RFC 9989 §5.3.1). */
export function fromAddresses(headers: HeaderField[]): { addresses: string[]; fields: number } {
  const values = headers.filter(([n]) => n.toLowerCase() === "from").map(([, v]) => v);
  const addresses: string[] = [];
  for (const v of values) {
    for (const a of parseAddressList(v)) {
      if (a.host !== null && a.mailbox !== null) addresses.push(`${a.mailbox}@${a.host}`);
    }
  }
  return { addresses, fields: values.length };
}

/**
 * SPF and DMARC of a message that carries no DKIM or ARC signature: what `authenticate`
 * would do, without its streaming parse of the whole message (most of its cost), which
 * only signatures need.
 */
async function unsigned(
  input: VerifyInput,
  resolver: MailauthResolver,
  timeoutMs: number,
  dkim: { result: "none" | "permerror"; row: string } = {
    result: "none",
    row: "dkim=none (message not signed)",
  },
): Promise<VerifyOutput> {
  // As authenticate(): no HELO -> the IP; an IP as HELO in the bracket form.
  let helo = input.helo || input.ip;
  if (helo && isIP(helo)) helo = `[${helo}]`;
  const s = await spf(
    {
      ip: input.ip,
      helo,
      // RFC 7208 §2.4: for the null sender, SPF checks postmaster@<HELO identity>.
      sender: input.sender || (input.helo ? `postmaster@${input.helo}` : undefined),
      mta: input.authservId,
      resolver: resolver as never,
      maxElapsedTime: timeoutMs,
    } as Parameters<typeof spf>[0],
  );
  const from = fromAddresses(input.headers);
  const dmarc = from.addresses.length
    ? (await evaluateDmarc({
      headerFrom: from.addresses,
      fromFields: from.fields,
      spfDomains: s.status.result === "pass" && s.domain ? [s.domain] : [],
      dkimDomains: [],
      resolver: resolver as never,
    })).response
    : false;
  const rows = [dkim.row, s.info];
  if (dmarc && dmarc.info) rows.push(dmarc.info);
  return {
    summary: {
      spf: s.status.result,
      dkim: dkim.result,
      dkimAligned: false,
      dmarc: dmarc ? dmarc.status.result : "none",
      policy: dmarc && dmarc.status.result !== "pass" ? dmarc.policy ?? "" : "",
      arc: "none",
      ...reportExtras(dmarc, []),
    },
    header: authResultsValue(input.authservId, rows),
    receivedSpf: typeof s.header === "string"
      ? oneLine(s.header.replace(/^Received-SPF:\s*/i, ""))
      : null,
  };
}

const CR = 13;
const LF = 10;

/**
 * The message with every bare LF turned into CRLF, as one Buffer (no copy when there is
 * none). mailauth's parser does the same rewrite itself, but one line at a time: each
 * bare LF cuts the message into another chunk that goes through its stream, header scan
 * and body hashers separately, which for LF-only mail costs more than the checks.
 */
export function crlfBuffer(raw: Uint8Array): Buffer {
  let bare = 0;
  for (let i = raw.indexOf(LF); i >= 0; i = raw.indexOf(LF, i + 1)) {
    if (i === 0 || raw[i - 1] !== CR) bare++;
  }
  if (bare === 0) return Buffer.from(raw.buffer, raw.byteOffset, raw.length);
  const out = Buffer.allocUnsafe(raw.length + bare);
  let o = 0;
  let from = 0;
  for (let i = raw.indexOf(LF); i >= 0; i = raw.indexOf(LF, i + 1)) {
    if (i > 0 && raw[i - 1] === CR) continue;
    out.set(raw.subarray(from, i), o);
    o += i - from;
    out[o++] = CR;
    out[o++] = LF;
    from = i + 1;
  }
  out.set(raw.subarray(from), o);
  return out;
}

/** Runs the checks; never throws (a failure becomes temperror results). */
export async function verifyMessage(
  input: VerifyInput,
  resolver: MailauthResolver,
  opts: { timeoutMs: number; minBitLength?: number },
): Promise<VerifyOutput> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), opts.timeoutMs);
  });
  try {
    const signatures = input.headers.filter(([n]) => SIGNATURE_FIELDS.has(n.toLowerCase()));
    const oversized = signatures.some(([, v]) => v.length > MAX_SIGNATURE_FIELD) ||
      signatures.reduce((n, [, v]) => n + v.length, 0) > MAX_SIGNATURE_BYTES;
    if (signatures.length === 0 || oversized) {
      const dkim = oversized
        ? {
          result: "permerror" as const,
          row:
            `dkim=permerror (signature fields over ${MAX_SIGNATURE_FIELD} bytes each or ${MAX_SIGNATURE_BYTES} in all)`,
        }
        : undefined;
      const r = await Promise.race([unsigned(input, resolver, opts.timeoutMs, dkim), deadline]);
      return r === "timeout" ? temperror(input.authservId, "timed out") : r;
    }
    const work = authenticateSigned(crlfBuffer(input.raw), {
      ip: input.ip,
      helo: input.helo,
      // RFC 7208 §2.4: for the null sender, SPF checks postmaster@<HELO identity>.
      sender: input.sender || (input.helo ? `postmaster@${input.helo}` : undefined),
      mta: input.authservId,
      resolver,
      minBitLength: opts.minBitLength ?? 1024,
      maxElapsedTime: opts.timeoutMs,
    });
    const r = await Promise.race([work, deadline]);
    if (r === "timeout") return temperror(input.authservId, "timed out");
    const dkimRows = r.dkim?.results ?? [];
    const dmarc = r.dmarc || null;
    const rows: string[] = [];
    for (const row of dkimRows) if (row.info) rows.push(row.info);
    if (r.spf && r.spf.info) rows.push(r.spf.info);
    if (r.arc && r.arc.info) rows.push(r.arc.info);
    if (dmarc && dmarc.info) rows.push(dmarc.info);
    const dmarcPolicy = (dmarc as { policy?: string } | null)?.policy ?? "";
    const spfHeader = r.spf && typeof r.spf.header === "string"
      ? oneLine(r.spf.header.replace(/^Received-SPF:\s*/i, ""))
      : null;
    return {
      summary: {
        spf: r.spf ? r.spf.status.result : "none",
        dkim: bestDkim(dkimRows.map((x) => x.status.result)),
        dkimAligned: dkimRows.some((x) => x.status.result === "pass" && !!x.status.aligned),
        dmarc: dmarc ? dmarc.status.result : "none",
        policy: dmarc && dmarc.status.result !== "pass" ? dmarcPolicy : "",
        arc: r.arc ? r.arc.status.result : "none",
        ...reportExtras(dmarc, dkimRows),
      },
      header: authResultsValue(input.authservId, rows),
      receivedSpf: spfHeader,
    };
  } catch (e) {
    return temperror(input.authservId, (e as Error).message.replace(/[()\r\n]/g, " "));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What a DMARC aggregate report needs beyond the summary (RFC 7489 §7.2, Appendix C): SPF
 * alignment, the DKIM domain (the aligned one, else the first signature's), the policy
 * domain. Only when a DMARC policy was evaluated.
 */
function reportExtras(
  dmarc: unknown,
  dkimRows: Array<{ signingDomain?: string; status: { result: string; aligned?: unknown } }>,
): Pick<AuthSummary, "spfAligned" | "dkimDomain" | "policyDomain"> {
  // deno-lint-ignore no-explicit-any
  const d = dmarc as any;
  if (!d || !d.status) return {};
  const aligned = typeof d.alignment?.dkim?.result === "string" ? d.alignment.dkim.result : "";
  const dkimDomain = aligned || dkimRows[0]?.signingDomain || "";
  return {
    spfAligned: typeof d.alignment?.spf?.result === "string" && d.alignment.spf.result !== "",
    ...(dkimDomain ? { dkimDomain: String(dkimDomain).toLowerCase() } : {}),
    ...(typeof d.policyDomain === "string" ? { policyDomain: d.policyDomain.toLowerCase() } : {}),
  };
}
