/**
 * The Sieve parser (RFC 5228 §8.2): tokens to a generic syntax tree of commands, arguments
 * and tests. It knows no command names; compile.ts gives them meaning.
 *
 * Invariants: nesting of blocks and tests is bounded by {@link MAX_NESTING} (a hostile
 * script cannot exhaust the stack); errors are SieveError with line and column.
 *
 * @module
 */
import { SieveError, type Token, tokenize } from "./lexer.ts";

/** Deepest nesting of blocks plus tests a script may have. */
export const MAX_NESTING = 32;

export type Arg =
  | { kind: "tag"; name: string; line: number; column: number }
  | { kind: "number"; value: number; line: number; column: number }
  | { kind: "strings"; values: string[]; list: boolean; line: number; column: number };

export interface TestNode {
  name: string;
  args: Arg[];
  tests: TestNode[];
  line: number;
  column: number;
}

export interface CommandNode {
  name: string;
  args: Arg[];
  /** The test or test list after the arguments (if, elsif, ...). */
  tests: TestNode[];
  /** The block, or null for a command ended by ";". */
  block: CommandNode[] | null;
  line: number;
  column: number;
}

/** Parses a whole script. Throws SieveError. */
export function parse(src: string): CommandNode[] {
  const toks = tokenize(src);
  let p = 0;
  const peek = (): Token => toks[p];
  const fail = (msg: string, t: Token = peek()): never => {
    throw new SieveError(msg, t.line, t.column);
  };
  const isPunct = (c: string) => peek().kind === "punct" && peek().text === c;
  const expect = (c: string) => {
    if (!isPunct(c)) fail(`expected "${c}" but found ${describe(peek())}`);
    p++;
  };

  const commands = (depth: number, inBlock: boolean): CommandNode[] => {
    const out: CommandNode[] = [];
    for (;;) {
      const t = peek();
      if (t.kind === "eof") {
        if (inBlock) fail('missing "}"');
        return out;
      }
      if (inBlock && isPunct("}")) return out;
      out.push(command(depth));
    }
  };

  const command = (depth: number): CommandNode => {
    const t = peek();
    if (t.kind !== "identifier") fail(`expected a command but found ${describe(t)}`);
    p++;
    const { args, tests } = argumentsOf(depth);
    if (isPunct(";")) {
      p++;
      return { name: t.text, args, tests, block: null, line: t.line, column: t.column };
    }
    if (isPunct("{")) {
      if (depth + 1 > MAX_NESTING) fail(`nesting deeper than ${MAX_NESTING}`);
      p++;
      const block = commands(depth + 1, true);
      expect("}");
      return { name: t.text, args, tests, block, line: t.line, column: t.column };
    }
    return fail(`expected ";" or "{" but found ${describe(peek())}`);
  };

  const argumentsOf = (depth: number): { args: Arg[]; tests: TestNode[] } => {
    const args: Arg[] = [];
    for (;;) {
      const t = peek();
      if (t.kind === "tag") {
        args.push({ kind: "tag", name: t.text, line: t.line, column: t.column });
        p++;
      } else if (t.kind === "number") {
        args.push({ kind: "number", value: t.value!, line: t.line, column: t.column });
        p++;
      } else if (t.kind === "string") {
        args.push({
          kind: "strings",
          values: [t.text],
          list: false,
          line: t.line,
          column: t.column,
        });
        p++;
      } else if (isPunct("[")) {
        p++;
        const values: string[] = [];
        for (;;) {
          const s = peek();
          if (s.kind !== "string") fail(`expected a string in the list but found ${describe(s)}`);
          values.push(s.text);
          p++;
          if (isPunct(",")) p++;
          else break;
        }
        expect("]");
        args.push({ kind: "strings", values, list: true, line: t.line, column: t.column });
      } else break;
    }
    const tests: TestNode[] = [];
    if (peek().kind === "identifier") tests.push(test(depth + 1));
    else if (isPunct("(")) {
      p++;
      for (;;) {
        tests.push(test(depth + 1));
        if (isPunct(",")) p++;
        else break;
      }
      expect(")");
    }
    return { args, tests };
  };

  const test = (depth: number): TestNode => {
    if (depth > MAX_NESTING) fail(`nesting deeper than ${MAX_NESTING}`);
    const t = peek();
    if (t.kind !== "identifier") fail(`expected a test but found ${describe(t)}`);
    p++;
    const { args, tests } = argumentsOf(depth);
    return { name: t.text, args, tests, line: t.line, column: t.column };
  };

  return commands(0, false);
}

function describe(t: Token): string {
  switch (t.kind) {
    case "eof":
      return "the end of the script";
    case "string":
      return "a string";
    case "number":
      return `number ${t.text}`;
    case "tag":
      return `tag :${t.text}`;
    default:
      return `"${t.text}"`;
  }
}
