import assert from "node:assert/strict";
import { MAX_SCRIPT_BYTES, SieveError, tokenize } from "./lexer.ts";
import { parse } from "./parser.ts";

function errorAt(src: string): string {
  try {
    parse(src);
  } catch (e) {
    assert.ok(e instanceof SieveError, String(e));
    return `${e.line}:${e.column}`;
  }
  throw new Error(`no error for ${src}`);
}

Deno.test("lexer: strings, escapes, numbers with quantifiers, tags, comments", () => {
  const t = tokenize('# c\n/* multi\nline */ keep :Tag "a\\"b\\\\c\\d" 10K 2m 3G;');
  assert.deepEqual(t.map((x) => x.kind), [
    "identifier",
    "tag",
    "string",
    "number",
    "number",
    "number",
    "punct",
    "eof",
  ]);
  assert.deepEqual(t[0].line, 3);
  assert.deepEqual(t[1].text, "tag");
  assert.deepEqual(t[2].text, 'a"b\\cd');
  assert.deepEqual(t.slice(3, 6).map((x) => x.value), [10240, 2 * 1024 ** 2, 3 * 1024 ** 3]);
});

Deno.test("lexer: text: multi-line strings with dot-stuffing", () => {
  const t = tokenize("reject text: # why\nline one\n..dotted\n.\n;");
  assert.deepEqual(t[1].text, "line one\r\n.dotted\r\n");
  assert.deepEqual(t[2].line, 5);
});

Deno.test("lexer and parser errors carry line:column", () => {
  assert.deepEqual(errorAt('keep;\n  "unterminated'), "2:3");
  assert.deepEqual(errorAt("keep;\n\n   @"), "3:4");
  assert.deepEqual(errorAt("keep;\n/* open"), "2:1");
  assert.deepEqual(errorAt("if true {\n  keep;\n"), "3:1");
  assert.deepEqual(errorAt('keep "a"\n}'), "2:1");
  assert.deepEqual(errorAt('fileinto ["a", ];'), "1:16");
  assert.deepEqual(errorAt("if anyof(true,) { keep; }"), "1:15");
  assert.deepEqual(errorAt("12abc;"), "1:1");
  assert.deepEqual(errorAt("reject text:x\n.\n;"), "1:13");
});

Deno.test("lexer: a script over the size limit is refused", () => {
  const big = "#" + "x".repeat(MAX_SCRIPT_BYTES);
  assert.throws(() => tokenize(big), /too large/);
  const mb = "keep;\n".repeat(200_000); // ~1.2 MB
  assert.throws(() => tokenize(mb), /too large/);
});

Deno.test("parser: commands, blocks, test lists", () => {
  const tree = parse('if anyof (not true, header :is "a" ["b","c"]) { stop; } else { keep; }');
  assert.deepEqual(tree.length, 2);
  assert.deepEqual(tree[0].tests[0].name, "anyof");
  assert.deepEqual(tree[0].tests[0].tests.map((t) => t.name), ["not", "header"]);
  assert.deepEqual(tree[0].tests[0].tests[1].args.map((a) => a.kind), [
    "tag",
    "strings",
    "strings",
  ]);
  assert.deepEqual(tree[1].block?.[0].name, "keep");
});

Deno.test("parser: nesting is bounded (blocks and tests)", () => {
  const deep = "if true {".repeat(40) + "keep;" + "}".repeat(40);
  assert.throws(() => parse(deep), /nesting/);
  const notNot = "if " + "not ".repeat(100) + "true { keep; }";
  assert.throws(() => parse(notNot), /nesting/);
  const nested = "if " + "anyof(".repeat(5000) + "true" + ")".repeat(5000) + " { keep; }";
  assert.throws(() => parse(nested), /nesting/);
  parse("if true {".repeat(30) + "keep;" + "}".repeat(30));
});
