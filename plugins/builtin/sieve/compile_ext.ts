/**
 * Compiling the later extensions: date and index (RFC 5260), editheader (RFC 5293),
 * include (RFC 6609) and virustest (RFC 3685). compile.ts hands any command or test it
 * does not know to {@link extCommand} / {@link extTest}, with itself as the ArgReader.
 *
 * @module
 */
import { SieveError } from "./lexer.ts";
import type { Arg, CommandNode, TestNode } from "./parser.ts";
import type { Command, Index, Matching, Test, Zone } from "./tree.ts";

/** The tags a command or test accepts: name -> whether a value follows it. */
export type TagSpec = Record<string, "flag" | "string" | "strings" | "number">;

export interface Parsed {
  tags: Map<string, Arg | true>;
  positional: Arg[];
}

type Node = { line: number; column: number };

/** What the extensions use of the compiler. */
export interface ArgReader {
  require: Set<string>;
  includes: Array<{ global: boolean; name: string }>;
  need(ext: string, what: string, at: Node): void;
  args(n: Node & { name: string; args: Arg[] }, spec: TagSpec, count: number): Parsed;
  one(a: Arg): string;
  list(a: Arg): string[];
  matchSpec(address?: boolean): TagSpec;
  matching(p: Parsed, at: Node, keyIndex: number): Matching;
}

export function err(msg: string, at: Node): never {
  throw new SieveError(msg, at.line, at.column);
}

/** RFC 5260 §4.2 date-parts. */
export const DATE_PARTS = new Set([
  "year",
  "month",
  "day",
  "date",
  "julian",
  "hour",
  "minute",
  "second",
  "time",
  "iso8601",
  "std11",
  "zone",
  "weekday",
]);

/** RFC 5293 §6 and Pigeonhole: fields a script may neither add nor delete. */
export const PROTECTED_FIELDS = new Set(["received", "auto-submitted"]);

/** An RFC 5322 §3.6.8 field name: printable ASCII but ":", 1-997 characters. */
export function validFieldName(name: string): boolean {
  return /^[\x21-\x39\x3b-\x7e]{1,997}$/.test(name);
}

const hasVars = (r: ArgReader, s: string) => r.require.has("variables") && s.includes("${");

