/**
 * A small linear-time regular expression engine for the Sieve `:regex` match type
 * (draft-ietf-sieve-regex-01: POSIX extended syntax). A pattern is compiled to a program
 * for a Pike VM (Thompson NFA simulation with capture slots), which walks the text once,
 * holding at most one thread per instruction: O(text × program) whatever the pattern, so
 * `(a*)*b` or `(a|aa)*c` cannot explode. Nothing from a script becomes a JS RegExp.
 *
 * Syntax: `.` `[...]` `[^...]` (ranges, `[:alpha:]`-style classes), `*` `+` `?` `{m}`
 * `{m,}` `{m,n}`, `|`, `( )`, `^` `$`, `\` quoting the next character; `\d \w \s` and
 * their negations as GNU regcomp accepts them.
 *
 * Semantics: a search (unanchored unless `^`/`$`), leftmost match, longest among those
 * starting there (POSIX); submatches follow the first (priority) path to that match,
 * which agrees with POSIX for the usual patterns but not for every ambiguous one.
 *
 * Invariants: a program has at most {@link MAX_PROGRAM} instructions (counted repetition
 * is expanded, so `(a{255}){255}` is refused), a pattern at most {@link MAX_PATTERN}
 * characters; `RegexError` otherwise.
 *
 * @module
 */

export const MAX_PATTERN = 2048;
export const MAX_PROGRAM = 4096;
const MAX_REPEAT = 255; // RE_DUP_MAX

export class RegexError extends Error {
  constructor(message: string) {
    super(`regex: ${message}`);
    this.name = "RegexError";
  }
}

/** A set of code points: ranges plus named classes, maybe negated. */
interface CharSet {
  ranges: number[]; // pairs lo, hi
  classes: string[];
  negated: boolean;
}

type Inst =
  | { op: "char"; c: number }
  | { op: "any" }
  | { op: "set"; set: CharSet }
  | { op: "split"; x: number; y: number }
  | { op: "jmp"; x: number }
  | { op: "save"; n: number }
  | { op: "bol" }
  | { op: "eol" }
  | { op: "match" };

/** The parsed pattern. */
type Node =
  | { k: "empty" }
  | { k: "char"; c: number }
  | { k: "any" }
  | { k: "set"; set: CharSet }
  | { k: "bol" }
  | { k: "eol" }
  | { k: "group"; n: number; node: Node }
  | { k: "cat"; nodes: Node[] }
  | { k: "alt"; nodes: Node[] }
  | { k: "rep"; node: Node; min: number; max: number }; // max -1: unbounded

export interface Regex {
  prog: Inst[];
  /** Number of capture groups (not counting group 0). */
  groups: number;
  casemap: boolean;
}

const CLASS_NAMES = new Set([
  "alpha",
  "digit",
  "alnum",
  "upper",
  "lower",
  "space",
  "blank",
  "punct",
  "print",
  "graph",
  "cntrl",
  "xdigit",
  "word",
]);

function inClass(name: string, c: number): boolean {
  const up = c >= 65 && c <= 90, low = c >= 97 && c <= 122, dig = c >= 48 && c <= 57;
  switch (name) {
    case "alpha":
      return up || low;
    case "digit":
      return dig;
    case "alnum":
      return up || low || dig;
    case "upper":
      return up;
    case "lower":
      return low;
    case "space":
      return c === 32 || (c >= 9 && c <= 13);
    case "blank":
      return c === 32 || c === 9;
    case "punct":
      return c > 32 && c < 127 && !(up || low || dig);
    case "print":
      return c >= 32 && c < 127;
    case "graph":
      return c > 32 && c < 127;
    case "cntrl":
      return c < 32 || c === 127;
    case "xdigit":
      return dig || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
    case "word":
      return up || low || dig || c === 95;
  }
  return false;
}

function inSet(set: CharSet, c: number): boolean {
  let hit = false;
  for (let i = 0; i < set.ranges.length && !hit; i += 2) {
    hit = c >= set.ranges[i] && c <= set.ranges[i + 1];
  }
  for (let i = 0; i < set.classes.length && !hit; i++) hit = inClass(set.classes[i], c);
  return hit;
}

/** casemap: either case of a letter counts as in the set, before negation. */
function setHas(set: CharSet, c: number, casemap: boolean): boolean {
  const hit = inSet(set, c) || (casemap && (inSet(set, lowerCp(c)) || inSet(set, upperCp(c))));
  return hit !== set.negated;
}

