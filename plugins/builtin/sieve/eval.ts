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
 *
 * @module
 */
import { asciiLower, type Comparator, matchAny, type MatchType } from "./match.ts";
import { addressesOf, decodedHeader, type SieveInput } from "./message.ts";
import type { AddressPart, Command, Matching, Script, Test } from "./tree.ts";

export interface Limits {
  steps: number;
  comparisons: number;
  redirects: number;
  actions: number;
}

export const DEFAULT_LIMITS: Limits = {
  steps: 10_000,
  comparisons: 1_000_000,
  redirects: 4,
  actions: 64,
};

export const MAX_VARIABLE_LENGTH = 4096;

/** One thing to do with the message. */
export type Action =
  | { type: "keep"; mailbox: "INBOX"; flags: string[] }
  | { type: "fileinto"; mailbox: string; flags: string[]; create: boolean }
  | { type: "redirect"; address: string }
  | { type: "reject"; reason: string; ereject: boolean }
  | { type: "discard" }
  | {
    type: "vacation";
    /** The envelope sender the reply goes to. */
    to: string;
    from: string | null;
    subject: string;
    reason: string;
    mime: boolean;
    /** Seconds between two replies to one sender. */
    period: number;
    /** What makes two vacation actions "the same" for the once-per-period rule. */
    handle: string;
    /** The original's Message-ID, for In-Reply-To / References. */
    inReplyTo: string | null;
  };

export interface Outcome {
  /** What to do, in script order; an implicit keep is included as a "keep". */
  actions: Action[];
  /** True when the keep in `actions` is the implicit one. */
  implicitKeep: boolean;
  /** A run-time error (the actions are then just the implicit keep). */
  error?: string;
  /** Why a vacation the script asked for is not sent (RFC 3834, RFC 5230 §4.5). */
  vacationSkipped?: string;
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
): Outcome {
  const run = new Run(script, input, limits);
  try {
    run.block(script.commands);
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

class Run {
  steps = 0;
  comparisons = 0;
  actions: Action[] = [];
  cancelKeep = false;
  redirects = 0;
  vars = new Map<string, string>();
  matchVars: string[] = [];
  /** The internal flags variable of imap4flags (RFC 5232 §3). */
  flags: string[] = [];
  vacationAsked = false;
  vacationSkipped: string | undefined;
  readonly variables: boolean;

  constructor(readonly script: Script, readonly input: SieveInput, readonly limits: Limits) {
    this.variables = script.require.has("variables");
  }

  step(): void {
    if (++this.steps > this.limits.steps) throw new RunError("too many steps");
  }

  finish(): Outcome {
    const skipped = this.vacationSkipped ? { vacationSkipped: this.vacationSkipped } : {};
    return { ...this.resolve(), ...skipped };
  }

  resolve(): Outcome {
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
    if (!this.variables || !s.includes("${")) return s;
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
    if (/^[0-9]+$/.test(name)) return this.matchVars[Number(name)] ?? "";
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(name)) return null;
    return this.vars.get(name.toLowerCase()) ?? "";
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
          : flagList([this.vars.get(c.variable.toLowerCase()) ?? ""]);
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
    }
  }

  /** RFC 5230 with the RFC 3834 rules; the once-per-period rule is the caller's (kv). */
  vacation(c: Extract<Command, { c: "vacation" }>): void {
    if (this.vacationAsked) throw new RunError("more than one vacation action");
    this.vacationAsked = true;
    const sender = this.input.envelope.from;
    const skip = (why: string) => void (this.vacationSkipped = why);
    if (sender === "") return skip("null sender");
    const at = sender.lastIndexOf("@");
    const local = asciiLower(at > 0 ? sender.slice(0, at) : sender);
    if (
      ["mailer-daemon", "listserv", "majordomo", "postmaster"].includes(local) ||
      local.startsWith("owner-") || local.endsWith("-request")
    ) return skip(`sender ${sender} is a list or system address`);
    const auto = this.input.headerAll("auto-submitted")[0];
    if (auto !== undefined && asciiLower(auto.split(";")[0].trim()) !== "no") {
      return skip("Auto-Submitted message");
    }
    const prec = asciiLower((this.input.headerAll("precedence")[0] ?? "").trim());
    if (prec === "bulk" || prec === "list" || prec === "junk") return skip(`Precedence: ${prec}`);
    const list = ["list-id", "list-unsubscribe", "list-post", "list-help", "list-subscribe"];
    if (list.some((h) => this.input.headerAll(h).length > 0)) return skip("mailing list message");
    // RFC 5230 §4.5: reply only when one of the user's addresses is a visible recipient.
    const mine = new Set(
      [this.input.envelope.to, ...this.expandAll(c.addresses)].flatMap((a) => {
        const l = asciiLower(a.trim());
        const at = l.lastIndexOf("@"), plus = l.indexOf("+");
        return plus > 0 && plus < at ? [l, l.slice(0, plus) + l.slice(at)] : [l];
      }),
    );
    if (mine.has(asciiLower(sender))) return skip("the sender is the user");
    const visible = ["to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc"].some((h) =>
      this.input.headerAll(h).some((v) =>
        addressesOf(v).some((a) => mine.has(asciiLower(`${a.local}@${a.domain}`)))
      )
    );
    if (!visible) return skip("the user is not in To, Cc or Bcc");
    const reason = this.expand(c.reason);
    const original = decodedHeader(this.input, "subject")[0] ?? "";
    const subject = c.subject !== null ? this.expand(c.subject) : `Auto: ${original}`;
    const from = c.from !== null ? this.expand(c.from) : null;
    const handle = c.handle !== null
      ? this.expand(c.handle)
      : JSON.stringify([reason, c.subject, c.from, c.mime]);
    const inReplyTo = this.input.headerAll("message-id")[0]?.trim() || null;
    this.add({
      type: "vacation",
      to: sender,
      from,
      subject: subject.replace(/[\r\n]+/g, " ").slice(0, 400),
      reason,
      mime: c.mime,
      period: c.period,
      handle,
      inReplyTo,
    });
  }

  setVar(name: string, value: string): void {
    this.vars.set(name.toLowerCase(), value.slice(0, MAX_VARIABLE_LENGTH));
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
        return this.expandAll(t.headers).every((h) => this.input.headerAll(h).length > 0);
      case "size":
        return t.over ? this.input.size > t.limit : this.input.size < t.limit;
      case "header": {
        const values = this.expandAll(t.headers).flatMap((h) => decodedHeader(this.input, h));
        return this.matches(values, t);
      }
      case "address": {
        const values: string[] = [];
        for (const h of this.expandAll(t.headers)) {
          for (const v of this.input.headerAll(h)) {
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
          : flagList(this.expandAll(t.variables).map((v) => this.vars.get(v.toLowerCase()) ?? ""));
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
    const got = matchAny(values, keys, m.match as MatchType, m.comparator as Comparator);
    if (got && m.match.kind === "matches" && this.variables) this.matchVars = got;
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
