import assert from "node:assert/strict";
import { actions, runScript } from "./testing.ts";

Deno.test("keep, discard, stop, implicit keep (RFC 5228 §2.10.2)", () => {
  assert.deepEqual(actions(""), ["keep"]);
  assert.deepEqual(actions("keep;"), ["keep"]);
  assert.deepEqual(actions("discard;"), ["discard"]);
  assert.deepEqual(actions("discard; keep;"), ["keep"]);
  assert.deepEqual(actions("stop; discard;"), ["keep"]);
  assert.equal(runScript("keep;").implicitKeep, false);
  assert.equal(runScript("").implicitKeep, true);
});

Deno.test("fileinto, redirect and :copy cancel or preserve the implicit keep", () => {
  const r = 'require ["fileinto", "copy"];\n';
  assert.deepEqual(actions(r + 'fileinto "Lists";'), ["fileinto Lists"]);
  assert.deepEqual(actions(r + 'fileinto :copy "Lists";'), ["fileinto Lists", "keep"]);
  assert.deepEqual(actions(r + 'redirect "x@example.org";'), ["redirect x@example.org"]);
  assert.deepEqual(actions(r + 'redirect :copy "x@example.org";'), [
    "redirect x@example.org",
    "keep",
  ]);
  assert.deepEqual(actions(r + 'fileinto "A"; fileinto "A"; fileinto "INBOX";'), [
    "fileinto A",
    "keep",
  ]);
  assert.deepEqual(actions(r + 'redirect "x@e.org"; redirect "x@e.org";'), ["redirect x@e.org"]);
  assert.deepEqual(actions(r + 'require "mailbox";'.slice(0, 0) + 'fileinto "A";'), ["fileinto A"]);
  assert.deepEqual(actions('require ["fileinto","mailbox"]; fileinto :create "New";'), [
    "fileinto New create",
  ]);
});

Deno.test("if / elsif / else and the boolean tests", () => {
  const s = (t: string) =>
    actions(`require "fileinto"; if ${t} { fileinto "yes"; } elsif true { fileinto "no"; }`)[0];
  assert.equal(s("true"), "fileinto yes");
  assert.equal(s("false"), "fileinto no");
  assert.equal(s("not false"), "fileinto yes");
  assert.equal(s("allof(true, false)"), "fileinto no");
  assert.equal(s("anyof(false, true)"), "fileinto yes");
  assert.deepEqual(actions('require "fileinto"; if false { keep; } else { fileinto "e"; }'), [
    "fileinto e",
  ]);
});

Deno.test("header, address, exists, size tests", () => {
  const y = (t: string) => actions(`if ${t} { discard; }`)[0] === "discard";
  assert.ok(y('header :contains "subject" "acme-users"'));
  assert.ok(
    y('header :is "subject" "Café [acme-users] [fwd] version 1.0 is out"'),
    "RFC 2047 decoded",
  );
  assert.ok(y('header :matches "List-Id" "*<acme-users.*>"'));
  assert.ok(!y('header :is "subject" "acme"'));
  assert.ok(y('header :comparator "i;octet" :contains "x-spam" "yes"'));
  assert.ok(!y('header :comparator "i;octet" :contains "x-spam" "YES"'));
  assert.ok(y('address :is "from" "alice+lists@example.org"'));
  assert.ok(y('address :localpart :is "from" "alice+lists"'));
  assert.ok(y('address :domain :is "to" "example.net"'));
  assert.ok(y('address :all :is ["to", "cc"] "dave@example.com"'));
  assert.ok(!y('address :is "from" "Alice"'));
  assert.ok(y('exists ["From", "x-spam"]'));
  assert.ok(!y('exists ["From", "x-nope"]'));
  assert.ok(y("size :over 100"));
  assert.ok(y("size :under 1K"));
  assert.ok(!y("size :over 1M"));
});

Deno.test("envelope and subaddress (RFC 5233)", () => {
  const y = (t: string, from?: string) =>
    actions(`require ["envelope", "subaddress"]; if ${t} { discard; }`, { from })[0] === "discard";
  assert.ok(y('envelope :is "to" "bob+sieve@example.com"'));
  assert.ok(y('envelope :user :is "to" "bob"'));
  assert.ok(y('envelope :detail :is "to" "sieve"'));
  assert.ok(y('envelope :domain :is "from" "EXAMPLE.org"'));
  assert.ok(y('address :user :is "from" "alice"'));
  assert.ok(!y('address :detail :is "to" ""'), "no detail: no match");
  assert.ok(y('envelope :is "from" ""', ""), "null sender is the empty string");
  assert.ok(y('envelope :localpart :is "from" ""', ""));
});

Deno.test("relational :value and :count (RFC 5231)", () => {
  const r = 'require ["relational", "comparator-i;ascii-numeric"]; ';
  const y = (t: string) => actions(`${r}if ${t} { discard; }`)[0] === "discard";
  assert.ok(y('header :count "eq" :comparator "i;ascii-numeric" "received" "2"'));
  assert.ok(y('address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] "3"'));
  assert.ok(y('header :value "gt" "x-spam" "abc"'));
  assert.ok(!y('header :count "gt" :comparator "i;ascii-numeric" "received" "2"'));
});