const lowerCp = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c);
const upperCp = (c: number) => (c >= 97 && c <= 122 ? c - 32 : c);

class Parser {
  i = 0;
  groups = 0;
  constructor(readonly p: number[]) {}

  fail(msg: string): never {
    throw new RegexError(`${msg} at offset ${this.i}`);
  }

  peek(): number | undefined {
    return this.p[this.i];
  }

  alt(depth: number): Node {
    if (depth > 64) this.fail("too deeply nested");
    const nodes = [this.cat(depth)];
    while (this.peek() === 0x7c /* | */) {
      this.i++;
      nodes.push(this.cat(depth));
    }
    return nodes.length === 1 ? nodes[0] : { k: "alt", nodes };
  }

  cat(depth: number): Node {
    const nodes: Node[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === 0x7c || c === 0x29 /* ) */) break;
      let atom = this.atom(depth);
      for (;;) {
        const q = this.peek();
        if (q === 0x2a) atom = this.rep(atom, 0, -1, 1);
        else if (q === 0x2b) atom = this.rep(atom, 1, -1, 1);
        else if (q === 0x3f) atom = this.rep(atom, 0, 1, 1);
        else if (q === 0x7b && this.isBound()) {
          const [min, max, len] = this.bound();
          atom = this.rep(atom, min, max, len);
        } else break;
      }
      nodes.push(atom);
    }
    return nodes.length === 0 ? { k: "empty" } : nodes.length === 1 ? nodes[0] : {
      k: "cat",
      nodes,
    };
  }

  rep(node: Node, min: number, max: number, len: number): Node {
    if (node.k === "bol" || node.k === "eol") this.fail("repetition of an anchor");
    this.i += len;
    return { k: "rep", node, min, max };
  }

  /** "{" starts a bound only when digits follow (else it is a literal, as GNU does). */
  isBound(): boolean {
    const d = this.p[this.i + 1];
    return d !== undefined && d >= 48 && d <= 57;
  }

  bound(): [number, number, number] {
    let j = this.i + 1;
    const num = (): number => {
      let n = 0, any = false;
      while (j < this.p.length && this.p[j] >= 48 && this.p[j] <= 57) {
        n = n * 10 + this.p[j++] - 48;
        any = true;
        if (n > MAX_REPEAT) this.fail(`repetition count over ${MAX_REPEAT}`);
      }
      return any ? n : -1;
    };
    const min = num();
    let max = min;
    if (this.p[j] === 0x2c /* , */) {
      j++;
      max = num();
    }
    if (this.p[j] !== 0x7d /* } */) this.fail("bad repetition {m,n}");
    if (max !== -1 && max < min) this.fail("repetition {m,n} with n < m");
    return [min, max, j + 1 - this.i];
  }

  atom(depth: number): Node {
    const c = this.p[this.i++];
    switch (c) {
      case 0x28: { // (
        const n = ++this.groups;
        const node = this.alt(depth + 1);
        if (this.peek() !== 0x29) this.fail('missing ")"');
        this.i++;
        return { k: "group", n, node };
      }
      case 0x2e:
        return { k: "any" };
      case 0x5e:
        return { k: "bol" };
      case 0x24:
        return { k: "eol" };
      case 0x5b:
        return { k: "set", set: this.bracket() };
      case 0x2a:
      case 0x2b:
      case 0x3f:
        return this.fail("repetition without an operand");
      case 0x5c: { // backslash
        const e = this.p[this.i++];
        if (e === undefined) this.fail("trailing backslash");
        const named: Record<number, [string, boolean]> = {
          0x64: ["digit", false],
          0x44: ["digit", true],
          0x77: ["word", false],
          0x57: ["word", true],
          0x73: ["space", false],
          0x53: ["space", true],
        };
        // Backreferences (a GNU extension to ERE) would need backtracking: refused.
        if (e >= 0x31 && e <= 0x39) this.fail("backreferences are not supported");
        const n = named[e];
        if (n) return { k: "set", set: { ranges: [], classes: [n[0]], negated: n[1] } };
        return { k: "char", c: e };
      }
      default:
        return { k: "char", c };
    }
  }

  /** After "[": a POSIX bracket expression. */
  bracket(): CharSet {
    const set: CharSet = { ranges: [], classes: [], negated: false };
    if (this.peek() === 0x5e) {
      set.negated = true;
      this.i++;
    }
    let first = true;
    for (;;) {
      const c = this.p[this.i];
      if (c === undefined) this.fail('missing "]"');
      if (c === 0x5d && !first) {
        this.i++;
        return set;
      }
      first = false;
      if (c === 0x5b && this.p[this.i + 1] === 0x3a) { // [:name:]
        let j = this.i + 2, name = "";
        while (j < this.p.length && this.p[j] !== 0x3a) name += String.fromCodePoint(this.p[j++]);
        if (this.p[j + 1] !== 0x5d || !CLASS_NAMES.has(name)) this.fail("bad character class");
        set.classes.push(name);
        this.i = j + 2;
        continue;
      }
      this.i++;
      let lo = c;
      if (c === 0x5c && this.i < this.p.length) lo = this.p[this.i++]; // GNU: \ quotes in []
      if (this.p[this.i] === 0x2d && this.p[this.i + 1] !== 0x5d && this.i + 1 < this.p.length) {
        this.i++;
        let hi = this.p[this.i++];
        if (hi === 0x5c && this.i < this.p.length) hi = this.p[this.i++];
        if (hi < lo) this.fail("bad range");
        set.ranges.push(lo, hi);
      } else set.ranges.push(lo, lo);
    }
  }
}

