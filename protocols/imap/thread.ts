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

/**
 * Ancestor steps one THREAD may walk in loop checks. Hostile mail can chain thousands of
 * References into one line of descent, and each new link walks it: quadratic (80 messages
 * of 1,000 references took 6 s, then overflowed the stack). Past the budget a link that
 * needs a walk is refused as if it made a loop — the threads of such a mailbox come out
 * flatter, never wrong-shaped or cyclic. Ordinary mailboxes use a tiny fraction of it.
 */
const ANCESTOR_STEPS = 5_000_000;

/** A budget of ancestor steps shared by the loop checks of one threading. */
class LoopCheck {
  #left = ANCESTOR_STEPS;

  /**
   * True when `a` is `b` or one of b's ancestors (linking b -> a would make a loop), or
   * when the budget ran out (refuse the link: it might).
   */
  ancestorOrSelf(a: Container, b: Container): boolean {
    // A container with neither parent nor children (a fresh reference) is only its own
    // ancestor: no walk.
    if (a.parent === null && a.children.length === 0) return a === b;
    for (let c: Container | null = b; c; c = c.parent) {
      if (c === a || --this.#left < 0) return true;
    }
    return false;
  }
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
  const loops = new LoopCheck();
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
      if (prev && r.parent === null && !loops.ancestorOrSelf(r, prev)) link(prev, r);
      prev = r;
    }
    // (1)(C) The last reference is the parent; this overrides a presumed parent: "if the
    // current message already has a parent, break the existing link first" — also when
    // the new link is then refused for making a loop (as Dovecot reads it). Without
    // references the message has no parent, whatever others presumed.
    unlink(c);
    if (prev && !loops.ancestorOrSelf(c, prev)) link(prev, c);
  }
  // (2) The root set; (3) the id table is no longer needed.
  let roots = all.filter((c) => c.parent === null);
  // (4) Prune dummies.
  roots = prune(roots);
  for (const r of roots) r.parent = null;
  // (5) Gather roots with the same base subject.
  sortTree(roots);
  roots = gatherBySubject(roots);
  // (6) Siblings (and roots) by sent date.
  sortTree(roots);
  return roots.map(toNode);
}

/**
 * Every container below `roots`, each before its ancestors (reverse pre-order). The walks
 * below go through this list rather than recursing: a thread may be thousands deep.
 */
function bottomUp(roots: readonly Container[]): Container[] {
  const order: Container[] = [];
  const stack = [...roots];
  while (stack.length) {
    const c = stack.pop()!;
    order.push(c);
    for (const ch of c.children) stack.push(ch);
  }
  return order.reverse();
}

/** RFC 5256 §4 (4): drop empty dummies, splice others' children into their level. */
function prune(roots: Container[]): Container[] {
  for (const c of bottomUp(roots)) c.children = pruneLevel(c.children, false);
  return pruneLevel(roots, true);
}

/** (4) for one level whose containers' children are pruned already. */
function pruneLevel(level: Container[], isRoot: boolean): Container[] {
  const out: Container[] = [];
  for (const c of level) {
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
  let cur: Container | undefined = c;
  while (cur && !cur.item) cur = cur.children[0];
  return cur?.item ?? null;
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
function sortTree(roots: Container[]): void {
  const byLead = (a: Container, b: Container) => {
    const x = leadOf(a);
    const y = leadOf(b);
    if (!x || !y) return 0;
    return byDate(x, y);
  };
  // Children first: a dummy's date is its first child's, after that level is sorted.
  for (const c of bottomUp(roots)) c.children.sort(byLead);
  roots.sort(byLead);
}

/** The finished tree, built without recursion (threads may be thousands deep). */
function toNode(root: Container): ThreadNode {
  const node = (c: Container): ThreadNode => ({ item: c.item, children: [] });
  const top = node(root);
  const stack: Array<[Container, ThreadNode]> = [[root, top]];
  while (stack.length) {
    const [c, n] = stack.pop()!;
    for (const ch of c.children) {
      const m = node(ch);
      n.children.push(m);
      stack.push([ch, m]);
    }
  }
  return top;
}

/**
 * RFC 5256 §5 thread-list for each thread: `(3 6 (4 23)(44 7 96))`; a dummy at the root
 * shows only its children: `((3)(5))`. `numberOf` gives the sequence number or UID.
 */
export function formatThreads(
  threads: readonly ThreadNode[],
  numberOf: (item: SortItem) => number,
): string {
  // An explicit stack of nodes still to write and closing text: threads may be thousands
  // deep, more than the call stack holds.
  const out: string[] = [];
  const todo: Array<ThreadNode | string> = [];
  const open = (nodes: readonly ThreadNode[]) => {
    for (let i = nodes.length - 1; i >= 0; i--) todo.push(")", nodes[i], "(");
  };
  open(threads);
  while (todo.length) {
    const next = todo.pop()!;
    if (typeof next === "string") {
      out.push(next);
      continue;
    }
    let s = "";
    let cur = next;
    // A single line of descent is written flat: "a b c".
    for (;;) {
      if (cur.item) s += (s ? " " : "") + numberOf(cur.item);
      if (cur.children.length !== 1 || !cur.item) break;
      cur = cur.children[0];
    }
    out.push(s);
    if (cur.children.length > 0 && (cur.children.length > 1 || !cur.item)) {
      if (s) out.push(" ");
      open(cur.children);
    }
  }
  return out.join("");
}