Deno.test("imap4flags: setflag, addflag, removeflag, hasflag, :flags (RFC 5232)", () => {
  const r = 'require ["imap4flags", "fileinto", "variables"]; ';
  assert.deepEqual(actions(r + 'addflag "\\\\Seen"; addflag ["$Work", "\\\\seen"]; keep;'), [
    "keep [\\Seen $Work]",
  ]);
  assert.deepEqual(actions(r + 'setflag "a b"; removeflag "A"; fileinto "X";'), ["fileinto X [b]"]);
  assert.deepEqual(actions(r + 'addflag "a"; fileinto :flags "z" "X";'), ["fileinto X [z]"]);
  assert.deepEqual(actions(r + 'addflag "a";'), ["keep [a]"], "implicit keep takes the flags");
  assert.deepEqual(actions(r + 'addflag "a b"; if hasflag :is "b" { discard; }'), ["discard"]);
  assert.deepEqual(actions(r + 'addflag "v" "x y"; if hasflag "v" "y" { discard; }'), ["discard"]);
  assert.deepEqual(actions(r + 'if hasflag :contains "" { discard; }'), ["keep"]);
});

Deno.test("variables: set with modifiers, string test, match variables (RFC 5229)", () => {
  const r = 'require ["variables", "fileinto"]; ';
  assert.deepEqual(actions(r + 'set "a" "World"; fileinto "x-${a}-${A}-${b}";'), [
    "fileinto x-World-World-",
  ]);
  assert.deepEqual(
    actions(r + 'set :upper "a" "abc"; set :lowerfirst "b" "ABC"; fileinto "${a}${b}";'),
    [
      "fileinto ABCaBC",
    ],
  );
  assert.deepEqual(actions(r + 'set :length "n" "héllo"; fileinto "${n}";'), ["fileinto 5"]);
  assert.deepEqual(actions(r + 'set :quotewildcard "q" "a*b?"; fileinto "${q}";'), [
    "fileinto a\\*b\\?",
  ]);
  assert.deepEqual(actions(r + 'set :upperfirst :lower "q" "hELLO"; fileinto "${q}";'), [
    "fileinto Hello",
  ]);
  assert.deepEqual(
    actions(r + 'if header :matches "subject" "* [*] *" { fileinto "lists.${2}.${1}"; }'),
    ["fileinto lists.acme-users.Café"],
  );
  assert.deepEqual(actions(r + 'set "x" "1"; if string :is "${x}" "1" { discard; }'), ["discard"]);
  assert.deepEqual(actions(r + 'fileinto "${unknown${x}";'), ["fileinto ${unknown"]);
});

Deno.test("reject and ereject (RFC 5429)", () => {
  assert.deepEqual(actions('require "reject"; reject "go away";'), ["reject go away"]);
  assert.deepEqual(actions('require "ereject"; ereject "no";'), ["ereject no"]);
  const o = runScript('require "reject"; reject "no"; keep;');
  assert.deepEqual(o.actions.map((a) => a.type), ["keep"]);
  assert.match(o.error ?? "", /reject cannot be combined/);
});

Deno.test("body :text, :raw and :content (RFC 5173)", () => {
  const r = 'require "body"; ';
  const y = (t: string, message?: string) =>
    actions(`${r}if ${t} { discard; }`, { message })[0] === "discard";
  assert.ok(y('body :contains "new* release"'));
  assert.ok(y('body :raw :contains "Hello Bob"'));
  assert.ok(y('body :content "text" :contains "hello"'));
  assert.ok(!y('body :content "image" :contains "hello"'));
  const b64 = [
    "Content-Type: multipart/mixed; boundary=b",
    "",
    "--b",
    "Content-Type: text/plain",
    "Content-Transfer-Encoding: base64",
    "",
    btoa("secret word"),
    "--b--",
    "",
  ].join("\r\n");
  assert.ok(y('body :text :contains "secret word"', b64));
  assert.ok(!y('body :raw :contains "secret word"', b64));
});

Deno.test("spamtest and :percent (RFC 3685), fed by the spam score", () => {
  const r = 'require ["spamtest", "spamtestplus", "relational", "comparator-i;ascii-numeric"]; ';
  const y = (t: string, spam?: { score: number; max: number }) =>
    actions(`${r}if ${t} { discard; }`, { spam })[0] === "discard";
  assert.ok(y('spamtest :value "eq" "0"'), "not tested: 0");
  assert.ok(y('spamtest :value "ge" "10"', { score: 20, max: 10 }));
  assert.ok(y('spamtest :value "eq" "1"', { score: 0, max: 10 }));
  assert.ok(y('spamtest :value "eq" "6"', { score: 5, max: 10 }));
  assert.ok(y('spamtest :percent :value "eq" "50"', { score: 5, max: 10 }));
});
