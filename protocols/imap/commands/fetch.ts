/**
 * FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9, §7.5.2; BINARY RFC 3516), with MODSEQ and
 * the CHANGEDSINCE / VANISHED modifiers (RFC 7162 §3.1.4, §3.2.6).
 *
 * Message structure (ENVELOPE, BODYSTRUCTURE, sections) comes from mime, parsed once
 * per message and only when an item needs it.
 *
 * @module
 */
import {
  bodyStructure,
  decodeBody,
  envelope,
  findPart,
  type MimePart,
  parseMime,
  sectionBytes,
} from "../../../mime/mod.ts";
import type { MessageMeta } from "../../../storage/mod.ts";
import { Pacer } from "../../../lib/yield.ts";
import { ReadAhead } from "../read_ahead.ts";
import { Code } from "../codes.ts";
import {
  condstoreOn,
  enableCondstore,
  qresyncOn,
  uidFilter,
  vanishedEarlier,
} from "../condstore.ts";
import { command, overLimit, type SessionContext } from "../context.ts";
import { bad, no, ParseError } from "../errors.ts";
import {
  type FetchItem,
  needsContent,
  parseFetchItems,
  type Partial,
  setsSeen,
} from "../fetch_items.ts";
import type { ArgReader, SequenceSet } from "../parser.ts";
import { type Chunk, flagList, formatDateTime, literalHeader } from "../response.ts";
import type { SeqMessage } from "../selected.ts";

interface FetchArgs {
  set: SequenceSet;
  items: FetchItem[];
  /** RFC 7162 §3.1.4.1: only messages with a greater modseq. */
  changedSince: number | null;
  /** RFC 7162 §3.2.6: also VANISHED (EARLIER) for expunged UIDs of the set. */
  vanished: boolean;
}

/** RFC 4466 §2.4: fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")". */
function parseModifiers(r: ArgReader): Pick<FetchArgs, "changedSince" | "vanished"> {
  let changedSince: number | null = null;
  let vanished = false;
  if (!r.tryChar(" ")) return { changedSince, vanished };
  r.list(() => {
    const name = r.atom("a FETCH modifier").toUpperCase();
    if (name === "CHANGEDSINCE") {
      r.space();
      changedSince = r.number64("a mod-sequence"); // mod-sequence-valzer: 0 allowed
    } else if (name === "VANISHED") {
      vanished = true;
    } else {
      throw new ParseError(`Unknown FETCH modifier ${name}`);
    }
  }, false);
  // RFC 7162 §3.2.6: VANISHED only together with CHANGEDSINCE.
  if (vanished && changedSince === null) throw new ParseError("VANISHED needs CHANGEDSINCE");
  return { changedSince, vanished };
}

const EMPTY = new Uint8Array();

/**
 * Most attributes one FETCH may ask for. RFC 9051 sets no number; real clients ask for a
 * few dozen at most, and each item may cost a pass over a large part (issue 13: 4,300
 * BINARY.SIZE items froze the server). More is refused with NO [LIMIT] (RFC 5530 §3).
 */
export const MAX_FETCH_ITEMS = 1_000;

function applyPartial(bytes: Uint8Array, p: Partial | null): Uint8Array {
  if (!p) return bytes;
  if (p.offset >= bytes.length) return EMPTY;
  return bytes.subarray(p.offset, Math.min(bytes.length, p.offset + p.length));
}

/** Lazily parsed message content; each part is transfer-decoded at most once per command. */
class Content {
  #root: MimePart | null = null;
  readonly #decoded = new Map<string, Uint8Array | null>();
  constructor(readonly bytes: Uint8Array) {}
  get root(): MimePart {
    return this.#root ??= parseMime(this.bytes);
  }
  /** The decoded body of a leaf part (null: unknown encoding), decoded on first use. */
  decoded(part: number[], leaf: MimePart): Uint8Array | null {
    const key = part.join(".");
    let data = this.#decoded.get(key);
    if (data === undefined) this.#decoded.set(key, data = decodeBody(this.bytes, leaf));
    return data;
  }
}

/**
 * One `* n FETCH (...)` response as chunks (literal bodies stay separate byte arrays).
 * Yields to the event loop between items when `pace` says the slice is used up.
 */
