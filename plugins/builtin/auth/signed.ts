/**
 * The checks of a message that carries DKIM or ARC signatures: what mailauth's
 * `authenticate()` does with our options (lenient mode, no sealing, no BIMI, no Received
 * parsing), without its stream.
 *
 * `authenticate()` writes the message into a Node `Writable` on a `setImmediate` tick and
 * finds the end of the header block one byte at a time (an array push and slice per byte).
 * Here the header block is cut out once and handed to mailauth's `DkimVerifier` directly,
 * then the body in one piece: the same verifier, canonicalization and results, less of the
 * work around them. The message must already be in CRLF form (see `crlfBuffer`), which is
 * what the stream would have made of it.
 *
 * mailauth is pinned (deno.json): this follows `lib/mailauth.js` and
 * `lib/dkim/message-parser.js` of that version; the auth tests check the results.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { isIP } from "node:net";
import { arc, spf } from "mailauth";
import { evaluateDmarc } from "mailauth/lib/dmarc/index.js";
import { DkimVerifier } from "mailauth/lib/dkim/dkim-verifier.js";
import { formatDomain, getAlignment } from "mailauth/lib/tools.js";
import type { MailauthResolver } from "./resolver.ts";

/** What the signed checks need (the options `authenticate()` was given). */
export interface SignedInput {
  ip: string;
  helo?: string;
  sender?: string;
  mta: string;
  resolver: MailauthResolver;
  minBitLength: number;
  maxElapsedTime: number;
}

/** One DKIM result row as mailauth gives it. */
interface DkimRow {
  info?: string;
  signingDomain?: string;
  id?: string;
  status: { result: string; aligned?: string | false; underSized?: number };
}

/** The parts of `authenticate()`'s answer that verify.ts reads. */
export interface SignedResult {
  dkim: { results: DkimRow[] };
  spf: { info?: string; header?: string; domain?: string; status: { result: string } } | false;
  arc: { info?: string; status: { result: string } } | false;
  dmarc:
    | {
      info?: string;
      policy?: string;
      status: { result: string; header: { from: string } };
      alignment: { dkim: { strict: boolean } };
    }
    | false;
}

/**
 * End of the header block of a CRLF message, blank line included (RFC 5322 §2.1), or -1
 * when there is no blank line. A message that starts with CRLF has an empty header block.
 */
export function headerEnd(msg: Uint8Array): number {
  if (msg[0] === 13 && msg[1] === 10) return 2;
  for (let i = msg.indexOf(10); i >= 0; i = msg.indexOf(10, i + 1)) {
    if (msg[i + 1] === 13 && msg[i + 2] === 10) return i + 3;
  }
  return -1;
}

/** DKIM, SPF, ARC and DMARC of a signed message (CRLF form), as `authenticate()` would. */
export async function authenticateSigned(msg: Buffer, o: SignedInput): Promise<SignedResult> {
  // lib/dkim/verify.js: the verifier with the options authenticate() passes it.
  const v = new DkimVerifier({
    resolver: o.resolver,
    sender: o.sender,
    minBitLength: o.minBitLength,
    strict: false,
  });
  // lib/dkim/message-parser.js: header block, then body chunks, then the final check.
  const end = headerEnd(msg);
  if (end < 0) await v.emitHeaders(msg);
  else {
    await v.emitHeaders(msg.subarray(0, end));
    if (end < msg.length) await v.nextChunk(msg.subarray(end));
  }
  await v.finalChunk();
  const dkimRows: DkimRow[] = v.results;

  // lib/mailauth.js from here on.
  let helo = o.helo || o.ip;
  if (helo && isIP(helo)) helo = `[${helo}]`;
  const spfResult = await spf({ ...o, helo } as unknown as Parameters<typeof spf>[0]);
  const arcResult = await arc(
    v.arc,
    {
      resolver: o.resolver as never,
      minBitLength: o.minBitLength,
      strict: false,
      ip: o.ip,
    } as unknown as Parameters<typeof arc>[1],
  );
  const { response, dkimAligned } = await evaluateDmarc({
    headerFrom: v.headerFrom,
    fromFields: v.fromFields,
    spfDomains: spfResult && spfResult.status.result === "pass" && spfResult.domain
      ? [spfResult.domain]
      : [],
    dkimDomains: dkimRows.filter((r) => r.status.result === "pass").map((r) => ({
      id: r.id,
      domain: r.signingDomain,
      aligned: r.status.aligned,
      underSized: r.status.underSized,
    })),
    arcResult,
    resolver: o.resolver as never,
    strict: false,
  } as never) as { response: SignedResult["dmarc"] | undefined; dkimAligned?: Set<string> };
  const dmarc = response || false;
  if (dkimAligned && dmarc) {
    // As authenticate(): passing signatures take the DMARC verdict on alignment, failing
    // ones the record's alignment mode.
    const fromDomain = dmarc.status.header.from;
    for (const row of dkimRows) {
      if (row.status.result === "pass") {
        row.status.aligned = dkimAligned.has(formatDomain(row.signingDomain))
          ? row.signingDomain!
          : false;
      } else if (dmarc.alignment.dkim.strict) {
        row.status.aligned =
          (row.status.aligned && getAlignment(fromDomain, [row.signingDomain], true)?.domain) ||
          false;
      }
    }
  }
  return {
    dkim: { results: dkimRows },
    spf: spfResult as SignedResult["spf"],
    arc: (arcResult as unknown as SignedResult["arc"]) || false,
    dmarc,
  };
}