/** Compiles a pattern; throws RegexError when it is malformed or too large. */
export function compileRegex(pattern: string, casemap: boolean): Regex {
  if (pattern.length > MAX_PATTERN) throw new RegexError(`pattern over ${MAX_PATTERN} characters`);
  const cps = Array.from(pattern, (ch) => ch.codePointAt(0)!);
  // Bracket sets keep their case (casemap is applied when matching); literals are folded.
  const raw = new Parser(cps);
  const tree = raw.alt(0);
  if (raw.i < cps.length) raw.fail('unmatched ")"');
  const prog: Inst[] = [];
  const emit = (x: Inst): number => {
    if (prog.length >= MAX_PROGRAM) throw new RegexError("pattern too complex");
    prog.push(x);
    return prog.length - 1;
  };
  const gen = (n: Node): void => {
    switch (n.k) {
      case "empty":
        return;
      case "char":
        emit({ op: "char", c: casemap ? lowerCp(n.c) : n.c });
        return;
      case "any":
        emit({ op: "any" });
        return;
      case "set":
        emit({ op: "set", set: n.set });
        return;
      case "bol":
        emit({ op: "bol" });
        return;
      case "eol":
        emit({ op: "eol" });
        return;
      case "group":
        emit({ op: "save", n: 2 * n.n });
        gen(n.node);
        emit({ op: "save", n: 2 * n.n + 1 });
        return;
      case "cat":
        for (const x of n.nodes) gen(x);
        return;
      case "alt": {
        const jumps: number[] = [];
        for (let k = 0; k < n.nodes.length; k++) {
          if (k < n.nodes.length - 1) {
            const split = emit({ op: "split", x: 0, y: 0 });
            (prog[split] as { x: number }).x = prog.length;
            gen(n.nodes[k]);
            jumps.push(emit({ op: "jmp", x: 0 }));
            (prog[split] as { y: number }).y = prog.length;
          } else gen(n.nodes[k]);
        }
        for (const j of jumps) (prog[j] as { x: number }).x = prog.length;
        return;
      }
      case "rep": {
        for (let k = 0; k < n.min; k++) gen(n.node);
        if (n.max === -1) {
          // L: split body, out; body; jmp L
          const split = emit({ op: "split", x: 0, y: 0 });
          (prog[split] as { x: number }).x = prog.length;
          gen(n.node);
          emit({ op: "jmp", x: split });
          (prog[split] as { y: number }).y = prog.length;
        } else {
          const splits: number[] = [];
          for (let k = n.min; k < n.max; k++) {
            const split = emit({ op: "split", x: 0, y: 0 });
            (prog[split] as { x: number }).x = prog.length;
            splits.push(split);
            gen(n.node);
          }
          for (const s of splits) (prog[s] as { y: number }).y = prog.length;
        }
        return;
      }
    }
  };
  emit({ op: "save", n: 0 });
  gen(tree);
  emit({ op: "save", n: 1 });
  emit({ op: "match" });
  return { prog, groups: raw.groups, casemap };
}

/** Leftmost first, then longest (POSIX). */
function better(th: Int32Array, best: Int32Array | null): boolean {
  return best === null || th[0] < best[0] || (th[0] === best[0] && th[1] > best[1]);
}

/** The budget and options of a search: steps spent, the most allowed, groups wanted. */
export interface RegexWork {
  steps: number;
  limit?: number;
  /** false: only the whole match is tracked (cheaper; groups come back ""). */
  captures?: boolean;
}

