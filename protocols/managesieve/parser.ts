/**
 * ManageSieve command syntax (RFC 5804 §4): an atom verb, then strings (quoted, or literals
 * `{n+}` / `{n}` followed by CRLF and n octets) and numbers, ending in CRLF.
 *
 * Invariants: a command line is at most MAX_COMMAND_LINE octets, has at most MAX_ARGS
 * arguments, and its literals together at most the caller's `maxLiteral` (SASL-sized before
 * login, script-sized after); a literal over the bound is skipped unread and refused, one over
 * twice the bound ends the session.
 *
 * @module
 */
import type { Connection } from "../../core/connection.ts";
import { ManageSieveError } from "./errors.ts";

/** Longest line of a command outside its literals. */
export const MAX_COMMAND_LINE = 8 * 1024;
/** No command takes more (RENAMESCRIPT and HAVESPACE take two). */
const MAX_ARGS = 4;

/** One parsed command. */
export interface SieveCommand {
  verb: string;
  args: string[];
}

const dec = new TextDecoder("utf-8", { fatal: true });
const LITERAL_AT_END = /\{(\d{1,10})(\+?)\}$/;

/** Reads one command line, with its literals, from `conn`. */
export async function readCommand(
  conn: Pick<Connection, "readLine" | "readBytes" | "skipBytes">,
  timeoutMs: number,
  maxLiteral: number,
  /** A SASL response (RFC 5804 §2.1): strings only, no verb. */
  bare = false,
): Promise<SieveCommand> {
  const args: string[] = [];
  let verb = bare ? "-" : "";
  let literalBudget = maxLiteral;
  for (;;) {
    const line = text(await conn.readLine(MAX_COMMAND_LINE, timeoutMs));
    const literal = LITERAL_AT_END.exec(line);
    const head = literal ? line.slice(0, literal.index) : line;
    const tokens = tokenize(head);
    if (verb === "") {
      const first = tokens.shift();
      if (first === undefined || first.quoted) throw syntax("expected a command name");
      verb = first.value.toUpperCase();
    }
    for (const t of tokens) args.push(t.value);
    if (args.length > MAX_ARGS) throw syntax("too many arguments");
    if (!literal) return { verb, args };
    const n = Number(literal[1]);
    if (n > literalBudget) {
      // Up to twice the bound is skipped (bounded memory) and refused; more ends the session
      // rather than reading it.
      if (n > 2 * maxLiteral) {
        throw new ManageSieveError(`literal too large (at most ${maxLiteral} octets)`, {
          code: "QUOTA/MAXSIZE",
          close: true,
        });
      }
      await conn.skipBytes(n, timeoutMs);
      await conn.readLine(MAX_COMMAND_LINE, timeoutMs); // the rest of the command
      throw new ManageSieveError(`literal too large (at most ${maxLiteral} octets)`, {
        code: "QUOTA/MAXSIZE",
        bad: true,
      });
    }
    literalBudget -= n;
    args.push(text(await conn.readBytes(n, timeoutMs)));
  }
}

function text(bytes: Uint8Array): string {
  try {
    return dec.decode(bytes);
  } catch {
    throw syntax("strings must be UTF-8");
  }
}

function syntax(message: string): ManageSieveError {
  return new ManageSieveError(`Syntax error: ${message}`, { bad: true });
}

/** Atoms/numbers and quoted strings (RFC 5804 §4: `\` escapes only `"` and `\`). */
export function tokenize(s: string): { value: string; quoted: boolean }[] {
  const out: { value: string; quoted: boolean }[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === " ") {
      i++;
      continue;
    }
    if (s[i] === '"') {
      let v = "";
      i++;
      for (;;) {
        if (i >= s.length) throw syntax("unterminated quoted string");
        const c = s[i++];
        if (c === '"') break;
        if (c === "\\") {
          const e = s[i++];
          if (e !== '"' && e !== "\\") throw syntax("bad escape in quoted string");
          v += e;
        } else v += c;
      }
      out.push({ value: v, quoted: true });
      continue;
    }
    let j = i;
    while (j < s.length && s[j] !== " " && s[j] !== '"') j++;
    const atom = s.slice(i, j);
    if (!/^[A-Za-z0-9_.-]+$/.test(atom)) throw syntax(`unexpected "${atom.slice(0, 20)}"`);
    out.push({ value: atom, quoted: false });
    i = j;
  }
  return out;
}

/** A string in server syntax (RFC 5804 §4): quoted when short and plain, else a literal. */
export function sieveString(s: string): string {
  if (s.length < 1024 && !/["\\\r\n\0]/.test(s)) return `"${s}"`;
  return `{${new TextEncoder().encode(s).length}}\r\n${s}`;
}
