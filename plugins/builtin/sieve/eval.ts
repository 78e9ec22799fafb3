/**
 * The evaluator: runs a compiled script on one message and returns the actions, with the
 * implicit keep of RFC 5228 §2.10.2 resolved.
 *
 * Invariants:
 * - Bounded work: every test and command is a step, every value-key comparison counts,
 *   and a run over {@link Limits.steps} / {@link Limits.comparisons} stops with an error;
 *   so do more than {@link Limits.redirects} redirects or {@link Limits.actions} actions.
 * - A run-time error discards the actions taken and keeps the message (RFC 5228 §2.10.6),
 *   so a broken or hostile script never loses mail.
 * - Variables hold at most {@link MAX_VARIABLE_LENGTH} characters each (RFC 5229 §6).
 * - include (RFC 6609): at most {@link Limits.includeDepth} nested and
 *   {@link Limits.includes} included scripts per run; a loop is a run-time error. Included
 *   scripts come from the caller's `resolve` (already fetched and compiled).
 * - Regex matching costs {@link Limits.regexSteps} VM steps at most per run.
 *
 * @module
 */
import { asciiLower, type Comparator, matchAny, type MatchType } from "./match.ts";
import { addressesOf, decodedHeader, type SieveInput } from "./message.ts";
import type { Action, AddressPart, Command, Matching, Script, Test } from "./tree.ts";
import { type Field, HeaderView, MAX_EDITS } from "./headers.ts";
import { dateValues, deleteHeader, pickIndex } from "./eval_ext.ts";
import { vacationAction } from "./vacation_rules.ts";
import { RegexError, type RegexWork } from "./regex.ts";
import { PROTECTED_FIELDS, validFieldName } from "./compile_ext.ts";

export interface Limits {
  steps: number;
  comparisons: number;
  redirects: number;
  actions: number;
  regexSteps: number;
  includes: number;
  includeDepth: number;
}

export const DEFAULT_LIMITS: Limits = {
  steps: 10_000,
  comparisons: 1_000_000,
  redirects: 4,
  actions: 64,
  regexSteps: 5_000_000,
  includes: 32,
  includeDepth: 10,
};

/** An included script by location and name: the script, null (none), or why it failed. */
export type Resolve = (global: boolean, name: string) => Script | null | Error;

export const MAX_VARIABLE_LENGTH = 4096;

export type { Action } from "./tree.ts";

export interface Outcome {
  /** What to do, in script order; an implicit keep is included as a "keep". */
  actions: Action[];
  /** True when the keep in `actions` is the implicit one. */
  implicitKeep: boolean;
  /** A run-time error (the actions are then just the implicit keep). */
  error?: string;
  /** Why a vacation the script asked for is not sent (RFC 3834, RFC 5230 §4.5). */
  vacationSkipped?: string;
  /** The edited header (editheader), when the script changed it. */
  header?: Field[];
}

/** One action as a short string. */
export function describeAction(a: Action): string {
  switch (a.type) {
    case "keep":
      return a.flags.length ? `keep [${a.flags.join(" ")}]` : "keep";
    case "fileinto":
      return `fileinto ${a.mailbox}` + (a.flags.length ? ` [${a.flags.join(" ")}]` : "") +
        (a.create ? " create" : "");
    case "redirect":
      return `redirect ${a.address}`;
    case "reject":
      return `${a.ereject ? "ereject" : "reject"} ${a.reason}`;
    case "discard":
      return "discard";
    case "vacation":
      return `vacation to ${a.to} "${a.subject}" every ${a.period}s`;
  }
}

class RunError extends Error {}

/** Splits flag strings into flags, merged case-insensitively (RFC 5232 §3). */
export function flagList(values: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const v of values) {
    for (const f of v.split(/[ \t]+/)) {
      if (f === "" || seen.has(f.toLowerCase())) continue;
      seen.add(f.toLowerCase());
      out.push(f);
    }
  }
  return out;
}

/** Runs `script` on `input`. Never throws. */
export function evaluate(
  script: Script,
  input: SieveInput,
  limits: Limits = DEFAULT_LIMITS,
  resolve: Resolve = () => null,
): Outcome {
  const run = new Run(script, input, { ...DEFAULT_LIMITS, ...limits }, resolve);
  try {
    run.script(script);
  } catch (e) {
    if (!(e instanceof RunError) && !(e instanceof Stop)) throw e;
    if (e instanceof RunError) {
      return {
        actions: [{ type: "keep", mailbox: "INBOX", flags: [] }],
        implicitKeep: true,
        error: e.message,
      };
    }
  }
  return run.finish();
}

