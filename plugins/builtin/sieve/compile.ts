/**
 * Compiles the syntax tree to the evaluator's tree (tree.ts), checking every command,
 * test and tag against what the script required. RFC 5228 §3.2: a script that requires
 * an extension we do not implement is refused, and so is one that uses an extension's
 * command, test or tag without requiring it.
 *
 * @module
 */
import { SieveError } from "./lexer.ts";
import { type Arg, type CommandNode, parse, type TestNode } from "./parser.ts";
import { type Comparator, type MatchType, type Relation, RELATIONS } from "./match.ts";
import type { AddressPart, Command, Matching, Script, Test } from "./tree.ts";
import {
  type ArgReader,
  extCommand,
  extTest,
  indexSpec,
  type Parsed,
  type TagSpec,
  testIndex,
} from "./compile_ext.ts";
import { cachedRegex } from "./match.ts";
import { RegexError } from "./regex.ts";

/** The capabilities this interpreter implements (what `require` accepts). */
export const EXTENSIONS: readonly string[] = [
  "fileinto",
  "envelope",
  "encoded-character",
  "imap4flags",
  "copy",
  "body",
  "variables",
  "relational",
  "subaddress",
  "reject",
  "ereject",
  "mailbox",
  "spamtest",
  "spamtestplus",
  "vacation",
  "vacation-seconds",
  "regex",
  "date",
  "index",
  "editheader",
  "include",
  "virustest",
  "comparator-i;octet",
  "comparator-i;ascii-casemap",
  "comparator-i;ascii-numeric",
];

/** Header fields the address test may read (RFC 5228 §5.1: only fields with addresses). */
const ADDRESS_HEADERS = new Set([
  "from",
  "sender",
  "to",
  "cc",
  "bcc",
  "reply-to",
  "resent-from",
  "resent-sender",
  "resent-to",
  "resent-cc",
  "resent-bcc",
  "return-path",
  "delivered-to",
  "disposition-notification-to",
  "errors-to",
  "x-original-to",
  "envelope-to",
  "return-receipt-to",
]);

const MODIFIERS: Record<string, number> = {
  lower: 40,
  upper: 40,
  lowerfirst: 30,
  upperfirst: 30,
  quotewildcard: 20,
  length: 10,
};

type Node = { line: number; column: number };

function err(msg: string, at: Node): never {
  throw new SieveError(msg, at.line, at.column);
}

/** Parses and compiles a script. Throws SieveError with line and column. */
export function compile(src: string): Script {
  const nodes = parse(src);
  const require = new Set<string>();
  let i = 0;
  // RFC 5228 §3.2: require comes before any other command.
  for (; i < nodes.length && nodes[i].name === "require"; i++) {
    const n = nodes[i];
    if (n.block || n.tests.length || n.args.length !== 1 || n.args[0].kind !== "strings") {
      err("require takes one string list", n);
    }
    for (const ext of (n.args[0] as { values: string[] }).values) {
      if (!EXTENSIONS.includes(ext)) err(`unsupported extension "${ext}"`, n);
      require.add(ext);
    }
  }
  const c = new Compiler(require);
  const commands = c.block(nodes.slice(i));
  // RFC 5230 §4.7: vacation and reject are incompatible; refuse the pair up front.
  const used = new Set<string>();
  const walk = (cs: Command[]) => {
    for (const x of cs) {
      used.add(x.c);
      if (x.c === "if") {
        for (const b of x.branches) walk(b.body);
        if (x.otherwise) walk(x.otherwise);
      }
    }
  };
  walk(commands);
  if (used.has("vacation") && used.has("reject")) {
    err("vacation cannot be used with reject or ereject", nodes[0]);
  }
  return { commands, require, includes: c.includes };
}

class Compiler implements ArgReader {
  readonly includes: Array<{ global: boolean; name: string }> = [];
  constructor(readonly require: Set<string>) {}

  need(ext: string, what: string, at: Node): void {
    if (!this.require.has(ext)) err(`${what} needs require "${ext}"`, at);
  }

  /** encoded-character (RFC 5228 §2.4.2.4) is decoded once, here. */
  str(s: string, at: Node): string {
    return this.require.has("encoded-character") ? decodeEncoded(s, at) : s;
  }