/** "+hhmm" / "-hhmm" as minutes east of UTC, or null. */
export function parseZone(s: string): number | null {
  const m = /^([+-])([0-9]{2})([0-9]{2})$/.exec(s);
  if (!m || Number(m[2]) > 23 || Number(m[3]) > 59) return null;
  return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** :index / :last (RFC 5260 §6). */
function indexOf(r: ArgReader, p: Parsed, at: Node): Index {
  if (p.tags.has("last") && !p.tags.has("index")) err(":last needs :index", at);
  if (!p.tags.has("index")) return {};
  r.need("index", ":index", at);
  const n = (p.tags.get("index") as { value: number }).value;
  if (n < 1) err(":index counts from 1", at);
  return { index: { n, last: p.tags.has("last") } };
}

/** The tags :index and :last add to a test's spec. */
export function indexSpec(r: ArgReader): TagSpec {
  return r.require.has("index") ? { index: "number", last: "flag" } : {};
}

/** Header and address tests: their :index (the caller compiled the rest). */
export function testIndex(r: ArgReader, p: Parsed, at: Node): Index {
  return indexOf(r, p, at);
}

function zoneOf(r: ArgReader, p: Parsed, at: Node): Zone {
  if (p.tags.has("originalzone")) {
    if (p.tags.has("zone")) err(":zone and :originalzone cannot be used together", at);
    return { kind: "original" };
  }
  if (!p.tags.has("zone")) return { kind: "local" };
  const z = r.one(p.tags.get("zone") as Arg);
  const minutes = parseZone(z);
  if (minutes === null) err(`bad time zone "${z.slice(0, 20)}" (+hhmm or -hhmm)`, at);
  return { kind: "fixed", minutes };
}

function datePart(r: ArgReader, a: Arg): string {
  const part = r.one(a).toLowerCase();
  if (!DATE_PARTS.has(part) && !hasVars(r, part)) err(`unknown date-part "${part}"`, a);
  return part;
}

/** A test of the extensions, or null when `n` is none of them. */
export function extTest(r: ArgReader, n: TestNode): Test | null {
  switch (n.name) {
    case "date": {
      r.need("date", "date", n);
      const spec = { ...r.matchSpec(), ...indexSpec(r), zone: "string", originalzone: "flag" };
      const p = r.args(n, spec as TagSpec, 3);
      const header = r.one(p.positional[0]);
      return {
        t: "date",
        header,
        zone: zoneOf(r, p, n),
        part: datePart(r, p.positional[1]),
        ...r.matching(p, n, 2),
        ...indexOf(r, p, n),
      };
    }
    case "currentdate": {
      r.need("date", "currentdate", n);
      const p = r.args(n, { ...r.matchSpec(), zone: "string" }, 2);
      return {
        t: "currentdate",
        zone: zoneOf(r, p, n),
        part: datePart(r, p.positional[0]),
        ...r.matching(p, n, 1),
      };
    }
    case "virustest": {
      r.need("virustest", "virustest", n);
      const p = r.args(n, r.matchSpec(), 1);
      const m = r.matching(p, n, 0);
      // RFC 3685 §2: the default comparator here is i;ascii-numeric.
      if (!p.tags.has("comparator")) m.comparator = "i;ascii-numeric";
      return { t: "virustest", ...m };
    }
  }
  return null;
}

/** A command of the extensions, or null when `n` is none of them. */
export function extCommand(r: ArgReader, n: CommandNode): Command | null {
  switch (n.name) {
    case "addheader": {
      r.need("editheader", "addheader", n);
      const p = r.args(n, { last: "flag" }, 2);
      const name = r.one(p.positional[0]);
      if (!hasVars(r, name) && !validFieldName(name)) err(`bad header field name "${name}"`, n);
      return { c: "addheader", last: p.tags.has("last"), name, value: r.one(p.positional[1]) };
    }
    case "deleteheader": {
      r.need("editheader", "deleteheader", n);
      const p = r.args(n, { ...r.matchSpec(), index: "number", last: "flag" }, -1);
      if (p.positional.length < 1 || p.positional.length > 2) {
        err("deleteheader takes a field name and optional value patterns", n);
      }
      const name = r.one(p.positional[0]);
      if (!hasVars(r, name) && !validFieldName(name)) err(`bad header field name "${name}"`, n);
      // RFC 5293 §5: :index here needs no "index" extension.
      if (p.tags.has("last") && !p.tags.has("index")) err(":last needs :index", n);
      const index = p.tags.has("index")
        ? {
          index: { n: (p.tags.get("index") as { value: number }).value, last: p.tags.has("last") },
        }
        : {};
      if (index.index && index.index.n < 1) err(":index counts from 1", n);
      const values = p.positional.length === 2 ? r.matching(p, n, 1) : null;
      if (
        !values && ["is", "contains", "matches", "regex", "value", "count", "comparator"].some(
          (k) => p.tags.has(k),
        )
      ) err("deleteheader: a match type needs value patterns", n);
      return { c: "deleteheader", name, values, ...index };
    }
    case "include": {
      r.need("include", "include", n);
      const p = r.args(n, { personal: "flag", global: "flag", once: "flag", optional: "flag" }, 1);
      if (p.tags.has("personal") && p.tags.has("global")) {
        err("include: :personal or :global", n);
      }
      const name = r.one(p.positional[0]);
      // RFC 6609 §3.2: a constant name, no path; variables are not expanded here.
      if (name === "" || name.includes("/") || name.includes("${") || name.length > 128) {
        err(`include: bad script name "${name.slice(0, 40)}"`, n);
      }
      const global = p.tags.has("global");
      if (!r.includes.some((x) => x.global === global && x.name === name)) {
        r.includes.push({ global, name });
      }
      return {
        c: "include",
        global,
        name,
        once: p.tags.has("once"),
        optional: p.tags.has("optional"),
      };
    }
    case "return":
      r.need("include", "return", n);
      r.args(n, {}, 0);
      return { c: "return" };
    case "global": {
      r.need("include", "global", n);
      r.need("variables", "global", n);
      const p = r.args(n, {}, 1);
      const names = r.list(p.positional[0]);
      for (const v of names) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) err(`bad variable name "${v}"`, n);
      }
      return { c: "global", names: names.map((v) => v.toLowerCase()) };
    }
  }
  return null;
}
