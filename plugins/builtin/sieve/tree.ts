/**
 * The compiled form of a Sieve script: a small tree the evaluator walks. Strings are kept
 * as written (after encoded-character decoding); `${...}` variables are expanded at run
 * time when the script required "variables".
 *
 * @module
 */
import type { Comparator, MatchType } from "./match.ts";

export type AddressPart = "all" | "localpart" | "domain" | "user" | "detail";

/** What every string-matching test has. */
export interface Matching {
  match: MatchType;
  comparator: Comparator;
  keys: string[];
}

/** RFC 5260 §6: `:index n` (1-based), counted from the end with `:last`. */
export interface Index {
  index?: { n: number; last: boolean };
}

/** RFC 5260 §4.1: the zone dates are shown in: a fixed "+hhmm", the header's own, or local. */
export type Zone = { kind: "fixed"; minutes: number } | { kind: "original" } | { kind: "local" };

export type Test =
  | { t: "true" }
  | { t: "false" }
  | { t: "not"; test: Test }
  | { t: "allof" | "anyof"; tests: Test[] }
  | ({ t: "header"; headers: string[] } & Matching & Index)
  | ({ t: "address"; part: AddressPart; headers: string[] } & Matching & Index)
  | ({ t: "date"; header: string; zone: Zone; part: string } & Matching & Index)
  | ({ t: "currentdate"; zone: Zone; part: string } & Matching)
  | ({ t: "virustest" } & Matching)
  | ({ t: "envelope"; part: AddressPart; fields: string[] } & Matching)
  | { t: "exists"; headers: string[] }
  | { t: "size"; over: boolean; limit: number }
  | ({ t: "string"; sources: string[] } & Matching)
  | ({ t: "hasflag"; variables: string[] } & Matching)
  | ({ t: "body"; transform: "raw" | "text" | "content"; types: string[] } & Matching)
  | ({ t: "spamtest"; percent: boolean } & Matching)
  | { t: "mailboxexists"; names: string[] };

export type Command =
  | { c: "if"; branches: Array<{ test: Test; body: Command[] }>; otherwise: Command[] | null }
  | { c: "stop" }
  | { c: "keep"; flags: string[] | null }
  | { c: "discard" }
  | { c: "redirect"; address: string; copy: boolean }
  | { c: "fileinto"; mailbox: string; copy: boolean; create: boolean; flags: string[] | null }
  | { c: "flag"; op: "set" | "add" | "remove"; variable: string | null; flags: string[] }
  | { c: "set"; name: string; value: string; modifiers: string[] }
  | { c: "reject"; reason: string; ereject: boolean }
  | {
    c: "vacation";
    reason: string;
    /** Seconds between two replies to one sender (RFC 5230 :days, RFC 6131 :seconds). */
    period: number;
    subject: string | null;
    from: string | null;
    addresses: string[];
    mime: boolean;
    handle: string | null;
  }
  | { c: "addheader"; last: boolean; name: string; value: string }
  | ({ c: "deleteheader"; name: string; values: Matching | null } & Index)
  | {
    c: "include";
    global: boolean;
    name: string;
    once: boolean;
    optional: boolean;
  }
  | { c: "return" }
  | { c: "global"; names: string[] };

export interface Script {
  commands: Command[];
  /** The capabilities the script required. */
  require: Set<string>;
  /** The scripts it includes (RFC 6609), so the host can fetch them before the run. */
  includes: Array<{ global: boolean; name: string }>;
}

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