  block(nodes: CommandNode[]): Command[] {
    const out: Command[] = [];
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i];
      if (n.name === "if") {
        const branches = [{ test: this.condition(n), body: this.body(n) }];
        let otherwise: Command[] | null = null;
        while (i + 1 < nodes.length && nodes[i + 1].name === "elsif") {
          const e = nodes[++i];
          branches.push({ test: this.condition(e), body: this.body(e) });
        }
        if (i + 1 < nodes.length && nodes[i + 1].name === "else") {
          const e = nodes[++i];
          if (e.args.length || e.tests.length) err("else takes no arguments", e);
          otherwise = this.body(e);
        }
        out.push({ c: "if", branches, otherwise });
      } else if (n.name === "elsif" || n.name === "else") {
        err(`${n.name} without if`, n);
      } else {
        if (n.block) err(`${n.name} takes no block`, n);
        if (n.tests.length) err(`${n.name} takes no test`, n);
        out.push(this.command(n));
      }
    }
    return out;
  }

  condition(n: CommandNode): Test {
    if (n.args.length || n.tests.length !== 1) err(`${n.name} needs exactly one test`, n);
    return this.test(n.tests[0]);
  }

  body(n: CommandNode): Command[] {
    if (!n.block) err(`${n.name} needs a block`, n);
    return this.block(n.block);
  }

  command(n: CommandNode): Command {
    switch (n.name) {
      case "require":
        return err("require must come before other commands", n);
      case "stop":
        this.args(n, {}, 0);
        return { c: "stop" };
      case "discard":
        this.args(n, {}, 0);
        return { c: "discard" };
      case "keep": {
        const p = this.args(n, { flags: "strings" }, 0);
        return { c: "keep", flags: this.flagsTag(p, n) };
      }
      case "redirect": {
        const p = this.args(n, { copy: "flag" }, 1);
        if (p.tags.has("copy")) this.need("copy", ":copy", n);
        return { c: "redirect", address: this.one(p.positional[0]), copy: p.tags.has("copy") };
      }
      case "fileinto": {
        this.need("fileinto", "fileinto", n);
        const p = this.args(n, { copy: "flag", create: "flag", flags: "strings" }, 1);
        if (p.tags.has("copy")) this.need("copy", ":copy", n);
        if (p.tags.has("create")) this.need("mailbox", ":create", n);
        return {
          c: "fileinto",
          mailbox: this.one(p.positional[0]),
          copy: p.tags.has("copy"),
          create: p.tags.has("create"),
          flags: this.flagsTag(p, n),
        };
      }
      case "setflag":
      case "addflag":
      case "removeflag": {
        this.need("imap4flags", n.name, n);
        const p = this.args(n, {}, -1);
        if (p.positional.length < 1 || p.positional.length > 2) {
          err(`${n.name} takes [variable] flags`, n);
        }
        const variable = p.positional.length === 2 ? this.one(p.positional[0]) : null;
        if (variable !== null) this.checkVariableName(variable, n);
        return {
          c: "flag",
          op: n.name.slice(0, -4) as "set" | "add" | "remove",
          variable,
          flags: this.list(p.positional[p.positional.length - 1]),
        };
      }
      case "set": {
        this.need("variables", "set", n);
        const spec: TagSpec = {};
        for (const m of Object.keys(MODIFIERS)) spec[m] = "flag";
        const p = this.args(n, spec, 2);
        const name = this.one(p.positional[0]);
        this.checkVariableName(name, n);
        const modifiers = [...p.tags.keys()].sort((a, b) => MODIFIERS[b] - MODIFIERS[a]);
        for (let k = 1; k < modifiers.length; k++) {
          if (MODIFIERS[modifiers[k]] === MODIFIERS[modifiers[k - 1]]) {
            err(`set: :${modifiers[k - 1]} and :${modifiers[k]} cannot be used together`, n);
          }
        }
        return { c: "set", name: name.toLowerCase(), value: this.one(p.positional[1]), modifiers };
      }
      case "reject":
      case "ereject": {
        this.need(n.name, n.name, n);
        const p = this.args(n, {}, 1);
        return { c: "reject", reason: this.one(p.positional[0]), ereject: n.name === "ereject" };
      }
      case "vacation": {
        this.need("vacation", "vacation", n);
        const p = this.args(n, {
          days: "number",
          seconds: "number",
          subject: "string",
          from: "string",
          addresses: "strings",
          mime: "flag",
          handle: "string",
        }, 1);
        if (p.tags.has("days") && p.tags.has("seconds")) err("vacation: :days or :seconds", n);
        if (p.tags.has("seconds")) this.need("vacation-seconds", ":seconds", n);
        const num = (k: string) => (p.tags.get(k) as { value: number } | undefined)?.value;
        // RFC 5230 §4.1: 7 days by default, at least 1; RFC 6131 §2: :seconds may be 0.
        const period = p.tags.has("seconds")
          ? num("seconds")!
          : Math.max(1, num("days") ?? 7) * 86_400;
        const opt = (k: string) => p.tags.has(k) ? this.one(p.tags.get(k) as Arg) : null;
        return {
          c: "vacation",
          reason: this.one(p.positional[0]),
          period: Math.min(period, 365 * 86_400),
          subject: opt("subject"),
          from: opt("from"),
          addresses: p.tags.has("addresses") ? this.list(p.tags.get("addresses") as Arg) : [],
          mime: p.tags.has("mime"),
          handle: opt("handle"),
        };
      }
      default:
        return extCommand(this, n) ?? err(`unknown command "${n.name}"`, n);
    }
  }

  test(n: TestNode): Test {
    const noTests = () => {
      if (n.tests.length) err(`${n.name} takes no nested test`, n);
    };
    switch (n.name) {
      case "true":
      case "false":
        noTests();
        this.args(n, {}, 0);
        return { t: n.name };
      case "not":
        if (n.args.length || n.tests.length !== 1) err("not takes one test", n);
        return { t: "not", test: this.test(n.tests[0]) };
      case "allof":
      case "anyof":
        if (n.args.length || n.tests.length === 0) err(`${n.name} takes a list of tests`, n);
        return { t: n.name, tests: n.tests.map((x) => this.test(x)) };
      case "exists": {
        noTests();
        const p = this.args(n, {}, 1);
        return { t: "exists", headers: this.list(p.positional[0]) };
      }
      case "size": {
        noTests();
        const p = this.args(n, { over: "flag", under: "flag" }, 1);
        const over = p.tags.has("over");
        if (over === p.tags.has("under")) err("size needs one of :over or :under", n);
        const limit = p.positional[0];
        if (limit.kind !== "number") err("size needs a number", limit);
        return { t: "size", over, limit: limit.value };
      }
      case "header": {
        noTests();
        const p = this.args(n, { ...this.matchSpec(), ...indexSpec(this) }, 2);
        return {
          t: "header",
          headers: this.list(p.positional[0]),
          ...this.matching(p, n, 1),
          ...testIndex(this, p, n),
        };
      }
      case "address": {
        noTests();
        const p = this.args(n, { ...this.matchSpec(true), ...indexSpec(this) }, 2);
        const headers = this.list(p.positional[0]);
        for (const h of headers) {
          if (!h.includes("${") && !ADDRESS_HEADERS.has(h.toLowerCase())) {
            err(`address test: "${h}" is not a header field with addresses`, n);
          }
        }
        return {
          t: "address",
          part: this.part(p, n),
          headers,
          ...this.matching(p, n, 1),
          ...testIndex(this, p, n),
        };
      }
      case "envelope": {
        noTests();
        this.need("envelope", "envelope", n);
        const p = this.args(n, this.matchSpec(true), 2);
        const fields = this.list(p.positional[0]).map((f) => f.toLowerCase());
        for (const f of fields) {
          if (f !== "from" && f !== "to" && !f.includes("${")) {
            err(`envelope test: unknown part "${f}" (from, to)`, n);
          }
        }
        return { t: "envelope", part: this.part(p, n), fields, ...this.matching(p, n, 1) };
      }
      case "string": {
        noTests();
        this.need("variables", "string", n);
        const p = this.args(n, this.matchSpec(), 2);
        return { t: "string", sources: this.list(p.positional[0]), ...this.matching(p, n, 1) };
      }
      case "hasflag": {
        noTests();
        this.need("imap4flags", "hasflag", n);
        const p = this.args(n, this.matchSpec(), -1);
        if (p.positional.length < 1 || p.positional.length > 2) {
          err("hasflag takes [variables] flags", n);
        }
        const variables = p.positional.length === 2 ? this.list(p.positional[0]) : [];
        const last = p.positional.length - 1;
        return { t: "hasflag", variables, ...this.matching(p, n, last) };
      }
      case "body": {
        noTests();
        this.need("body", "body", n);
        const spec = {
          ...this.matchSpec(),
          raw: "flag",
          text: "flag",
          content: "strings",
        } as TagSpec;
        const p = this.args(n, spec, 1);
        const kinds = ["raw", "text", "content"].filter((k) => p.tags.has(k));
        if (kinds.length > 1) err("body: one transform only", n);
        const transform = (kinds[0] ?? "text") as "raw" | "text" | "content";
        const types = transform === "content" ? this.list(p.tags.get("content") as Arg) : [];
        const m = this.matching(p, n, 0);
        if (m.match.kind === "count") err("body: :count is not allowed", n);
        return { t: "body", transform, types, ...m };
      }
      case "spamtest": {
        noTests();
        this.need("spamtest", "spamtest", n);
        const p = this.args(n, { ...this.matchSpec(), percent: "flag" }, 1);
        if (p.tags.has("percent")) this.need("spamtestplus", ":percent", n);
        const m = this.matching(p, n, 0);
        // RFC 3685 §2: the default comparator here is i;ascii-numeric.
        if (!p.tags.has("comparator")) m.comparator = "i;ascii-numeric";
        return { t: "spamtest", percent: p.tags.has("percent"), ...m };
      }
      case "mailboxexists": {
        noTests();
        this.need("mailbox", "mailboxexists", n);
        const p = this.args(n, {}, 1);
        return { t: "mailboxexists", names: this.list(p.positional[0]) };
      }
      default:
        return extTest(this, n) ?? err(`unknown test "${n.name}"`, n);
    }
  }

  matchSpec(address = false): TagSpec {
    const s: TagSpec = {
      is: "flag",
      contains: "flag",
      matches: "flag",
      regex: "flag",
      value: "string",
      count: "string",
      comparator: "string",
    };
    if (address) {
      for (const k of ["all", "localpart", "domain", "user", "detail"]) s[k] = "flag";
    }
    return s;
  }

  matching(p: Parsed, at: Node, keyIndex: number): Matching {
    const kinds = ["is", "contains", "matches", "regex", "value", "count"].filter((k) =>
      p.tags.has(k)
    );
    if (kinds.length > 1) err("only one match type is allowed", at);
    let match: MatchType = { kind: "is" };
    const kind = kinds[0];
    if (kind === "value" || kind === "count") {
      this.need("relational", `:${kind}`, at);
      const rel = this.one(p.tags.get(kind) as Arg).toLowerCase();
      if (!RELATIONS.includes(rel)) err(`unknown relation "${rel}"`, at);
      match = { kind, relation: rel as Relation };
    } else if (kind) match = { kind } as MatchType;
    let comparator: Comparator = "i;ascii-casemap";
    if (p.tags.has("comparator")) {
      const name = this.one(p.tags.get("comparator") as Arg).toLowerCase();
      if (name !== "i;octet" && name !== "i;ascii-casemap" && name !== "i;ascii-numeric") {
        err(`unknown comparator "${name}"`, at);
      }
      if (name === "i;ascii-numeric") this.need("comparator-i;ascii-numeric", name, at);
      comparator = name as Comparator;
    }
    const keys = this.list(p.positional[keyIndex]);
    if (match.kind === "regex") {
      this.need("regex", ":regex", at);
      if (comparator === "i;ascii-numeric") err(":regex cannot use i;ascii-numeric", at);
      for (const k of keys) {
        if (this.require.has("variables") && k.includes("${")) continue; // checked at run time
        const re = cachedRegex(k, comparator === "i;ascii-casemap");
        if (re instanceof RegexError) err(re.message, at);
      }
    }
    return { match, comparator, keys };
  }

  part(p: Parsed, at: Node): AddressPart {
    const parts = ["all", "localpart", "domain", "user", "detail"].filter((k) => p.tags.has(k));
    if (parts.length > 1) err("only one address part is allowed", at);
    const part = (parts[0] ?? "all") as AddressPart;
    if (part === "user" || part === "detail") this.need("subaddress", `:${part}`, at);
    return part;
  }

  flagsTag(p: Parsed, at: Node): string[] | null {
    if (!p.tags.has("flags")) return null;
    this.need("imap4flags", ":flags", at);
    return this.list(p.tags.get("flags") as Arg);
  }

  checkVariableName(name: string, at: Node): void {
    if (!this.require.has("variables")) return; // imap4flags without variables: any string
    // RFC 6609 §3.5: "global." names the shared namespace.
    const plain = this.require.has("include") && /^global\./i.test(name) ? name.slice(7) : name;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(plain)) err(`bad variable name "${name}"`, at);
  }

  /**
   * Splits arguments into tags (checked against `spec`, each at most once) and positional
   * arguments (exactly `count` of them; -1: any number). Tags come first.
   */
  args(n: Node & { name: string; args: Arg[] }, spec: TagSpec, count: number): Parsed {
    const tags = new Map<string, Arg | true>();
    const positional: Arg[] = [];
    for (let i = 0; i < n.args.length; i++) {
      const a = n.args[i];
      if (a.kind === "tag") {
        if (positional.length) err(`tag :${a.name} must come before the other arguments`, a);
        const kind = spec[a.name];
        if (!kind) err(`${n.name}: unknown tag :${a.name}`, a);
        if (tags.has(a.name)) err(`${n.name}: tag :${a.name} given twice`, a);
        if (kind === "flag") tags.set(a.name, true);
        else {
          const v = n.args[++i];
          if (!v || (kind === "number") !== (v.kind === "number") || v.kind === "tag") {
            err(`${n.name}: tag :${a.name} needs a ${kind === "number" ? "number" : "string"}`, a);
          }
          if (kind === "string" && v.kind === "strings" && v.values.length !== 1) {
            err(`${n.name}: tag :${a.name} needs one string`, v);
          }
          tags.set(a.name, v);
        }
      } else positional.push(a);
    }
    if (count >= 0 && positional.length !== count) {
      err(`${n.name} takes ${count} argument(s) after its tags, got ${positional.length}`, n);
    }
    return { tags, positional };
  }

  one(a: Arg): string {
    if (a.kind !== "strings" || a.values.length !== 1) err("expected a string", a);
    return this.str(a.values[0], a);
  }

  list(a: Arg): string[] {
    if (a.kind !== "strings") err("expected a string list", a);
    return a.values.map((v) => this.str(v, a));
  }
}

