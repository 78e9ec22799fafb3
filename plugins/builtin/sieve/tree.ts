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

export type Test =
  | { t: "true" }
  | { t: "false" }
  | { t: "not"; test: Test }
  | { t: "allof" | "anyof"; tests: Test[] }
  | ({ t: "header"; headers: string[] } & Matching)
  | ({ t: "address"; part: AddressPart; headers: string[] } & Matching)
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
  };

export interface Script {
  commands: Command[];
  /** The capabilities the script required. */
  require: Set<string>;
}