/**
 * Searches `text` for the regex. Returns null, or [whole match, group 1, ...] ("" for a
 * group that took no part). `work` (optional) is charged one unit per thread step; past
 * its `limit` the search stops with a RegexError.
 */
export function regexSearch(re: Regex, text: string, work?: RegexWork): string[] | null {
  const cps = Array.from(text, (ch) => ch.codePointAt(0)!);
  const n = cps.length;
  const prog = re.prog;
  const size = prog.length;
  const captures = work?.captures ?? true;
  // Thread lists as parallel arrays (instruction, capture slots); each pc at most once.
  let cpc = new Int32Array(size), npc = new Int32Array(size);
  let ccap: Int32Array[] = new Array(size), ncap: Int32Array[] = new Array(size);
  let clen = 0, nlen = 0;
  // mark[pc] === at + 1: pc is already in the list of threads for position `at`.
  const mark = new Int32Array(size);
  const spc = new Int32Array(2 * size + 2);
  const scap: Int32Array[] = new Array(2 * size + 2);
  let best: Int32Array | null = null;
  let steps = 0;

  // Follows jmp/split/save/assertions from pc at position `at`, adding the threads that
  // consume a character (or match) to the next list, in priority order.
  const add = (pc: number, caps: Int32Array, at: number, into: "c" | "n") => {
    const lpc = into === "c" ? cpc : npc, lcap = into === "c" ? ccap : ncap;
    let len = into === "c" ? clen : nlen;
    let sp = 0;
    spc[sp] = pc;
    scap[sp++] = caps;
    while (sp > 0) {
      const p = spc[--sp], c = scap[sp];
      if (mark[p] === at + 1) continue;
      mark[p] = at + 1;
      steps++;
      const inst = prog[p];
      switch (inst.op) {
        case "jmp":
          spc[sp] = inst.x;
          scap[sp++] = c;
          break;
        case "split": // y below x, so that x, the preferred branch, runs first
          spc[sp] = inst.y;
          scap[sp++] = c;
          spc[sp] = inst.x;
          scap[sp++] = c;
          break;
        case "save": {
          let next = c;
          if (captures || inst.n < 2) {
            next = c.slice();
            next[inst.n] = at;
          }
          spc[sp] = p + 1;
          scap[sp++] = next;
          break;
        }
        case "bol":
          if (at === 0) {
            spc[sp] = p + 1;
            scap[sp++] = c;
          }
          break;
        case "eol":
          if (at === n) {
            spc[sp] = p + 1;
            scap[sp++] = c;
          }
          break;
        default:
          lpc[len] = p;
          lcap[len++] = c;
      }
    }
    if (into === "c") clen = len;
    else nlen = len;
  };

  const start = new Int32Array(captures ? 2 * (re.groups + 1) : 2).fill(-1);
  for (let at = 0; at <= n; at++) {
    // A new start has the lowest priority; none once a match began further left.
    if (best === null) add(0, start, at, "c");
    else if (clen === 0) break;
    if (work?.limit !== undefined && work.steps + steps > work.limit) {
      work.steps += steps;
      throw new RegexError("too much regex work");
    }
    const c = at < n ? cps[at] : -1;
    const folded = re.casemap ? lowerCp(c) : c;
    nlen = 0;
    for (let i = 0; i < clen; i++) {
      const caps = ccap[i];
      if (best !== null && caps[0] > best[0]) continue;
      const pc = cpc[i];
      const inst = prog[pc];
      let ok = false;
      switch (inst.op) {
        case "match":
          if (better(caps, best)) best = caps;
          continue;
        case "char":
          ok = folded === inst.c;
          break;
        case "any":
          ok = c >= 0;
          break;
        case "set":
          ok = c >= 0 && setHas(inst.set, c, re.casemap);
          break;
      }
      if (ok) add(pc + 1, caps, at + 1, "n");
    }
    [cpc, npc] = [npc, cpc];
    [ccap, ncap] = [ncap, ccap];
    clen = nlen;
  }
  if (work) work.steps += steps;
  if (best === null) return null;
  const b: Int32Array = best;
  const out: string[] = [];
  for (let g = 0; g <= re.groups; g++) {
    const s = 2 * g < b.length ? b[2 * g] : -1, e = 2 * g + 1 < b.length ? b[2 * g + 1] : -1;
    out.push(s >= 0 && e >= s ? String.fromCodePoint(...cps.slice(s, e)) : "");
  }
  return out;
}
