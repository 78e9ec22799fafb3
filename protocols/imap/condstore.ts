/**
 * CONDSTORE and QRESYNC (RFC 7162) pieces shared by SELECT, FETCH, STORE, SEARCH and
 * STATUS: the parameter grammar and the resynchronization replies. No I/O.
 *
 * Every message and every expunge has a modseq in our store (storage/mod.ts), so NOMODSEQ
 * is never sent.
 *
 * @module
 */
import { Code } from "./codes.ts";
import type { SessionContext } from "./context.ts";
import { ParseError } from "./errors.ts";
import type { ArgReader, SequenceSet } from "./parser.ts";
import { compactSet, untagged } from "./response.ts";
import { IntervalSet } from "./seqset.ts";

/** True once CONDSTORE is on for the session (RFC 7162 §3.1: enabled or implied). */
export function condstoreOn(ctx: SessionContext): boolean {
  return ctx.enabled.has("CONDSTORE");
}

/** True once the client ENABLEd QRESYNC (RFC 7162 §3.2.3). */
export function qresyncOn(ctx: SessionContext): boolean {
  return ctx.enabled.has("QRESYNC");
}

/**
 * RFC 7162 §3.1: a "CONDSTORE enabling command" (SELECT (CONDSTORE), FETCH MODSEQ or
 * CHANGEDSINCE, STORE UNCHANGEDSINCE, SEARCH MODSEQ, STATUS HIGHESTMODSEQ) turns it on.
 */
export function enableCondstore(ctx: SessionContext): void {
  if (condstoreOn(ctx)) return;
  ctx.enable("CONDSTORE");
  // RFC 7162 §3.1: the first enabling command while a mailbox is selected is answered
  // with its HIGHESTMODSEQ, from which the client can resync later (Dovecot does too).
  const view = ctx.selected;
  if (view) ctx.send(untagged(`OK [${Code.HIGHESTMODSEQ} ${view.highestModseq}] Highest`));
}

/** The QRESYNC select parameter (RFC 7162 §3.2.5). */
export interface QresyncParams {
  uidValidity: number;
  modseq: number;
  /** UIDs the client knows; null: all of them. */
  knownUids: SequenceSet | null;
  /** Sequence numbers and the UIDs they had (parsed; our expunge history is complete). */
  seqMatch: { seqs: SequenceSet; uids: SequenceSet } | null;
}

/**
 * RFC 7162 §7: "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")",
 * the reader standing at "(".
 */
export function parseQresyncParams(r: ArgReader): QresyncParams {
  r.expectChar("(");
  const uidValidity = r.nzNumber("a UIDVALIDITY");
  r.space();
  const modseq = r.number64("a mod-sequence");
  if (modseq === 0) throw new ParseError("The QRESYNC mod-sequence must not be 0");
  let knownUids: SequenceSet | null = null;
  let seqMatch: QresyncParams["seqMatch"] = null;
  if (r.tryChar(" ")) {
    if (r.peek() !== "(") {
      knownUids = r.sequenceSet();
      if (knownUids.saved) throw new ParseError("$ is not a list of known UIDs");
      r.tryChar(" ");
    }
    if (r.peek() === "(") {
      r.expectChar("(");
      const seqs = r.sequenceSet();
      r.space();
      const uids = r.sequenceSet();
      r.expectChar(")");
      seqMatch = { seqs, uids };
    }
  }
  r.expectChar(")");
  return { uidValidity, modseq, knownUids, seqMatch };
}

/** A membership test for a UID set without `*` semantics beyond `maxUid`. */
export function uidFilter(set: SequenceSet | null, maxUid: number): (uid: number) => boolean {
  if (set === null || set.saved) return () => true;
  const s = IntervalSet.of(set, Math.max(maxUid, 1));
  return (uid) => s.has(uid);
}

/** `* VANISHED (EARLIER) uid-set` (RFC 7162 §3.2.10), or nothing for no UIDs. */
export function vanishedEarlier(uids: readonly number[]): string[] {
  if (uids.length === 0) return [];
  return [untagged(`VANISHED (EARLIER) ${compactSet([...uids].sort((a, b) => a - b))}`)];
}
