import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeMutf7,
  encodeMutf7,
  fromWire,
  invalidNameReason,
  MailboxPattern,
  normalizeInbox,
  toWire,
} from "./mailbox_name.ts";

Deno.test("mailbox names: modified UTF-7 (RFC 3501 §5.1.3)", async (t) => {
  await t.step("RFC examples", () => {
    assert.equal(
      encodeMutf7("~peter/mail/\u53f0\u5317/\u65e5\u672c\u8a9e"),
      "~peter/mail/&U,BTFw-/&ZeVnLIqe-",
    );
    assert.equal(
      decodeMutf7("~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
      "~peter/mail/\u53f0\u5317/\u65e5\u672c\u8a9e",
    );
    assert.equal(encodeMutf7("Entw\u00fcrfe"), "Entw&APw-rfe");
    assert.equal(encodeMutf7("A&B"), "A&-B");
    assert.equal(decodeMutf7("A&-B"), "A&B");
  });
  await t.step("round trip of astral and mixed text", () => {
    for (const s of ["\u{1F600} mail", "caf\u00e9/\u00e9t\u00e9", "plain", "&&", "\u00e9&\u00e8"]) {
      assert.equal(decodeMutf7(encodeMutf7(s)), s);
    }
  });
  await t.step("invalid encodings are refused", () => {
    for (const s of ["&", "&U,BTFw", "&AGE-", "&Jjo!-", "&AP-"]) {
      assert.equal(decodeMutf7(s), null, s);
    }
    assert.throws(() => fromWire("&Jjo", false), /modified UTF-7/);
  });
  await t.step("wire forms for IMAP4rev1 and IMAP4rev2", () => {
    assert.equal(fromWire("Entw&APw-rfe", false), "Entw\u00fcrfe");
    assert.equal(fromWire("Entw&APw-rfe", true), "Entw&APw-rfe");
    assert.equal(fromWire("Entw\u00fcrfe", false), "Entw\u00fcrfe");
    assert.equal(toWire("Entw\u00fcrfe", false), "Entw&APw-rfe");
    assert.equal(toWire("Entw\u00fcrfe", true), "Entw\u00fcrfe");
  });
});

Deno.test("mailbox names: INBOX and validation", async (t) => {
  await t.step("INBOX is case-insensitive, with its first level", () => {
    assert.equal(normalizeInbox("inbox"), "INBOX");
    assert.equal(normalizeInbox("InBox/Sub"), "INBOX/Sub");
    assert.equal(normalizeInbox("Inboxes"), "Inboxes");
  });
  await t.step("refused names", () => {
    for (
      const n of [
        "",
        "a/../b",
        "..",
        "a%",
        "b*",
        "a\u0000b",
        "a\tb",
        "/a",
        "a/",
        "a//b",
        "x".repeat(256),
      ]
    ) {
      assert.notEqual(invalidNameReason(n), null, JSON.stringify(n));
    }
    assert.equal(invalidNameReason("Work/Projects 2024"), null);
    assert.equal(invalidNameReason("\u00e9".repeat(127)), null); // 254 octets
    assert.notEqual(invalidNameReason("\u00e9".repeat(128)), null); // 256 octets
  });
});

Deno.test("mailbox names: LIST patterns", async (t) => {
  await t.step("* crosses levels, % does not", () => {
    const star = new MailboxPattern("", "*");
    const pct = new MailboxPattern("", "%");
    assert.ok(star.matches("a/b/c"));
    assert.ok(pct.matches("a"));
    assert.ok(!pct.matches("a/b"));
    assert.ok(new MailboxPattern("a/", "%").matches("a/b"));
    assert.ok(!new MailboxPattern("a/", "%").matches("a/b/c"));
    assert.ok(new MailboxPattern("", "a/%").endsWithPercent);
  });
  await t.step("regex characters are literal", () => {
    assert.ok(new MailboxPattern("", "a.b").matches("a.b"));
    assert.ok(!new MailboxPattern("", "a.b").matches("axb"));
    assert.ok(new MailboxPattern("", "(x)[y]+").matches("(x)[y]+"));
  });
  await t.step("INBOX matches in any case", () => {
    assert.ok(new MailboxPattern("", "inbox").matches("INBOX"));
    assert.ok(new MailboxPattern("", "Inbox/%").matches("INBOX/Sub"));
  });
});

Deno.test("mailbox names: LIST patterns match in bounded time (issue 13 item 2)", async (t) => {
  await t.step("a pathological pattern finishes fast", () => {
    // `*%*%…x` made the old RegExp backtrack exponentially: 5 pairs against 30 letters
    // took 6.6 s, 8 pairs against 40 took 68 s (checked first, so the old code fails here).
    let started = performance.now();
    assert.ok(!new MailboxPattern("", "*%".repeat(5) + "x").matches("a".repeat(30)));
    const small = performance.now() - started;
    assert.ok(small < 100, `5 pairs took ${small.toFixed(0)} ms`);
    const names = ["a".repeat(200), "a/".repeat(100) + "b", "x".repeat(255)];
    started = performance.now();
    for (const pairs of [30, 2_000]) {
      const p = new MailboxPattern("", "*%".repeat(pairs) + "x");
      assert.ok(!p.matches(names[0]));
      assert.ok(!p.matches(names[1]));
      assert.ok(p.matches(names[2]));
      const q = new MailboxPattern("", "a*".repeat(pairs) + "y");
      assert.ok(!q.matches(names[0]));
    }
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 200, `took ${elapsed.toFixed(0)} ms`);
  });
  await t.step("agrees with a simple reference on small inputs", () => {
    // The reference is the former translation into a RegExp (fine on tiny test inputs).
    const reference = (pattern: string, name: string) => {
      let src = "^";
      for (const ch of pattern) {
        if (ch === "*") src += ".*";
        else if (ch === "%") src += "[^/]*";
        else src += ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      }
      return new RegExp(src + "$", "su").test(name);
    };
    const alphabet = fc.constantFrom("a", "b", "/", ".", "\u00e9", "\u{1F600}");
    const text = (max: number) => fc.array(alphabet, { maxLength: max }).map((a) => a.join(""));
    const pattern = fc.array(fc.oneof(alphabet, fc.constantFrom("*", "%")), { maxLength: 8 })
      .map((a) => a.join(""));
    fc.assert(
      fc.property(pattern, text(8), (p, name) => {
        assert.equal(new MailboxPattern("", p).matches(name), reference(p, name), `${p} ~ ${name}`);
      }),
      { numRuns: 3_000 },
    );
  });
});
