import assert from "node:assert/strict";
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