class Stop extends Error {}
class Return extends Error {}

/** One running script: its own variables (RFC 6609 §3.3: local unless declared global). */
interface Frame {
  vars: Map<string, string>;
  globals: Set<string>;
  variables: boolean;
  matchVars: string[];
}

class Run {
  steps = 0;
  comparisons = 0;
  actions: Action[] = [];
  cancelKeep = false;
  redirects = 0;
  regexWork: RegexWork & { limit: number };
  /** RFC 6609 §3.4: variables declared global, shared by every script of the run. */
  globalVars = new Map<string, string>();
  frame!: Frame;
  /** Included scripts in the current chain (loop check) and every one run (:once). */
  chain: string[] = [];
  included = new Set<string>();
  /** The internal flags variable of imap4flags (RFC 5232 §3). */
  flags: string[] = [];
  vacationAsked = false;
  vacationSkipped: string | undefined;
  readonly headers: HeaderView;

  constructor(
    readonly root: Script,
    readonly input: SieveInput,
    readonly limits: Limits,
    readonly resolve: Resolve,
  ) {
    this.headers = new HeaderView(input);
    this.regexWork = { steps: 0, limit: limits.regexSteps };
  }

  /** Runs one script in a frame of its own; `return` ends it (RFC 6609 §3.3). */
  script(s: Script): void {
    const outer = this.frame;
    this.frame = {
      vars: new Map(),
      globals: new Set(),
      variables: s.require.has("variables"),
      matchVars: [],
    };
    try {
      this.block(s.commands);
    } catch (e) {
      if (!(e instanceof Return)) throw e;
    } finally {
      this.frame = outer;
    }
  }

  include(c: Extract<Command, { c: "include" }>): void {
    const key = `${c.global ? "global" : "personal"}:${c.name}`;
    if (c.once && this.included.has(key)) return;
    if (this.chain.includes(key)) throw new RunError(`include loop through "${c.name}"`);
    if (this.chain.length >= this.limits.includeDepth) {
      throw new RunError(`includes nested deeper than ${this.limits.includeDepth}`);
    }
    if (!this.included.has(key) && this.included.size >= this.limits.includes) {
      throw new RunError(`more than ${this.limits.includes} included scripts`);
    }
    const s = this.resolve(c.global, c.name);
    if (s instanceof Error) throw new RunError(`include "${c.name}": ${s.message}`);
    if (s === null) {
      if (c.optional) return;
      throw new RunError(`include: no ${c.global ? "global" : "personal"} script "${c.name}"`);
    }
    this.included.add(key);
    this.chain.push(key);
    try {
      this.script(s);
    } finally {
      this.chain.pop();
    }
  }

  step(): void {
    if (++this.steps > this.limits.steps) throw new RunError("too many steps");
  }

  finish(): Outcome {
    const skipped = this.vacationSkipped ? { vacationSkipped: this.vacationSkipped } : {};
    const header = this.headers.edited ? { header: this.headers.fields() } : {};
    return { ...this.outcome(), ...skipped, ...header };
  }

  outcome(): Outcome {
    const rejected = this.actions.find((a) => a.type === "reject");
    if (rejected && this.vacationAsked) {
      // RFC 5230 §4.7: vacation and reject are incompatible.
      return {
        actions: [{ type: "keep", mailbox: "INBOX", flags: [] }],
        implicitKeep: true,
        error: "vacation cannot be combined with reject",
      };
    }
    if (rejected && this.actions.some((a) => a.type === "keep" || a.type === "fileinto")) {
      // RFC 5429 §2.1: reject cannot go with a delivery of the message.
      return {
        actions: [{ type: "keep", mailbox: "INBOX", flags: [] }],
        implicitKeep: true,
        error: "reject cannot be combined with keep or fileinto",
      };
    }
    if (this.cancelKeep) {
      const actions = this.actions.length ? this.actions : [{ type: "discard" } as Action];
      return { actions, implicitKeep: false };
    }
    if (this.actions.some((a) => a.type === "keep")) {
      return { actions: this.actions, implicitKeep: false };
    }
    return {
      actions: [...this.actions, { type: "keep", mailbox: "INBOX", flags: [...this.flags] }],
      implicitKeep: true,
    };
  }

