/**
 * STORE and UID STORE (RFC 9051 §6.4.6, §6.4.9).
 *
 * @module
 */
import type { FlagOp } from "../../../storage/mod.ts";
import { SYSTEM_FLAGS } from "../codes.ts";
import { command } from "../context.ts";
import { bad, no, ParseError } from "../errors.ts";
import type { SequenceSet } from "../parser.ts";
import { flagList, untagged } from "../response.ts";

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
}

/** RFC 9051 §6.4.6: STORE sequence-set [+|-]FLAGS[.SILENT] flags. */
export const STORE = command({
  parse(r): StoreArgs {
    r.space();
    const set = r.sequenceSet();
    r.space();
    // RFC 4466 §2.5 store-modifiers (CONDSTORE UNCHANGEDSINCE) are not supported yet.
    if (r.peek() === "(") throw new ParseError("STORE modifiers are not supported");
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
    return { set, op, silent: !!m[2], flags };
  },
  async run(ctx, { set, op, silent, flags }, cmd) {
    const view = ctx.selected!;
    // RFC 9051 §6.3.3: a mailbox opened with EXAMINE is read-only.
    if (view.readOnly) throw no("Mailbox is read-only");
    const valid = validateStoreFlags(flags);
    const targets = cmd.uid ? view.byUidSet(set) : view.bySeqSet(set);
    if (targets.length === 0) return { text: "STORE completed" };
    const result = await ctx.deps.store.updateFlags({
      mailboxId: view.mailbox.id,
      uids: targets.map((t) => t.meta.uid),
      op,
      flags: valid,
    });
    view.applyOwn(result.changed);
    if (!silent) {
      // RFC 9051 §6.4.6: an untagged FETCH with the new flags of each message.
      for (const t of targets) {
        const seq = view.seqOf(t.meta.uid);
        if (!seq) continue;
        const meta = view.messages[seq - 1];
        const uid = cmd.uid ? `UID ${meta.uid} ` : "";
        ctx.send(untagged(`${seq} FETCH (${uid}FLAGS ${flagList(view.flagsOf(meta, ctx.rev2))})`));
      }
    }
    return { text: "STORE completed" };
  },
});
