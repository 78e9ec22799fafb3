/**
 * THREAD (RFC 5256 §4): the ORDEREDSUBJECT and REFERENCES algorithms over SortItems, and
 * the thread-list response syntax (§5). Pure; the command collects the items.
 *
 * @module
 */
import type { SortItem } from "./sort.ts";

/** A node of a thread tree; `item` null for a dummy (a message we do not have). */
export interface ThreadNode {
  item: SortItem | null;
  children: ThreadNode[];
}

/** RFC 5256 §4 thread algorithms we implement. */
export const THREAD_ALGORITHMS = ["ORDEREDSUBJECT", "REFERENCES"] as const;
export type ThreadAlgorithm = typeof THREAD_ALGORITHMS[number];

/** Sent date, then mailbox order (RFC 5256 §4: ties keep the order in the mailbox). */
function byDate(a: SortItem, b: SortItem): number {
  return a.sentDate - b.sentDate || a.seq - b.seq;
}

/**
 * RFC 5256 §4 ORDEREDSUBJECT: group by base subject; the earliest message of a group is the
 * parent of the others; threads in order of their first message's sent date.
 */
export function threadOrderedSubject(items: readonly SortItem[]): ThreadNode[] {
  const groups = new Map<string, SortItem[]>();
  for (const it of [...items].sort(byDate)) {
    const g = groups.get(it.baseSubject);
    if (g) g.push(it);
    else groups.set(it.baseSubject, [it]);
  }
  const threads = [...groups.values()].map((g) => ({
    item: g[0],
    children: g.slice(1).map((it) => ({ item: it, children: [] })),
  }));
  return threads.sort((a, b) => byDate(a.item, b.item));
}

/** A container of the REFERENCES algorithm (RFC 5256 §4, after JWZ). */
interface Container {
  item: SortItem | null;
  parent: Container | null;
  children: Container[];
}

function newContainer(): Container {
  return { item: null, parent: null, children: [] };
}

/** True when `a` is `b` or one of b's ancestors (linking b -> a would make a loop). */
function isAncestorOrSelf(a: Container, b: Container): boolean {
  for (let c: Container | null = b; c; c = c.parent) if (c === a) return true;
  return false;
}

function unlink(c: Container): void {
  const p = c.parent;
  if (!p) return;
  const i = p.children.indexOf(c);
  if (i >= 0) p.children.splice(i, 1);
  c.parent = null;
}

function link(parent: Container, child: Container): void {
  unlink(child);
  child.parent = parent;
  parent.children.push(child);
}

/**
 * RFC 5256 §4 REFERENCES: threads from Message-ID / References / In-Reply-To, dummies
 * pruned, roots with the same base subject gathered, siblings in sent-date order.
 */
export function threadReferences(items: readonly SortItem[]): ThreadNode[] {
  // (1) Link messages by their ids.
  const table = new Map<string, Container>();
  const all: Container[] = [];
  const make = (id: string | null): Container => {
    const c = newContainer();
    all.push(c);
    if (id !== null) table.set(id, c);
    return c;
  };
  for (const item of items) {
    // (1)(A) A duplicate or missing Message-ID gets a container of its own.
    let c = item.messageId !== null ? table.get(item.messageId) : undefined;
    if (!c || c.item) c = make(c?.item ? null : item.messageId);
    c.item = item;
    // (1)(B) Chain the References in order; existing links stay; never make a loop.
    let prev: Container | null = null;
    for (const ref of item.references) {
      const r = table.get(ref) ?? make(ref);
      if (prev && r.parent === null && !isAncestorOrSelf(r, prev)) link(prev, r);
      prev = r;
    }
    // (1)(C) The last reference is the parent; this overrides a presumed parent: "if the
    // current message already has a parent, break the existing link first" — also when
    // the new link is then refused for making a loop (as Dovecot reads it). Without
    // references the message has no parent, whatever others presumed.
    unlink(c);
    if (prev && !isAncestorOrSelf(c, prev)) link(prev, c);
  }
  // (2) The root set; (3) the id table is no longer needed.
  let roots = all.filter((c) => c.parent === null);
  // (4) Prune dummies.
  roots = prune(roots, true);
  for (const r of roots) r.parent = null;
  // (5) Gather roots with the same base subject.
  sortTree(roots);
  roots = gatherBySubject(roots);
  // (6) Siblings (and roots) by sent date.
  sortTree(roots);
  return roots.map(toNode);
}

