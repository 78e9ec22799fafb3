/**
 * The selected mailbox as one session sees it (RFC 9051 §2.3.1): the UID <-> sequence
 * number map, each message's flags, and the changes other sessions made that this client
 * has not been told about yet.
 *
 * Invariants:
 * - Sequence numbers change only when this view reports an EXPUNGE; a pending expunge keeps
 *   its message (and its number) until `sync()` is allowed to report it (RFC 9051 §7.5: no
 *   EXPUNGE while responding to FETCH, STORE or SEARCH, nor when no command is in progress).
 * - New messages are appended in UID order; UIDs only grow.
 * - `onChange()` only records what happened (no I/O); `sync()` asks the store and returns the
 *   untagged responses to send. The session never runs two syncs at once.
 *
 * @module
 */
import type { Mailbox, MailboxChange, MessageMeta, Store } from "../../storage/mod.ts";
import { bad } from "./errors.ts";
import type { SequenceSet } from "./parser.ts";
import { Code, SYSTEM_FLAGS } from "./codes.ts";
import type { RecentTracker } from "../../core/recent.ts";
import type { ServerDeps } from "../../core/deps.ts";
import { noteKeywords } from "../../core/mailbox_keywords.ts";
import { compactSet, flagList, untagged } from "./response.ts";
import { IntervalSet } from "./seqset.ts";

/** A message of the view together with its current sequence number. */
export interface SeqMessage {
  seq: number;
  meta: MessageMeta;
}

/** Query ranges above this size fall back to listing the mailbox. */
const MAX_RANGE_QUERY = 10_000;

/** The selected mailbox of one session. */
export class SelectedMailbox {
  readonly mailbox: Mailbox;
  readonly readOnly: boolean;
  #msgs: MessageMeta[];
  /** UID -> the modseq of its expunge (RFC 7162 §3.2.10), until reported. */
  #pendingExpunge = new Map<number, number>();
  #pendingFlags = new Set<number>();
  /** Highest modseq of a change to this mailbox the view has heard of (RFC 7162 §3.1.2.1). */
  #seenModseq: number;
  /** Highest UID an append event (or our own APPEND/COPY) told us about. */
  #appendedUpTo = 0;
  /** UIDs up to here were looked for already (an expunged last UID must not keep us dirty). */
  #lookedUpTo = 0;
  #mailboxChanged = false;
  /** UIDs that are \Recent in this session (RFC 3501 §2.3.2; see core/recent.ts). */
  readonly recent = new Set<number>();
  /** Keywords the client was told of in a FLAGS response (lower case -> as spelled). */
  #announced = new Map<string, string>();
  /** The mailbox's keyword record shared by its sessions (core/mailbox_keywords.ts). */
  #mailboxKeywords = new Map<string, string>();
  /** RFC 5182 SEARCH RETURN (SAVE): UIDs of the last saved search result. */
  savedSearch: number[] = [];
  /** Set once `sync()` found the mailbox gone. */
  deleted = false;
  /** The server's \Recent record (core/recent.ts). */
  readonly #recent: RecentTracker;

  private constructor(
    mailbox: Mailbox,
    readOnly: boolean,
    msgs: MessageMeta[],
    recent: RecentTracker,
  ) {
    this.#recent = recent;
    this.mailbox = mailbox;
    this.readOnly = readOnly;
    this.#msgs = msgs;
    this.#seenModseq = mailbox.highestModseq;
  }

  /**
   * Loads the mailbox's messages. RFC 3501 §2.3.2: SELECT claims the messages no session has
   * seen yet as \Recent; EXAMINE shows them as recent without claiming them.
   */
  static async open(
    deps: Pick<ServerDeps, "store" | "recent" | "mailboxKeywords">,
    mailbox: Mailbox,
    readOnly: boolean,
  ): Promise<SelectedMailbox> {
    const store = deps.store;
    const msgs = await store.listMessages(mailbox.id);
    msgs.sort((a, b) => a.uid - b.uid);
    const view = new SelectedMailbox(mailbox, readOnly, msgs, deps.recent);
    view.#claimRecent(msgs);
    // FLAGS: the keywords in use, and those the mailbox had (never dropped:
    // core/mailbox_keywords.ts).
    const known = view.#mailboxKeywords = deps.mailboxKeywords.of(mailbox);
    noteKeywords(known, view.keywords());
    deps.mailboxKeywords.markComplete(mailbox);
    view.#announced = new Map(known);
    return view;
  }