async function compose(
  ctx: SessionContext,
  msg: SeqMessage,
  items: readonly FetchItem[],
  content: Content | null,
  opts: { showFlags: boolean; pace: Pacer },
): Promise<Chunk[]> {
  const { showFlags, pace } = opts;
  const view = ctx.selected!;
  const meta = msg.meta;
  const quote = { utf8: ctx.utf8 };
  const out: Chunk[] = [];
  let text = `* ${msg.seq} FETCH (`;
  let first = true;
  const add = (s: string) => {
    text += (first ? "" : " ") + s;
    first = false;
  };
  const addLiteral = (name: string, data: Uint8Array | null, binary = false) => {
    if (data === null) {
      add(`${name} NIL`);
      return;
    }
    // RFC 3516 §4.2: literal8 when the decoded data holds NUL.
    const tilde = binary && data.includes(0) ? "~" : "";
    add(`${name} ${tilde}${literalHeader(data.length)}`);
    out.push(text, data);
    text = "";
  };
  const done = new Set<string>();
  for (const item of items) {
    await pace.tick();
    switch (item.kind) {
      case "UID":
      case "FLAGS":
      case "INTERNALDATE":
      case "RFC822.SIZE":
      case "ENVELOPE":
      case "BODY":
      case "BODYSTRUCTURE":
      case "MODSEQ":
        if (done.has(item.kind)) continue;
        done.add(item.kind);
    }
    switch (item.kind) {
      case "UID":
        add(`UID ${meta.uid}`);
        break;
      case "FLAGS":
        add(`FLAGS ${flagList(view.flagsOf(meta, ctx.rev2))}`);
        break;
      case "INTERNALDATE":
        add(`INTERNALDATE ${formatDateTime(meta.internalDate)}`);
        break;
      case "RFC822.SIZE":
        add(`RFC822.SIZE ${meta.size}`);
        break;
      case "MODSEQ":
        // RFC 7162 §3.1.4.1: MODSEQ (n).
        add(`MODSEQ (${meta.modseq})`);
        break;
      case "ENVELOPE":
        add(`ENVELOPE ${envelope(content!.root, quote)}`);
        break;
      case "BODY":
        add(`BODY ${bodyStructure(content!.root, false, quote)}`);
        break;
      case "BODYSTRUCTURE":
        add(`BODYSTRUCTURE ${bodyStructure(content!.root, true, quote)}`);
        break;
      case "RFC822":
        addLiteral("RFC822", content!.bytes);
        break;
      case "RFC822.HEADER":
        addLiteral(
          "RFC822.HEADER",
          sectionBytes(content!.bytes, content!.root, { part: [], text: "HEADER" }),
        );
        break;
      case "RFC822.TEXT":
        addLiteral(
          "RFC822.TEXT",
          sectionBytes(content!.bytes, content!.root, { part: [], text: "TEXT" }),
        );
        break;
      case "SECTION": {
        // The whole message needs no parse.
        const data = item.spec.part.length === 0 && item.spec.text === undefined
          ? content!.bytes
          : sectionBytes(content!.bytes, content!.root, item.spec) ?? EMPTY;
        const origin = item.partial ? `<${item.partial.offset}>` : "";
        addLiteral(`BODY[${item.label}]${origin}`, applyPartial(data, item.partial));
        break;
      }
      case "BINARY": {
        const data = await binaryOf(content!, item.part, pace);
        const origin = item.partial ? `<${item.partial.offset}>` : "";
        addLiteral(
          `BINARY[${item.part.join(".")}]${origin}`,
          applyPartial(data, item.partial),
          true,
        );
        break;
      }
      case "BINARY.SIZE": {
        const size = (await binaryOf(content!, item.part, pace)).length;
        add(`BINARY.SIZE[${item.part.join(".")}] ${size}`);
        break;
      }
    }
  }
  // RFC 9051 §6.4.5: when \Seen was set by this FETCH, the new flags are reported too.
  if (showFlags && !done.has("FLAGS")) add(`FLAGS ${flagList(view.flagsOf(meta, ctx.rev2))}`);
  // RFC 7162 §3.1: once CONDSTORE is on, an implicit \Seen change carries "both UID and
  // mod-sequence data".
  if (showFlags && condstoreOn(ctx)) {
    if (!done.has("UID")) add(`UID ${meta.uid}`);
    if (!done.has("MODSEQ")) add(`MODSEQ (${meta.modseq})`);
  }
  out.push(text + ")\r\n");
  return out;
}

/** RFC 3516 §4.2: the decoded content of a part; [UNKNOWN-CTE] when it cannot be decoded. */
async function binaryOf(content: Content, part: number[], pace: Pacer): Promise<Uint8Array> {
  if (part.length === 0) return content.bytes;
  const node = findPart(content.root, part);
  if (!node) return EMPTY;
  if (node.kind !== "leaf") return content.bytes.subarray(node.bodyStart, node.bodyEnd);
  // Parsing (just done, on first use) and decoding a large part are each real work.
  await pace.tick();
  const data = content.decoded(part, node);
  if (data === null) throw no("Unknown Content-Transfer-Encoding", Code.UNKNOWN_CTE);
  return data;
}