/**
 * Decodes `${hex:41 42}` and `${unicode:263a}` (RFC 5228 §2.4.2.4). A malformed one
 * stays as written; a code point that is not a Unicode scalar value is an error.
 */
export function decodeEncoded(s: string, at: Node): string {
  if (!s.includes("${")) return s;
  let out = "";
  let i = 0;
  while (i < s.length) {
    const start = s.indexOf("${", i);
    if (start < 0) break;
    out += s.slice(i, start);
    const enc = encodedAt(s, start);
    if (enc?.kind === "hex") {
      out += new TextDecoder().decode(new Uint8Array(enc.items.map((x) => parseInt(x, 16))));
    } else if (enc) {
      for (const x of enc.items) {
        const cp = parseInt(x, 16);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
          err(`encoded-character: U+${x} is not a character`, at);
        }
        out += String.fromCodePoint(cp);
      }
    }
    if (enc) {
      i = enc.end;
    } else {
      out += "${";
      i = start + 2;
    }
  }
  return out + s.slice(i);
}

/**
 * The `${hex:...}` or `${unicode:...}` at `start`, or null when malformed. Only the name,
 * hex digits and blanks are read (RFC 5228 §2.4.2.4 allows nothing else before the "}"),
 * so no scan passes another "${": looking for each one's "}" instead was quadratic
 * (11 s for a 200 KB script of "${hex:41 " repeated).
 */
function encodedAt(
  s: string,
  start: number,
): { kind: "hex" | "unicode"; items: string[]; end: number } | null {
  const name = s.slice(start + 2, start + 10).toLowerCase();
  const kind = name.startsWith("hex:") ? "hex" : name.startsWith("unicode:") ? "unicode" : null;
  if (!kind) return null;
  const from = start + 3 + kind.length;
  let p = from;
  while (p < s.length && /[0-9a-fA-F \t\r\n]/.test(s[p])) p++;
  if (s[p] !== "}") return null;
  const body = s.slice(from, p).trim();
  const items = body === "" ? [] : body.split(/[ \t\r\n]+/);
  if (!items.every((x) => x.length <= 8)) return null;
  return { kind, items, end: p + 1 };
}
