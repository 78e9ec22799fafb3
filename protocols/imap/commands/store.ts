/**
 * STORE and UID STORE (RFC 9051 §6.4.6, §6.4.9) with the UNCHANGEDSINCE modifier and
 * MODIFIED response code (RFC 7162 §3.1.3).
 *
 * @module
 */
import { notifyJunkKeywords } from "../hooks.ts";
import type { FlagOp } from "../../../storage/mod.ts";
import { Code, SYSTEM_FLAGS } from "../codes.ts";
import { condstoreOn, enableCondstore } from "../condstore.ts";
import { command } from "../context.ts";
import { checkMailboxKeywords, checkMessageKeywords } from "../keyword_limits.ts";
import { noteKeywords } from "../../../core/mailbox_keywords.ts";
import { bad, no, ParseError } from "../errors.ts";
import type { SequenceSet } from "../parser.ts";
import { compactSet, flagList, untagged } from "../response.ts";

const SYSTEM = new Map(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f as string]));

/**
 * Checks and canonicalizes flags a client wants to set: system flags spelled as in RFC 9051
 * §2.3.2, keywords as given. Unknown system flags are a BAD; \Recent is dropped (RFC 3501
 * §2.3.2: the client cannot alter it, but a client echoing fetched flags should not fail).
 */
export function validateStoreFlags(flags: readonly string[]): string[] {
  const out = new Set<string>();
  for (const f of flags) {
    if (f.toLowerCase() === "\\recent") continue;
    if (f.startsWith("\\")) {
      const sys = SYSTEM.get(f.toLowerCase());
      if (!sys) throw bad(`Flag ${f} cannot be stored`);
      out.add(sys);
    } else {
      if (f.length > 100) throw bad("Keyword too long");
      out.add(f);
    }
  }
  return [...out];
}

interface StoreArgs {
  set: SequenceSet;
  op: FlagOp;
  silent: boolean;
  flags: string[];
  /** RFC 7162 §3.1.3: change only messages whose modseq is not greater. */
  unchangedSince: number | null;
}

/** RFC 9051 §6.4.6: STORE sequence-set [+|-]FLAGS[.SILENT] flags. */
export const STORE = command({
  parse(r): StoreArgs {
    r.space();
    const set = r.sequenceSet();
    r.space();
    let unchangedSince: number | null = null;
    // RFC 4466 §2.5: store-modifiers = "(" store-modifier *(SP store-modifier) ")".
    if (r.peek() === "(") {
      r.list(() => {
        const name = r.atom("a STORE modifier").toUpperCase();
        if (name !== "UNCHANGEDSINCE") throw new ParseError(`Unknown STORE modifier ${name}`);
        r.space();
        unchangedSince = r.number64("a mod-sequence"); // mod-sequence-valzer: 0 allowed
      }, false);
      r.space();
    }
    const item = r.atom("a STORE item").toUpperCase();
    const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(item);
    if (!m) throw new ParseError(`Unknown STORE item ${item}`);
    const op: FlagOp = m[1] === "+" ? "add" : m[1] === "-" ? "remove" : "set";
    r.space();
    let flags: string[];
    if (r.peek() === "(") {
      flags = r.flagList();
    } else {
      flags = [r.flag()];
      while (r.tryChar(" ")) flags.push(r.flag());
    }
    return { set, op, silent: !!m[2], flags, unchangedSince };
  },
  async run(ctx, { set, op, silent, flags, unchangedSince }, cmd) {
    const view = ctx.selected!;
    // RFC 9051 §6.3.3: a mailbox opened with EXAMINE is read-only.
    if (view.readOnly) throw no("Mailbox is read-only");
    const valid = validateStoreFlags(flags);
    if (unchangedSince !== null) enableCondstore(ctx);
    const targets = cmd.uid ? view.byUidSet(set) : view.bySeqSet(set);
    if (targets.length === 0) return { text: "STORE completed" };
    const known = ctx.deps.mailboxKeywords.of(view.mailbox);
    if (op !== "remove") {
      checkMessageKeywords(ctx, valid, op === "add" ? targets.map((t) => t.meta.flags) : [[]]);
      checkMailboxKeywords(ctx, valid, known);
    }
    const result = await ctx.deps.store.updateFlags({
      mailboxId: view.mailbox.id,
      uids: targets.map((t) => t.meta.uid),
      op,
      flags: valid,
      ...(unchangedSince !== null ? { unchangedSince } : {}),
    });
    // Plugins (mailbox_move, fire-and-forget): a newly set $Junk / $NotJunk teaches a
    // filter, for mail programs that mark junk instead of moving it.
    notifyJunkKeywords(ctx, {
      mailbox: view.mailbox,
      before: targets.map((t) => t.meta),
      changed: result.changed,
    });
    if (op !== "remove" && result.changed.length > 0) noteKeywords(known, valid);
    view.applyOwn(result.changed);
    const failed = new Set(result.failed);
    const changed = new Set(result.changed.map((m) => m.uid));
    const modseqOn = condstoreOn(ctx);
    if (!silent) {
      for (const m of result.changed) for (const l of view.announce(m.flags)) ctx.send(l);
    }
    for (const t of targets) {
      if (failed.has(t.meta.uid)) continue;
      const seq = view.seqOf(t.meta.uid);
      if (!seq) continue;
      const meta = view.messages[seq - 1];
      // RFC 7162 §3.1: once CONDSTORE is on, these FETCH responses carry UID and MODSEQ.
      const uid = cmd.uid || modseqOn ? `UID ${meta.uid} ` : "";
      const modseq = modseqOn ? ` MODSEQ (${meta.modseq})` : "";
      if (!silent) {
        // RFC 9051 §6.4.6: an untagged FETCH with the new flags of each message
        // (RFC 7162 §3.1: with MODSEQ once CONDSTORE is on).
        const flagsNow = flagList(view.flagsOf(meta, ctx.rev2));
        ctx.send(untagged(`${seq} FETCH (${uid}FLAGS ${flagsNow}${modseq})`));
      } else if (modseqOn && changed.has(meta.uid)) {
        // RFC 7162 §3.1.3: "An untagged FETCH response MUST be sent, even if the .SILENT
        // suffix is specified, and the response MUST include the MODSEQ".
        ctx.send(untagged(`${seq} FETCH (${uid}MODSEQ (${meta.modseq}))`));
      }
    }
    if (failed.size > 0) {
      // RFC 7162 §3.1.3: [MODIFIED set] names the messages that failed the test, by
      // sequence number for STORE and by UID for UID STORE.
      const numbers = targets.filter((t) => failed.has(t.meta.uid)).map((t) =>
        cmd.uid ? t.meta.uid : view.seqOf(t.meta.uid)
      ).filter((n) => n > 0).sort((a, b) => a - b);
      if (numbers.length > 0) {
        return {
          code: `${Code.MODIFIED} ${compactSet(numbers)}`,
          text: "Conditional STORE failed",
        };
      }
    }
    return { text: "STORE completed" };
  },
});