async function fetch(ctx: SessionContext, args: FetchArgs, uid: boolean) {
  const { set, changedSince } = args;
  const view = ctx.selected!;
  const store = ctx.deps.store;
  if (args.vanished) {
    // RFC 7162 §3.2.6: VANISHED needs QRESYNC and a UID FETCH; BAD otherwise.
    if (!qresyncOn(ctx)) throw bad("QRESYNC is not enabled");
    if (!uid) throw bad("VANISHED is only allowed with UID FETCH");
  }
  let items = args.items;
  if (changedSince !== null || items.some((i) => i.kind === "MODSEQ")) {
    enableCondstore(ctx);
    // RFC 7162 §3.1.4.1: CHANGEDSINCE implies the MODSEQ item.
    if (!items.some((i) => i.kind === "MODSEQ")) items = [...items, { kind: "MODSEQ" }];
  }
  let targets = uid ? view.byUidSet(set) : view.bySeqSet(set);
  if (changedSince !== null) {
    if (args.vanished && !set.saved) {
      // RFC 7162 §3.2.6: expunged UIDs of the set, except those still in this client's
      // view (their VANISHED comes in due course). `*` may name an expunged last UID.
      const inSet = uidFilter(set, 0xffffffff);
      const gone = (await store.expungedSince(view.mailbox.id, changedSince)).filter((u) =>
        inSet(u) && view.seqOf(u) === 0
      );
      for (const line of vanishedEarlier(gone)) ctx.send(line);
    }
    targets = targets.filter((t) => t.meta.modseq > changedSince);
  }
  // RFC 9051 §6.4.9: UID FETCH always reports UID.
  const wanted: FetchItem[] = uid && !items.some((i) => i.kind === "UID")
    ? [{ kind: "UID" }, ...items]
    : items;
  const content = wanted.some(needsContent);
  const flagsWanted = wanted.some((i) => i.kind === "FLAGS");

  // RFC 9051 §6.4.5: BODY[...] (not PEEK) sets \Seen, unless the mailbox is read-only.
  const seenNow = new Set<number>();
  if (!view.readOnly && wanted.some(setsSeen)) {
    const unseen = targets.filter((t) => !t.meta.flags.includes("\\Seen")).map((t) => t.meta.uid);
    if (unseen.length > 0) {
      const r = await store.updateFlags({
        mailboxId: view.mailbox.id,
        uids: unseen,
        op: "add",
        flags: ["\\Seen"],
      });
      view.applyOwn(r.changed);
      for (const m of r.changed) seenNow.add(m.uid);
    }
  }

  let missing = 0;
  const pace = new Pacer();
  const ahead = content
    ? new ReadAhead(targets.map((t) => t.meta), (id) => store.readBlob(id))
    : null;
  for (const [i, t] of targets.entries()) {
    await pace.tick();
    const seq = view.seqOf(t.meta.uid);
    const meta: MessageMeta = seq ? view.messages[seq - 1] : t.meta;
    let data: Content | null = null;
    if (ahead) {
      try {
        data = new Content(await ahead.take(i));
        await pace.tick(); // the read was synchronous work too
      } catch {
        // Expunged by another session meanwhile (RFC 9051 §7.5.1): skip it.
        missing++;
        continue;
      }
    }
    const showFlags = seenNow.has(meta.uid);
    // Keywords new to the client are announced in FLAGS first (see SelectedMailbox.announce).
    if (showFlags || flagsWanted) { for (const l of view.announce(meta.flags)) ctx.send(l); }
    const chunks = await compose(ctx, { seq: t.seq, meta }, wanted, data, { showFlags, pace });
    for (const c of chunks) await ctx.write(c);
  }
  if (missing > 0) {
    return { code: Code.EXPUNGEISSUED, text: "Some messages were expunged meanwhile" };
  }
  return { text: `${uid ? "UID FETCH" : "FETCH"} completed` };
}

/** RFC 9051 §6.4.5: FETCH sequence-set items. */
export const FETCH = command({
  parse(r): FetchArgs {
    r.space();
    const set = r.sequenceSet();
    r.space();
    const items = parseFetchItems(r);
    return { set, items, ...parseModifiers(r) };
  },
  run(ctx, args, cmd) {
    if (args.items.length > MAX_FETCH_ITEMS) {
      throw overLimit(ctx, `${cmd.verb}: ${args.items.length} items, at most ${MAX_FETCH_ITEMS}`);
    }
    return fetch(ctx, args, cmd.uid);
  },
});
