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
import { authenticate } from "mailauth";
import type { MailauthResolver } from "./resolver.ts";
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
    const work = authenticate(
      Buffer.from(input.raw),
      {
        ip: input.ip,
        helo: input.helo,
        // RFC 7208 §2.4: for the null sender, SPF checks postmaster@<HELO identity>.
        sender: input.sender || (input.helo ? `postmaster@${input.helo}` : undefined),
        mta: input.authservId,
        resolver: resolver as never,
        disableBimi: true,
        minBitLength: opts.minBitLength ?? 1024,
        maxElapsedTime: opts.timeoutMs,
      } as Parameters<typeof authenticate>[1],
    );
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