  /** Expands `${...}` (RFC 5229 §3) when the script required variables. */
  expand(s: string): string {
    if (!this.frame.variables || !s.includes("${")) return s;
    let out = "";
    let i = 0;
    while (i < s.length) {
      const start = s.indexOf("${", i);
      if (start < 0) break;
      out += s.slice(i, start);
      const end = s.indexOf("}", start + 2);
      const name = end < 0 ? "" : s.slice(start + 2, end);
      const value = end < 0 ? null : this.lookup(name);
      if (value === null) {
        out += "${";
        i = start + 2;
      } else {
        out += value;
        i = end + 1;
      }
      if (out.length > MAX_VARIABLE_LENGTH * 4) break;
    }
    return out + s.slice(i);
  }

  lookup(name: string): string | null {
    if (/^[0-9]+$/.test(name)) return this.frame.matchVars[Number(name)] ?? "";
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(name)) return null;
    return this.getVar(name) ?? "";
  }

  /** RFC 6609 §3.4: "global.x" and names the script declared global are shared. */
  varMap(name: string): [Map<string, string>, string] {
    const n = name.toLowerCase();
    if (n.startsWith("global.")) return [this.globalVars, n.slice(7)];
    return this.frame.globals.has(n) ? [this.globalVars, n] : [this.frame.vars, n];
  }

  getVar(name: string): string | undefined {
    const [map, n] = this.varMap(name);
    return map.get(n);
  }

  expandAll(list: readonly string[]): string[] {
    return list.map((s) => this.expand(s));
  }

  add(a: Action): void {
    if (this.actions.length >= this.limits.actions) throw new RunError("too many actions");
    this.actions.push(a);
  }

  block(cmds: readonly Command[]): void {
    for (const c of cmds) this.command(c);
  }

  command(c: Command): void {
    this.step();
    switch (c.c) {
      case "if":
        for (const b of c.branches) {
          if (this.test(b.test)) return this.block(b.body);
        }
        if (c.otherwise) this.block(c.otherwise);
        return;
      case "stop":
        throw new Stop();
      case "keep": {
        const flags = c.flags ? flagList(this.expandAll(c.flags)) : [...this.flags];
        this.deliverTo({ type: "keep", mailbox: "INBOX", flags });
        return;
      }
      case "discard":
        this.cancelKeep = true;
        return;
      case "redirect": {
        const address = this.expand(c.address).trim();
        if (!/^[^@\s<>]+@[^@\s<>]+$/.test(address)) {
          throw new RunError(`redirect: bad address "${address}"`);
        }
        if (!this.actions.some((a) => a.type === "redirect" && a.address === address)) {
          if (++this.redirects > this.limits.redirects) {
            throw new RunError(`more than ${this.limits.redirects} redirects`);
          }
          this.add({ type: "redirect", address });
        }
        if (!c.copy) this.cancelKeep = true;
        return;
      }
      case "fileinto": {
        const mailbox = this.expand(c.mailbox);
        const flags = c.flags ? flagList(this.expandAll(c.flags)) : [...this.flags];
        if (mailbox === "" || mailbox.length > 1000) throw new RunError("fileinto: bad mailbox");
        if (mailbox.toUpperCase() === "INBOX") {
          this.deliverTo({ type: "keep", mailbox: "INBOX", flags });
        } else this.deliverTo({ type: "fileinto", mailbox, flags, create: c.create });
        if (!c.copy) this.cancelKeep = true;
        return;
      }
      case "flag": {
        const given = flagList(this.expandAll(c.flags));
        const current = c.variable === null
          ? this.flags
          : flagList([this.getVar(c.variable) ?? ""]);
        let next: string[];
        if (c.op === "set") next = given;
        else if (c.op === "add") next = flagList([...current, ...given]);
        else {
          const drop = new Set(given.map((f) => f.toLowerCase()));
          next = current.filter((f) => !drop.has(f.toLowerCase()));
        }
        if (c.variable === null) this.flags = next;
        else this.setVar(c.variable, next.join(" "));
        return;
      }
      case "set":
        this.setVar(c.name, applyModifiers(this.expand(c.value), c.modifiers));
        return;
      case "reject":
        this.add({ type: "reject", reason: this.expand(c.reason), ereject: c.ereject });
        this.cancelKeep = true;
        return;
      case "vacation":
        return this.vacation(c);
      case "include":
        return this.include(c);
      case "return":
        throw new Return();
      case "global":
        for (const n of c.names) this.frame.globals.add(n);
        return;
      case "addheader": {
        const name = this.expand(c.name);
        if (!validFieldName(name)) throw new RunError(`addheader: bad field name "${name}"`);
        this.edit();
        this.headers.add(name, this.expand(c.value), c.last);
        return;
      }
      case "deleteheader": {
        const name = this.expand(c.name);
        if (!validFieldName(name)) throw new RunError(`deleteheader: bad field name "${name}"`);
        // RFC 5293 §6 (as Pigeonhole): trace and loop-prevention fields stay.
        if (PROTECTED_FIELDS.has(name.toLowerCase())) return;
        this.edit();
        deleteHeader(this.headers, name, c, (values, m) => this.matches(values, m));
        return;
      }
    }
  }

  edit(): void {
    if (++this.headers.edits > MAX_EDITS) throw new RunError(`more than ${MAX_EDITS} header edits`);
  }

  /** RFC 5230 with the RFC 3834 rules; the once-per-period rule is the caller's (kv). */
  vacation(c: Extract<Command, { c: "vacation" }>): void {
    if (this.vacationAsked) throw new RunError("more than one vacation action");
    this.vacationAsked = true;
    const got = vacationAction(c, this.headers, this.input.envelope, (s) => this.expand(s));
    if (typeof got === "string") this.vacationSkipped = got;
    else this.add(got);
  }

  setVar(name: string, value: string): void {
    const [map, n] = this.varMap(name);
    map.set(n, value.slice(0, MAX_VARIABLE_LENGTH));
  }

  /** keep and fileinto to the same mailbox happen once (RFC 5228 §2.10.3). */
  deliverTo(a: Extract<Action, { type: "keep" | "fileinto" }>): void {
    const same = this.actions.find((x) =>
      (x.type === "keep" || x.type === "fileinto") && x.mailbox === a.mailbox
    ) as typeof a | undefined;
    if (same) same.flags = flagList([...same.flags, ...a.flags]);
    else this.add(a);
  }

  test(t: Test): boolean {
    this.step();
    switch (t.t) {
      case "true":
        return true;
      case "false":
        return false;
      case "not":
        return !this.test(t.test);
      case "allof":
        return t.tests.every((x) => this.test(x));
      case "anyof":
        return t.tests.some((x) => this.test(x));
      case "exists":
        return this.expandAll(t.headers).every((h) => this.headers.headerAll(h).length > 0);
      case "size":
        return t.over ? this.input.size > t.limit : this.input.size < t.limit;
      case "header": {
        const values = this.expandAll(t.headers).flatMap((h) =>
          pickIndex(decodedHeader(this.headers, h), t)
        );
        return this.matches(values, t);
      }
      case "address": {
        const values: string[] = [];
        for (const h of this.expandAll(t.headers)) {
          for (const v of pickIndex(this.headers.headerAll(h), t)) {
            for (const a of addressesOf(v)) {
              const p = addressPart(a.local, a.domain, t.part);
              if (p !== null) values.push(p);
            }
          }
        }
        return this.matches(values, t);
      }
      case "envelope": {
        const values: string[] = [];
        for (const f of this.expandAll(t.fields)) {
          const addr = f.toLowerCase() === "from"
            ? this.input.envelope.from
            : f.toLowerCase() === "to"
            ? this.input.envelope.to
            : null;
          if (addr === null) continue;
          // RFC 5228 §5.4: the null reverse-path is the empty string whatever the part.
          if (addr === "") {
            if (t.part !== "detail") values.push("");
            continue;
          }
          const at = addr.lastIndexOf("@");
          const p = at < 0
            ? addressPart(addr, "", t.part)
            : addressPart(addr.slice(0, at), addr.slice(at + 1), t.part);
          if (p !== null) values.push(p);
        }
        return this.matches(values, t);
      }
      case "string":
        return this.matches(this.expandAll(t.sources), t);
      case "hasflag": {
        const flags = t.variables.length === 0
          ? this.flags
          : flagList(this.expandAll(t.variables).map((v) => this.getVar(v) ?? ""));
        // RFC 5232 §4: each key is a space-separated list of flags too.
        return this.matches(flags, { ...t, keys: flagList(this.expandAll(t.keys)) }, false);
      }
      case "body": {
        let values: string[];
        if (t.transform === "raw") values = [this.input.rawBody()];
        else {
          const types = this.expandAll(t.types).map((x) => asciiLower(x));
          values = this.input.parts()
            .filter((p) =>
              t.transform === "text" ? p.type.startsWith("text/") : typeMatches(p.type, types)
            )
            .map((p) => p.text);
        }
        return this.matches(values, t, false);
      }
      case "spamtest": {
        const s = this.input.spam;
        // RFC 3685 §2: "0" when no spam test ran; 1-10 from clean to certain spam.
        let value = "0";
        if (s && t.percent) value = String(Math.round(clamp(s.score / s.max, 0, 1) * 100));
        else if (s) value = String(1 + Math.round(clamp(s.score / s.max, 0, 1) * 9));
        return this.matches([value], t, false);
      }
      case "date":
      case "currentdate":
        return this.matches(dateValues(t, this.headers, this.input, (s) => this.expand(s)), t);
      case "virustest":
        // RFC 3685 §3: "0" when no virus test ran.
        return this.matches([String(this.input.virus ?? 0)], t, false);
      case "mailboxexists":
        return this.expandAll(t.names).every((n) => n.toUpperCase() === "INBOX");
    }
  }

  /** Runs a match and, for a successful :matches, sets the match variables (RFC 5229 §3.2). */
  matches(
    values: readonly string[],
    m: Matching,
    expandKeys = true,
  ): boolean {
    const keys = expandKeys ? this.expandAll(m.keys) : m.keys;
    this.comparisons += Math.max(1, values.length) * Math.max(1, keys.length);
    if (this.comparisons > this.limits.comparisons) throw new RunError("too much matching work");
    let got: string[] | null;
    // Groups are tracked only when a script could read them (RFC 5229 match variables).
    this.regexWork.captures = this.frame.variables;
    try {
      got = matchAny(
        values,
        keys,
        m.match as MatchType,
        m.comparator as Comparator,
        this.regexWork,
      );
    } catch (e) {
      if (e instanceof RegexError) throw new RunError(e.message);
      throw e;
    }
    const kind = m.match.kind;
    if (got && (kind === "matches" || kind === "regex") && this.frame.variables) {
      this.frame.matchVars = got;
    }
    return got !== null;
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/** body :content types: "" any, "text" a whole type, "text/plain" exactly (RFC 5173 §5.2). */
function typeMatches(type: string, wanted: readonly string[]): boolean {
  return wanted.some((w) =>
    w === "" || w === type || (!w.includes("/") && type.startsWith(w + "/"))
  );
}

/** RFC 5228 §2.7.4 and RFC 5233 §4 (separator "+"). null: this address has no such part. */
export function addressPart(local: string, domain: string, part: AddressPart): string | null {
  const plus = local.indexOf("+");
  switch (part) {
    case "all":
      return domain ? `${local}@${domain}` : local;
    case "localpart":
      return local;
    case "domain":
      return domain;
    case "user":
      return plus < 0 ? local : local.slice(0, plus);
    case "detail":
      return plus < 0 ? null : local.slice(plus + 1);
  }
}

/** The `set` modifiers, already sorted by precedence (RFC 5229 §4.1). */
export function applyModifiers(value: string, modifiers: readonly string[]): string {
  let v = value;
  for (const m of modifiers) {
    switch (m) {
      case "lower":
        v = v.toLowerCase();
        break;
      case "upper":
        v = v.toUpperCase();
        break;
      case "lowerfirst":
        v = v.slice(0, 1).toLowerCase() + v.slice(1);
        break;
      case "upperfirst":
        v = v.slice(0, 1).toUpperCase() + v.slice(1);
        break;
      case "quotewildcard":
        v = v.replace(/[*?\\]/g, (c) => "\\" + c);
        break;
      case "length":
        v = String([...v].length);
        break;
    }
  }
  return v;
}