  /** Adds the messages of `msgs` (in UID order) that are recent to this session. */
  #claimRecent(msgs: readonly MessageMeta[]): void {
    if (msgs.length === 0) return;
    const tracker = this.#recent;
    const last = msgs[msgs.length - 1].uid;
    const first = this.readOnly
      ? tracker.firstUnclaimed(this.mailbox)
      : tracker.claim(this.mailbox, last);
    if (first > last) return;
    for (let i = msgs.length - 1; i >= 0 && msgs[i].uid >= first; i--) this.recent.add(msgs[i].uid);
  }

  /** `* FLAGS` and `* OK [PERMANENTFLAGS]` (RFC 9051 §7.3.5, §7.1) for the known keywords. */
  flagsResponses(): string[] {
    const keywords = [...this.#announced.values()].sort();
    const flags = [...SYSTEM_FLAGS, ...keywords];
    // RFC 9051 §7.1: PERMANENTFLAGS; "\*" — clients may create new keywords.
    const permanent = this.readOnly ? [] : [...flags, "\\*"];
    return [
      untagged(`FLAGS ${flagList(flags)}`),
      untagged(`OK [${Code.PERMANENTFLAGS} ${flagList(permanent)}] Flags permitted`),
    ];
  }

  /**
   * The FLAGS responses to send before a response showing `flags`, when these hold a keyword
   * the client has not been told of (RFC 9051 §7.3.5: FLAGS lists every flag in use; clients
   * check keywords against it); else nothing.
   */
  announce(flags: readonly string[]): string[] {
    let fresh = false;
    for (const f of flags) {
      if (f.startsWith("\\") || this.#announced.has(f.toLowerCase())) continue;
      this.#announced.set(f.toLowerCase(), f);
      if (!this.#mailboxKeywords.has(f.toLowerCase())) {
        this.#mailboxKeywords.set(f.toLowerCase(), f);
      }
      fresh = true;
    }
    if (!fresh) return [];
    // With the next FLAGS, also the keywords other sessions brought in meanwhile.
    for (const [k, v] of this.#mailboxKeywords) {
      if (!this.#announced.has(k)) this.#announced.set(k, v);
    }
    return this.flagsResponses();
  }

  /** Number of messages the client knows about (its EXISTS). */
  get exists(): number {
    return this.#msgs.length;
  }

  /** UIDs above this are new to the view. */
  get #knownUpTo(): number {
    return Math.max(this.maxUid, this.#lookedUpTo);
  }

  /** Highest UID in the view, 0 when empty. */
  get maxUid(): number {
    return this.#msgs.length ? this.#msgs[this.#msgs.length - 1].uid : 0;
  }

  /** All messages in sequence order (do not mutate). */
  get messages(): readonly MessageMeta[] {
    return this.#msgs;
  }

  /** The sequence number of a UID, or 0 when it is not in the view. */
  seqOf(uid: number): number {
    let lo = 0;
    let hi = this.#msgs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const u = this.#msgs[mid].uid;
      if (u === uid) return mid + 1;
      if (u < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /** True when another session expunged this UID and the client has not been told yet. */
  isPendingExpunge(uid: number): boolean {
    return this.#pendingExpunge.has(uid);
  }

  /**
   * The HIGHESTMODSEQ this client may be told (RFC 7162 §3.2): every change up to it has
   * been reported. An expunge that may not be reported yet holds it below its modseq.
   */
  get highestModseq(): number {
    let n = this.#seenModseq;
    for (const m of this.#pendingExpunge.values()) if (m - 1 < n) n = m - 1;
    return n;
  }

  /** Records a mailbox HIGHESTMODSEQ read from the store (SELECT). */
  observeModseq(modseq: number): void {
    if (modseq > this.#seenModseq) this.#seenModseq = modseq;
  }

  /** Keywords in use in the mailbox (for the FLAGS response). */
  keywords(): string[] {
    const set = new Set<string>();
    for (const m of this.#msgs) for (const f of m.flags) if (!f.startsWith("\\")) set.add(f);
    return [...set].sort();
  }

  /**
   * Messages addressed by a sequence set of sequence numbers (RFC 9051 §9 seq-number).
   * A number above EXISTS is a BAD (RFC 9051 §6.4: "invalid message sequence number").
   */
  bySeqSet(set: SequenceSet): SeqMessage[] {
    if (set.saved) return this.byUids(this.savedSearch);
    const n = this.#msgs.length;
    const seqs = IntervalSet.of(set, n);
    if (seqs.max > n || seqs.min === 0) throw bad("Invalid message sequence number");
    const out: SeqMessage[] = [];
    for (const [lo, hi] of seqs.intervals()) {
      for (let seq = lo; seq <= hi; seq++) out.push({ seq, meta: this.#msgs[seq - 1] });
    }
    return out;
  }

  /**
   * Messages addressed by a UID set; UIDs not in the view are ignored (RFC 9051 §6.4.9).
   * `*` is the highest UID in the view, so "559:*" always includes the last message.
   */
  byUidSet(set: SequenceSet): SeqMessage[] {
    if (set.saved) return this.byUids(this.savedSearch);
    if (this.#msgs.length === 0) return [];
    const uids = IntervalSet.of(set, this.maxUid);
    const out: SeqMessage[] = [];
    // One pass over the view: O(messages · log ranges) however large the ranges are.
    this.#msgs.forEach((meta, i) => {
      if (uids.has(meta.uid)) out.push({ seq: i + 1, meta });
    });
    return out;
  }

  /** Messages with these UIDs (those in the view), in sequence order. */
  byUids(uids: readonly number[]): SeqMessage[] {
    const out: SeqMessage[] = [];
    for (const uid of [...new Set(uids)].sort((a, b) => a - b)) {
      const seq = this.seqOf(uid);
      if (seq) out.push({ seq, meta: this.#msgs[seq - 1] });
    }
    return out;
  }

  /** Records a store change (no I/O); reported at the next allowed `sync()`. */
  onChange(change: MailboxChange): void {
    if (change.kind === "mailbox") {
      if (change.accountId === this.mailbox.accountId) this.#mailboxChanged = true;
      return;
    }
    if (change.mailboxId !== this.mailbox.id) return;
    this.observeModseq(change.highestModseq);
    switch (change.kind) {
      case "append":
        for (const uid of change.uids) if (uid > this.#appendedUpTo) this.#appendedUpTo = uid;
        break;
      case "expunge":
        for (const uid of change.uids) this.#pendingExpunge.set(uid, change.highestModseq);
        break;
      case "flags":
        for (const uid of change.uids) this.#pendingFlags.add(uid);
        break;
    }
  }

  /** Our own APPEND / COPY / MOVE placed this UID here. */
  noteAppended(uid: number): void {
    if (uid > this.#appendedUpTo) this.#appendedUpTo = uid;
  }

  /** Applies flag changes this session made itself (STORE, implicit \Seen). */
  applyOwn(changed: readonly MessageMeta[]): void {
    for (const m of changed) {
      const seq = this.seqOf(m.uid);
      if (seq) this.#msgs[seq - 1] = m;
    }
  }

  /**
   * Removes UIDs this session expunged itself (EXPUNGE, CLOSE, MOVE) and returns the
   * `* n EXPUNGE` lines, each numbered as the client sees the mailbox at that moment, or
   * with `vanished` (QRESYNC enabled, RFC 7162 §3.2.10) one `* VANISHED uid-set` line.
   */
  removeOwn(uids: readonly number[], vanished = false): string[] {
    const lines: string[] = [];
    const gone: number[] = [];
    for (const uid of [...uids].sort((a, b) => a - b)) {
      const seq = this.seqOf(uid);
      this.#pendingExpunge.delete(uid);
      this.recent.delete(uid);
      if (!seq) continue;
      this.#msgs.splice(seq - 1, 1);
      gone.push(uid);
      if (!vanished) lines.push(untagged(`${seq} EXPUNGE`));
    }
    if (vanished && gone.length > 0) lines.push(untagged(`VANISHED ${compactSet(gone)}`));
    return lines;
  }

  /** True when `sync()` has something to report (cheap; no I/O). */
  get dirty(): boolean {
    return this.#pendingExpunge.size > 0 || this.#pendingFlags.size > 0 ||
      this.#appendedUpTo > this.#knownUpTo || this.#mailboxChanged;
  }

  /**
   * Brings the view up to date and returns the untagged responses for the client:
   * EXPUNGE or VANISHED (only when `allowExpunge`), EXISTS (and RECENT for IMAP4rev1), and
   * FETCH FLAGS (with MODSEQ once CONDSTORE is on) for messages another session changed.
   */
  async sync(
    store: Store,
    opts: { allowExpunge: boolean; rev2: boolean; condstore?: boolean; qresync?: boolean },
  ): Promise<string[]> {
    const out: string[] = [];
    if (this.#mailboxChanged) {
      this.#mailboxChanged = false;
      const mb = await store.getMailboxById(this.mailbox.id);
      if (!mb || mb.uidValidity !== this.mailbox.uidValidity) {
        this.deleted = true;
        return out;
      }
    }
    // RFC 9051 §7.5.1: EXPUNGE only where allowed; the message keeps its number until then.
    if (opts.allowExpunge && this.#pendingExpunge.size > 0) {
      out.push(...this.removeOwn([...this.#pendingExpunge.keys()], opts.qresync));
      this.#pendingExpunge.clear();
    }
    if (this.#appendedUpTo > this.#knownUpTo) {
      const from = this.#knownUpTo + 1;
      const to = this.#appendedUpTo;
      this.#lookedUpTo = to;
      let fresh: MessageMeta[];
      if (to - from < MAX_RANGE_QUERY) {
        const uids: number[] = [];
        for (let u = from; u <= to; u++) uids.push(u);
        fresh = await sharedRead(
          store,
          `${this.mailbox.id}@${this.#seenModseq}:${from}-${to}`,
          () => store.getMessages(this.mailbox.id, uids),
        );
      } else {
        fresh = (await store.listMessages(this.mailbox.id)).filter((m) => m.uid >= from);
      }
      fresh = [...fresh].sort((a, b) => a.uid - b.uid);
      const before = this.#msgs.length;
      for (const m of fresh) {
        if (m.uid <= this.maxUid || this.#pendingExpunge.has(m.uid)) continue;
        this.#msgs.push(m);
        out.push(...this.announce(m.flags));
      }
      const added = this.#msgs.length - before;
      this.#claimRecent(this.#msgs.slice(before));
      // Messages committed later than `to` are picked up by their own event.
      if (added > 0) {
        out.push(untagged(`${this.#msgs.length} EXISTS`));
        if (!opts.rev2) out.push(untagged(`${this.recent.size} RECENT`));
      }
    }
    let reportedModseq = 0;
    if (this.#pendingFlags.size > 0) {
      const uids = [...this.#pendingFlags].filter((u) => this.seqOf(u) > 0);
      this.#pendingFlags.clear();
      if (uids.length > 0) {
        const current = uids.length > 100
          ? await store.getMessages(this.mailbox.id, uids)
          : await sharedRead(
            store,
            `${this.mailbox.id}@${this.#seenModseq}:${uids.join(",")}`,
            () => store.getMessages(this.mailbox.id, uids),
          );
        for (const m of current) {
          const seq = this.seqOf(m.uid);
          if (!seq) continue;
          const old = this.#msgs[seq - 1];
          if (old.modseq === m.modseq && sameFlags(old.flags, m.flags)) continue;
          this.#msgs[seq - 1] = m;
          // RFC 7162 §3.1: once CONDSTORE is on, unsolicited FETCH carries MODSEQ.
          const modseq = opts.condstore ? ` MODSEQ (${m.modseq})` : "";
          if (m.modseq > reportedModseq) reportedModseq = m.modseq;
          out.push(...this.announce(m.flags));
          out.push(
            untagged(
              `${seq} FETCH (UID ${m.uid} FLAGS ${flagList(this.flagsOf(m, opts.rev2))}${modseq})`,
            ),
          );
        }
      }
    }
    // RFC 7162 §3.2: a MODSEQ sent while an expunge with a lower modseq is held back must
    // be followed by a HIGHESTMODSEQ below that expunge, or a client resyncing from the
    // highest MODSEQ it saw would never learn of the expunge.
    if (opts.condstore && reportedModseq > this.highestModseq) {
      out.push(untagged(`OK [HIGHESTMODSEQ ${this.highestModseq}] Expunges pending`));
    }
    return out;
  }

  /** The flags to show for a message (stored flags, plus \Recent for IMAP4rev1 if recent). */
  flagsOf(m: MessageMeta, rev2 = true): string[] {
    if (!rev2 && this.recent.has(m.uid)) return [...m.flags, "\\Recent"];
    return m.flags;
  }
}

/**
 * Per store: reads shared by the sessions that react to the same change (see `sharedRead`).
 * Module-level on purpose: a pure cache of reads in flight, emptied at every change, so
 * sharing it between servers of one store is correct (no state of its own).
 */
const sharedReads = new WeakMap<Store, Map<string, Promise<MessageMeta[]>>>();

/**
 * Many sessions with one mailbox selected (10,000 idling clients of one account) react to
 * one change with the same read; the first session's read serves them all. Keys carry the
 * mailbox's highest modseq the view has heard of (every change raises it), and the map is
 * cleared by a change listener while the event is dispatched (sessions read later, in their
 * own tasks): an answer never outlives the state it was read from.
 * Shared arrays and MessageMeta objects are never mutated (the view copies before sorting).
 */
function sharedRead(
  store: Store,
  key: string,
  read: () => Promise<MessageMeta[]>,
): Promise<MessageMeta[]> {
  let reads = sharedReads.get(store);
  if (!reads) {
    const map = new Map<string, Promise<MessageMeta[]>>();
    store.changes.addEventListener("change", () => map.clear());
    sharedReads.set(store, reads = map);
  }
  let p = reads.get(key);
  if (!p) {
    p = read();
    reads.set(key, p);
    p.catch(() => reads.delete(key));
  }
  return p;
}

function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((f) => s.has(f));
}