/** RFC 5256 §4 (4): drop empty dummies, splice others' children into their level. */
function prune(level: Container[], isRoot: boolean): Container[] {
  const out: Container[] = [];
  for (const c of level) {
    c.children = prune(c.children, false);
    for (const ch of c.children) ch.parent = c;
    if (c.item) {
      out.push(c);
    } else if (c.children.length === 0) {
      continue; // (4)(A)
    } else if (isRoot && c.children.length > 1) {
      out.push(c); // (4)(B): never promote several children to the root
    } else {
      for (const ch of c.children) {
        ch.parent = c.parent;
        out.push(ch);
      }
    }
  }
  return out;
}

/** The message that stands for a container: its own, or its first child's (dummies). */
function leadOf(c: Container): SortItem | null {
  if (c.item) return c.item;
  return c.children.length ? leadOf(c.children[0]) : null;
}

/** RFC 5256 §4 (5): roots with the same base subject become one thread. */
function gatherBySubject(roots: Container[]): Container[] {
  const table = new Map<string, Container>();
  // (5)(B) One root per subject: a dummy wins, and a non-reply beats a reply.
  for (const c of roots) {
    const lead = leadOf(c);
    if (!lead || lead.baseSubject === "") continue;
    const old = table.get(lead.baseSubject);
    if (
      !old || (!c.item && old.item) ||
      (leadOf(old)!.isReply && !lead.isReply && (c.item !== null) === (old.item !== null))
    ) {
      table.set(lead.baseSubject, c);
    }
  }
  // (5)(C) Merge every other root with that subject into it.
  const removed = new Set<Container>();
  for (const c of roots) {
    if (removed.has(c)) continue;
    const lead = leadOf(c);
    if (!lead || lead.baseSubject === "") continue;
    const other = table.get(lead.baseSubject);
    if (!other || other === c) continue;
    if (!c.item && !other.item) {
      // Both dummies: c's children join the other's.
      for (const ch of [...c.children]) link(other, ch);
      removed.add(c);
    } else if (!other.item) {
      link(other, c);
      removed.add(c);
    } else if (!c.item) {
      link(c, other);
      removed.add(other);
      table.set(lead.baseSubject, c);
    } else if (lead.isReply && !other.item.isReply) {
      link(other, c);
      removed.add(c);
    } else if (other.item.isReply && !lead.isReply) {
      // They were misordered: the original becomes the parent.
      link(c, other);
      removed.add(other);
      table.set(lead.baseSubject, c);
    } else {
      // Otherwise both become children of a new dummy.
      const dummy = newContainer();
      const at = roots.indexOf(other);
      link(dummy, other);
      link(dummy, c);
      removed.add(c);
      roots[at] = dummy;
      table.set(lead.baseSubject, dummy);
    }
  }
  return roots.filter((c) => !removed.has(c));
}

/** RFC 5256 §4 (6): children by sent date (a dummy dates from its first child). */
function sortTree(level: Container[]): void {
  for (const c of level) sortTree(c.children);
  level.sort((a, b) => {
    const x = leadOf(a);
    const y = leadOf(b);
    if (!x || !y) return 0;
    return byDate(x, y);
  });
}

function toNode(c: Container): ThreadNode {
  return { item: c.item, children: c.children.map(toNode) };
}

/**
 * RFC 5256 §5 thread-list for each thread: `(3 6 (4 23)(44 7 96))`; a dummy at the root
 * shows only its children: `((3)(5))`. `numberOf` gives the sequence number or UID.
 */
export function formatThreads(
  threads: readonly ThreadNode[],
  numberOf: (item: SortItem) => number,
): string {
  const chain = (n: ThreadNode): string => {
    let s = "";
    let cur = n;
    // A single line of descent is written flat: "a b c".
    for (;;) {
      if (cur.item) s += (s ? " " : "") + numberOf(cur.item);
      if (cur.children.length !== 1 || !cur.item) break;
      cur = cur.children[0];
    }
    if (cur.children.length > 0 && (cur.children.length > 1 || !cur.item)) {
      s += (s ? " " : "") + cur.children.map((c) => `(${chain(c)})`).join("");
    }
    return s;
  };
  return threads.map((t) => `(${chain(t)})`).join("");
}
