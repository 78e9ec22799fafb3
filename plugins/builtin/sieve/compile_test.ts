import assert from "node:assert/strict";
import { compile } from "./compile.ts";
import { SieveError } from "./lexer.ts";

function compileError(src: string): string {
  try {
    compile(src);
  } catch (e) {
    assert.ok(e instanceof SieveError, String(e));
    return e.message;
  }
  throw new Error(`compiled: ${src}`);
}

Deno.test("require: unknown extensions are refused (RFC 5228 §3.2)", () => {
  assert.match(compileError('require "x-regex";'), /line 1:1: unsupported extension/);
  assert.match(compileError('require ["fileinto", "x-unknown"];'), /"x-unknown"/);
  assert.match(compileError('keep;\nrequire "fileinto";'), /line 2:1: require must come before/);
});

Deno.test("extensions used without require are refused", () => {
  assert.match(compileError('fileinto "a";'), /fileinto needs require "fileinto"/);
  assert.match(compileError('if envelope "to" "a" { keep; }'), /needs require "envelope"/);
  assert.match(compileError('require "fileinto";\nfileinto :copy "a";'), /line 2:1: :copy needs/);
  assert.match(compileError('set "a" "b";'), /needs require "variables"/);
  assert.match(compileError('addflag "\\\\Seen";'), /needs require "imap4flags"/);
  assert.match(compileError('keep :flags "x";'), /needs require "imap4flags"/);
  assert.match(
    compileError('if header :count "gt" "to" "1" { keep; }'),
    /needs require "relational"/,
  );
  assert.match(compileError('if address :detail "to" "x" { keep; }'), /needs require "subaddress"/);
  assert.match(compileError('reject "no";'), /needs require "reject"/);
  assert.match(compileError('if body :contains "x" { keep; }'), /needs require "body"/);
  assert.match(compileError('if spamtest "5" { keep; }'), /needs require "spamtest"/);
  assert.match(
    compileError('require "fileinto"; fileinto :create "x";'),
    /needs require "mailbox"/,
  );
});

Deno.test("compile errors name the place", () => {
  assert.match(
    compileError("if true {\n  frobnicate;\n}"),
    /line 2:3: unknown command "frobnicate"/,
  );
  assert.match(compileError("if frob { keep; }"), /line 1:4: unknown test "frob"/);
  assert.match(compileError('if header :is :contains "a" "b" { keep; }'), /one match type/);
  assert.match(
    compileError('if header :foo "a" "b" { keep; }'),
    /line 1:11: header: unknown tag :foo/,
  );
  assert.match(compileError('if header "a" { keep; }'), /takes 2 argument/);
  assert.match(
    compileError('if address "subject" "a" { keep; }'),
    /not a header field with addresses/,
  );
  assert.match(compileError("else { keep; }"), /else without if/);
  assert.match(compileError("if size 10 { keep; }"), /:over or :under/);
  assert.match(
    compileError('if header :comparator "i;foo" "a" "b" { keep; }'),
    /unknown comparator/,
  );
  assert.match(compileError("keep { stop; }"), /takes no block/);
  assert.match(
    compileError('require "variables"; set :lower :upper "a" "b";'),
    /cannot be used together/,
  );
  assert.match(compileError('require "variables"; set "1a" "b";'), /bad variable name/);
});

Deno.test("encoded-character decodes ${hex:} and ${unicode:}", () => {
  const s = compile(
    'require ["encoded-character", "fileinto"]; fileinto "${hex:41 42}${unicode:263a}${x}";',
  );
  assert.deepEqual(s.commands[0], {
    c: "fileinto",
    mailbox: "AB\u263a${x}",
    copy: false,
    create: false,
    flags: null,
  });
  assert.match(
    compileError('require "encoded-character"; keep :flags "${unicode:d800}";'),
    /not a character|imap4flags/,
  );
});
