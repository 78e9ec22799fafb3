/**
 * The spam plugin's pure parts: message reading, HTML scan, tokenizer, header / envelope /
 * content / list / auth rules, DNS list query names, Bayes arithmetic, kv packing, and the
 * X-Spam headers. Fixtures under tests/fixtures/spam/.
 */
import assert from "node:assert/strict";
import { parseMail, urlHost } from "../plugins/builtin/spam/parse.ts";
import { scanHtml } from "../plugins/builtin/spam/html.ts";
import { tokenize } from "../plugins/builtin/spam/tokenize.ts";
import {
  absurdZone,
  envelopeRules,
  headerRules,
  orgDomain,
  parseDate,
} from "../plugins/builtin/spam/rules/headers.ts";
import { contentRules } from "../plugins/builtin/spam/rules/content.ts";
import { senderRules } from "../plugins/builtin/spam/rules/sender.ts";
import { subaddressRules } from "../plugins/builtin/spam/rules/subaddress.ts";
import { phraseKinds, phraseRules } from "../plugins/builtin/spam/rules/phrases.ts";
import { hasTrackingId } from "../plugins/builtin/spam/rules/subject.ts";
import { forgedRules } from "../plugins/builtin/spam/rules/forged.ts";
import { listed, listRules } from "../plugins/builtin/spam/rules/lists.ts";
import { authRules } from "../plugins/builtin/spam/rules/auth.ts";
import {
  blocklistQueries,
  isPrivateIp,
  reverseName,
  zoneRuleName,
} from "../plugins/builtin/spam/rules/dnsbl.ts";
import { bayesRule } from "../plugins/builtin/spam/rules/table.ts";
import { chi2Q, combine, DEFAULT_PARAMS, tokenProbability } from "../plugins/builtin/spam/bayes.ts";
import { pack, unpack, userScope } from "../plugins/builtin/spam/model.ts";
import { readSpamOptions } from "../plugins/builtin/spam/options.ts";
import { spamHeaders } from "../plugins/builtin/spam/status.ts";
import { LinearModel } from "../plugins/builtin/spam/linear.ts";
import { scanMessage, tokenHashes } from "../plugins/builtin/spam/score.ts";
import { memoryKv } from "../bench/spam_eval.ts";
import { spamFixture } from "./spam_helpers.ts";

const FIX = new URL("./fixtures/spam/", import.meta.url);
const fixture = (name: string) => Deno.readFileSync(new URL(name, FIX));
const names = (hits: { name: string }[]) => hits.map((h) => h.name).sort();
const NOW = Date.UTC(2025, 5, 3, 12);

Deno.test("spam: reading a message", async (t) => {
  await t.step("plain text, From, subject", () => {
    const m = parseMail(fixture("ham/01.eml"));
    assert.equal(m.fromAddress, "alice@colleagues.example");
    assert.equal(m.fromName, "Alice");
    assert.equal(m.subject, "Meeting notes from Tuesday");
    assert.equal(m.hasPlain, true);
    assert.equal(m.hasHtml, false);
    assert.match(m.texts[0].text, /planning meeting/);
  });
  await t.step("HTML: links with their text, images, hidden text", () => {
    const m = parseMail(fixture("rules/phish_html.eml"));
    assert.equal(m.hasHtml, true);
    assert.equal(m.hasPlain, false);
    assert.deepEqual(m.links, [{
      href: "http://203.0.113.9/login.php",
      text: "https://www.paypal.example/login",
    }]);
    assert.equal(m.images, 1);
    assert.equal(m.hiddenText, true);
    assert.ok(m.urls.includes("http://203.0.113.9/login.php"));
  });
  await t.step("attachments, base64 decoded text", () => {
    const m = parseMail(fixture("rules/exe_attachment.eml"));
    assert.deepEqual(m.attachments, [{
      filename: "invoice.pdf.exe",
      contentType: "application/octet-stream",
    }]);
    const b64 = new TextEncoder().encode(
      "Subject: x\r\nContent-Transfer-Encoding: base64\r\n\r\n" + btoa("hello base64 world") +
        "\r\n",
    );
    assert.equal(parseMail(b64).texts[0].text, "hello base64 world");
  });
  await t.step("an mbox From_ line and bare LF are fine; garbage never throws", () => {
    const m = parseMail(new TextEncoder().encode("From x@y Mon Jan 1\nSubject: hi\n\nbody\n"));
    assert.equal(m.subject, "hi");
    for (const junk of ["", "\r\n\r\n", "::::", "Content-Type: multipart/mixed\r\n\r\n--"]) {
      parseMail(new TextEncoder().encode(junk));
    }
  });
  await t.step("HTML scan: entities, style/script skipped, comments", () => {
    const s = scanHtml(
      "<style>p{}</style><p>A&amp;B &#65;&#x42;</p><!-- <a href=x>no</a> --><script>x()</script>",
    );
    assert.equal(s.text, "A&B AB");
    assert.equal(s.links.length, 0);
  });
  await t.step("url hosts", () => {
    assert.equal(urlHost("http://User@Www.Example.COM:80/x"), "www.example.com");
    assert.equal(urlHost("www.example.org/path"), "www.example.org");
    assert.equal(urlHost("mailto:foo"), null);
  });
});

Deno.test("spam: tokenizer", () => {
  const tokens = tokenize(parseMail(fixture("spam/01.eml")));
  for (const t of ["replica", "watches", "s:replica", "from:dom:deals0.example", "url:order"]) {
    assert.ok(tokens.has(t), `missing token ${t}`);
  }
  // Filters' own headers are never learned.
  const tagged = new TextEncoder().encode(
    "X-Spam-Status: Yes, score=9.9\r\nX-Spam-Score: 9.9\r\nSubject: hi\r\n\r\nbody text\r\n",
  );
  assert.ok(![...tokenize(parseMail(tagged))].some((t) => t.includes("x-spam")));
});

Deno.test("spam: header and envelope rules", async (t) => {
  await t.step("RFC 5322 dates", () => {
    assert.equal(parseDate("Tue, 03 Jun 2025 10:00:00 +0000"), Date.UTC(2025, 5, 3, 10));
    assert.equal(parseDate("3 Jun 25 10:00 -0100"), Date.UTC(2025, 5, 3, 11));
    assert.equal(parseDate("Tue, 3 Jun 2025 10:00:00 GMT (comment)"), Date.UTC(2025, 5, 3, 10));
    assert.ok(Number.isNaN(parseDate("sometime last week")));
    assert.ok(Number.isNaN(parseDate("Tue, 33 Jun 2025 10:00:00 +0000")));
  });
  await t.step("clean ham fires nothing", () => {
    assert.deepEqual(headerRules(parseMail(fixture("ham/02.eml")), {}, NOW), []);
  });
  await t.step("missing and malformed fields, capitals", () => {
    const hits = headerRules(parseMail(fixture("rules/bad_headers.eml")), {}, NOW);
    assert.deepEqual(names(hits), ["INVALID_DATE", "INVALID_MSGID", "SUBJ_ALL_CAPS"]);
    const bare = parseMail(new TextEncoder().encode("X-A: b\r\n\r\nbody\r\n"));
    assert.deepEqual(names(headerRules(bare, {}, NOW)), [
      "MISSING_DATE",
      "MISSING_FROM",
      "MISSING_MID",
      "MISSING_SUBJECT",
    ]);
    const future = parseMail(
      new TextEncoder().encode("Date: Tue, 03 Jun 2031 10:00:00 +0000\r\n\r\nx\r\n"),
    );
    assert.ok(names(headerRules(future, {}, NOW)).includes("DATE_IN_FUTURE"));
  });
  await t.step("bulk-tool tells: empty To, free mail with a foreign Message-ID, ...", () => {
    const m = parseMail(
      new TextEncoder().encode(
        "From: a@hotmail.com\r\nTo: \r\nSubject: hi\r\nDate: Tue, 03 Jun 2025 10:00:00 +0000\r\n" +
          "Message-ID: <123@bulk.example>\r\nReply-To: x@yahoo.com\r\nX-Priority: 1\r\n" +
          "X-MSMail-Priority: High\r\n\r\n" + "BUY NOW AND SAVE ".repeat(20) + "\r\n",
      ),
    );
    assert.deepEqual(names(headerRules(m, {}, NOW)), [
      "EMPTY_TO",
      "FREEMAIL_MSGID",
      "FREEMAIL_REPLYTO",
      "MSMAIL_NO_MIMEOLE",
      "PRIORITY_HIGH",
    ]);
    assert.deepEqual(names(contentRules(m, {})), ["BODY_MOSTLY_CAPS"]);
    const webmail = parseMail(
      new TextEncoder().encode(
        "From: a@hotmail.com\r\nTo: b@example.test\r\nSubject: hi\r\n" +
          "Date: Tue, 03 Jun 2025 10:00:00 +0000\r\nMessage-ID: <x1@phx.hotmail.com>\r\n\r\nhi\r\n",
      ),
    );
    assert.deepEqual(names(headerRules(webmail, {}, NOW)), []);
  });
  await t.step("real bulk-tool anomalies fire; the same shapes in ham do not", () => {
    // Cut from spam of the development corpus (addresses made example ones).
    const rule = (file: string) => names(headerRules(parseMail(fixture(file)), {}, NOW));
    assert.ok(rule("rules/tz_absurd.eml").includes("INVALID_DATE_TZ_ABSURD"));
    // Dated two decades after the newest Received, whatever the clock says now.
    assert.ok(rule("rules/future_date.eml").includes("DATE_IN_FUTURE"));
    assert.ok(rule("rules/bulk_rcpts.eml").includes("RCPTS_MANY_DOMAINS"));
    // A thread that keeps five people at five domains in copy is a reply: no rule.
    assert.deepEqual(rule("rules/thread_cc.eml"), []);
    assert.equal(absurdZone("Mon, 2 Sep 2002 02:14:51 -0700"), false);
    assert.equal(absurdZone("Mon, 2 Sep 2002 02:14:51 +1400 (LINT)"), false);
    assert.equal(absurdZone("Wed, 28 Aug 2002 23:33:45 -1900"), true);
    assert.equal(absurdZone("Wed, 28 Aug 2002 23:33:45 +0575"), true);
    // No ham fixture fires any of them.
    for (let i = 1; i <= 8; i++) {
      const hits = rule(`ham/0${i}.eml`);
      for (const r of ["INVALID_DATE_TZ_ABSURD", "DATE_IN_FUTURE", "RCPTS_MANY_DOMAINS"]) {
        assert.ok(!hits.includes(r), `ham/0${i}.eml fires ${r}`);
      }
    }
  });
  await t.step("free mail beyond the big American services", () => {
    // Cut from spam of the development corpus: replies go to mail.ru's bk.ru.
    const hits = names(headerRules(parseMail(fixture("rules/freemail_replyto.eml")), {}, NOW));
    assert.ok(hits.includes("FREEMAIL_REPLYTO"), hits.join());
    const from = (address: string, mid: string) =>
      names(headerRules(
        parseMail(
          new TextEncoder().encode(
            `From: ${address}\r\nTo: b@example.test\r\nSubject: hi\r\n` +
              `Date: Tue, 03 Jun 2025 10:00:00 +0000\r\nMessage-ID: <${mid}>\r\n\r\nhi\r\n`,
          ),
        ),
        {},
        NOW,
      ));
    assert.deepEqual(from("a@sina.com", "x1@bulk.example"), ["FREEMAIL_MSGID"]);
    assert.deepEqual(from("a@sina.com", "x1@sina.com"), []);
    // A Fastmail user sends through a mail program of their own: not free mail here.
    assert.deepEqual(from("a@fastmail.fm", "x1@laptop.example"), []);
    for (let i = 1; i <= 8; i++) {
      const ham = names(headerRules(parseMail(fixture(`ham/0${i}.eml`)), {}, NOW));
      assert.ok(!ham.some((r) => r.startsWith("FREEMAIL")), `ham/0${i}.eml: ${ham.join()}`);
    }
  });
  await t.step("display name spoofing another domain", () => {
    const hits = headerRules(parseMail(fixture("rules/phish_html.eml")), {}, NOW);
    assert.ok(names(hits).includes("FROM_DISPLAY_SPOOF"));
  });
  await t.step("forged HELO and From vs envelope", () => {
    const m = parseMail(fixture("ham/01.eml"));
    const env = (helo: string, sender = "alice@colleagues.example") =>
      names(
        envelopeRules(m, { helo, ip: "192.0.2.1", sender, recipients: ["u@example.test"] }, {}),
      );
    assert.deepEqual(env("mail.colleagues.example"), []);
    assert.deepEqual(env("[192.0.2.1]"), []);
    assert.deepEqual(env("[192.0.2.99]"), ["HELO_IP_MISMATCH"]);
    assert.deepEqual(env("192.0.2.1"), ["HELO_BARE_IP"]);
    assert.deepEqual(env("mypc"), ["HELO_NOT_FQDN"]);
    assert.deepEqual(env("mx.example.test"), ["HELO_FORGED_LOCAL"]);
    assert.deepEqual(env("mail.colleagues.example", "bounce@other.example"), [
      "FROM_ENVELOPE_DIFF",
    ]);
    assert.deepEqual(env("mail.colleagues.example", "list-bounces@lists.colleagues.example"), []);
    assert.equal(orgDomain("a.b.example.co.uk"), "example.co.uk");
  });
});

Deno.test("spam: content rules", () => {
  assert.deepEqual(names(contentRules(parseMail(fixture("ham/03.eml")), {})), []);
  assert.deepEqual(names(contentRules(parseMail(fixture("rules/phish_html.eml")), {})), [
    "HTML_HIDDEN_TEXT",
    "HTML_IMAGE_ONLY",
    "HTML_LINK_MISMATCH",
    "HTML_ONLY",
    "URI_NUMERIC_IP",
  ]);
  assert.deepEqual(names(contentRules(parseMail(fixture("rules/exe_attachment.eml")), {})), [
    "DOUBLE_EXTENSION",
    "SUSPICIOUS_ATTACHMENT",
  ]);
  // Scores can be overridden per rule.
  const [h] = contentRules(parseMail(fixture("rules/exe_attachment.eml")), {
    SUSPICIOUS_ATTACHMENT: 9,
  });
  assert.deepEqual(h, { name: "SUSPICIOUS_ATTACHMENT", score: 9 });
});

// A real spam of the development split (spam-1 00047, names and addresses replaced): a
// deadline ("Don't wait!") and shouting ("!!!"). Two kinds of phrase fire; one does not.
Deno.test("spam: SALES_PRESSURE fires on a real spam, not on ham or a newsletter", () => {
  const m = parseMail(fixture("rules/sales_pressure.eml"));
  assert.deepEqual(phraseKinds(m), ["deadline", "shouting"]);
  // Its subject is labelled "ADV:" too.
  assert.deepEqual(phraseRules(m, {}), [
    { name: "SALES_PRESSURE", score: 1.5 },
    { name: "SUBJ_ADV_LABEL", score: 2 },
  ]);
  assert.deepEqual(phraseRules(m, { SALES_PRESSURE: 3, SUBJ_ADV_LABEL: 0 })[0], {
    name: "SALES_PRESSURE",
    score: 3,
  });
  for (let i = 1; i <= 8; i++) {
    assert.deepEqual(phraseRules(parseMail(fixture(`ham/0${i}.eml`)), {}), [], `ham/0${i}`);
  }
  // Commercial ham: an honest newsletter may have one kind, never fires the rule.
  assert.deepEqual(phraseRules(parseMail(fixture("rules/newsletter.eml")), {}), []);
  // One kind alone is not enough.
  const one = new TextEncoder().encode("From: a@b.example\r\nSubject: hi\r\n\r\nOrder now.\r\n");
  assert.deepEqual(phraseKinds(parseMail(one)), ["act_now"]);
  assert.deepEqual(phraseRules(parseMail(one), {}), []);
  // The kinds and the shapes are tokens too (tokenizer 4), for Bayes and the linear model.
  const tokens = tokenize(m);
  for (const t of ["phrase:deadline", "phrase:shouting", "phrase:count:2", "excl:5+", "money:0"]) {
    assert.ok(tokens.has(t), t);
  }
  assert.ok(tokens.has("midshape:9.a9a9a9"), [...tokens].filter((t) => t.startsWith("mid")).join());
});

// A real advance-fee letter of the development split (spam-1 00346's kind, shortened,
// names replaced): the sum, the story and the greeting.
Deno.test("spam: ADVANCE_FEE fires on a real 419 letter, not on ham or a newsletter", () => {
  const m = parseMail(fixture("rules/advance_fee.eml"));
  assert.deepEqual(phraseKinds(m), ["fee_money", "fee_story", "fee_greeting"]);
  assert.deepEqual(names(phraseRules(m, {})), ["ADVANCE_FEE"]);
  for (let i = 1; i <= 8; i++) {
    assert.deepEqual(phraseRules(parseMail(fixture(`ham/0${i}.eml`)), {}), [], `ham/0${i}`);
  }
  assert.deepEqual(phraseRules(parseMail(fixture("rules/newsletter.eml")), {}), []);
  // One kind (a price in dollars in a business letter) is not enough.
  const one = new TextEncoder().encode(
    "From: a@b.example\r\nSubject: quote\r\n\r\nThe licence is US$ 400 a year.\r\n",
  );
  assert.deepEqual(phraseRules(parseMail(one), {}), []);
  assert.ok(tokenize(m).has("phrase:fee_story"));
});

Deno.test("spam: SUBJ_ADV_LABEL, the legal label of an unsolicited advertisement", () => {
  const subject = (s: string) =>
    names(phraseRules(
      parseMail(new TextEncoder().encode(`From: a@b.example\r\nSubject: ${s}\r\n\r\nhi\r\n`)),
      {},
    ));
  // Real subjects of development spam (spam-1 00047, 00325: "unsolicited advertisement").
  assert.deepEqual(subject("ADV: Interest rates slashed! Don't wait!"), ["SUBJ_ADV_LABEL"]);
  assert.deepEqual(
    subject("=?ISO-2022-JP?B?GyRCTCQ+NUJ6OS05cCIoPF5HLiEqPVAycSQkJE45LT5sGyhC?="),
    ["SUBJ_ADV_LABEL"],
  );
  for (const s of ["Advice on the release", "Re: adventures in parsing", "Adverts policy"]) {
    assert.deepEqual(subject(s), [], s);
  }
});

// A real spam of the development split (spam-1 00472, names replaced): Outlook's
// Message-ID shape, written by MIME-tools.
Deno.test("spam: FORGED_OUTLOOK_MID fires on a copied Outlook Message-ID, not on Outlook's", () => {
  const raw = fixture("rules/forged_outlook.eml");
  assert.deepEqual(forgedRules(parseMail(raw), {}), [{ name: "FORGED_OUTLOOK_MID", score: 2 }]);
  assert.ok(tokenize(parseMail(raw)).has("rule:FORGED_OUTLOOK_MID"));
  // The same message really from Outlook Express: quiet.
  const text = new TextDecoder().decode(raw);
  for (const mailer of ["Microsoft Outlook Express 6.00.2600.0000", "Microsoft Outlook IMO"]) {
    const real = new TextEncoder().encode(
      text.replace("MIME-tools 5.503 (Entity 5.501)", mailer),
    );
    assert.deepEqual(forgedRules(parseMail(real), {}), [], mailer);
  }
  for (let i = 1; i <= 8; i++) {
    assert.deepEqual(forgedRules(parseMail(fixture(`ham/0${i}.eml`)), {}), [], `ham/0${i}`);
  }
});

Deno.test("spam: SENDER_OWN_LINKS, ham evidence for senders never learned", () => {
  const rule = (raw: Uint8Array, sender?: string) => names(senderRules(parseMail(raw), sender, {}));
  // A newsletter (cut from hard ham of the development corpus): From, bounces and links at
  // one organisation.
  assert.deepEqual(rule(fixture("rules/newsletter.eml")), [
    "SENDER_OWN_LINKS",
    "SENDER_TRACKS_BOUNCES",
  ]);
  // In the server the envelope sender counts, not a Return-Path field.
  assert.deepEqual(rule(fixture("rules/newsletter.eml"), "bounce@elsewhere.example"), []);
  assert.deepEqual(rule(fixture("rules/newsletter.eml"), "b-1@mta.gnomenews.example"), [
    "SENDER_OWN_LINKS",
  ]);
  // Spam: a forged From, links elsewhere; free mail never counts.
  for (let i = 1; i <= 8; i++) assert.deepEqual(rule(fixture(`spam/0${i}.eml`)), [], `spam/0${i}`);
  const free = new TextEncoder().encode(
    "Return-Path: <x@yahoo.com>\r\nFrom: x@yahoo.com\r\nSubject: hi\r\n\r\n" +
      "see http://www.yahoo.com/x\r\n",
  );
  assert.deepEqual(rule(free), []);
  const [h] = senderRules(parseMail(fixture("rules/newsletter.eml")), undefined, {});
  assert.ok(h.score < 0);
});

Deno.test("spam: SENDER_TRACKS_BOUNCES, a bounce address made for each message", () => {
  const rule = (raw: Uint8Array, sender?: string) =>
    names(senderRules(parseMail(raw), sender, {})).filter((n) => n === "SENDER_TRACKS_BOUNCES");
  // A daily newsletter (cut from hard ham of the development corpus, 6 of the 14 hard-ham
  // false positives of "hard ham held out" before this rule): bounces to an address made
  // for the recipient at the sender's own organisation.
  assert.deepEqual(rule(fixture("rules/daily_comic.eml")), ["SENDER_TRACKS_BOUNCES"]);
  assert.deepEqual(rule(fixture("rules/newsletter.eml")), ["SENDER_TRACKS_BOUNCES"]);
  // Envelope sender elsewhere, the From address itself, or a short fixed one: no.
  assert.deepEqual(rule(fixture("rules/daily_comic.eml"), "b-2290044@bounces.other.example"), []);
  assert.deepEqual(
    rule(
      fixture("rules/daily_comic.eml"),
      "2.20290.44-t9bsgc0tYwDu.1@mail4.comicsyndicate.example",
    ),
    [],
  );
  assert.deepEqual(rule(fixture("rules/daily_comic.eml"), "newsletter@comicsyndicate.example"), []);
  // Spam and the ham of people writing: no.
  for (let i = 1; i <= 8; i++) {
    assert.deepEqual(rule(fixture(`spam/0${i}.eml`)), [], `spam/0${i}`);
    assert.deepEqual(rule(fixture(`ham/0${i}.eml`)), [], `ham/0${i}`);
  }
  const [h] = senderRules(parseMail(fixture("rules/daily_comic.eml")), undefined, {})
    .filter((x) => x.name === "SENDER_TRACKS_BOUNCES");
  assert.ok(h.score < 0);
  // With SENDER_OWN_LINKS, the daily newsletter as the models saw it never learned, after
  // autolearn (BAYES_95 5, LINEAR 2.8, HTML_HIDDEN_TEXT and HTML_LINK_MISMATCH 0.7), stays
  // below 5 (at −2 it was 5.0: junk).
  const both = senderRules(parseMail(fixture("rules/newsletter.eml")), undefined, {});
  assert.equal(both.length, 2);
  assert.ok(5 + 2.8 + 0.7 + both.reduce((n, x) => n + x.score, 0) < 5);
});

Deno.test("spam: RCPT_TAGGED_FOR_SENDER, an address the user made for this sender", () => {
  const rule = (raw: Uint8Array, recipients?: string[]) =>
    names(subaddressRules(parseMail(raw), recipients, {}));
  // Cut from hard ham of the development corpus (a ZDNet mailing to jm-zdnet@...): the tag
  // names the sender, in the To field (spam classify) or the envelope (the server).
  const tagged = fixture("rules/tagged_newsletter.eml");
  assert.deepEqual(rule(tagged), ["RCPT_TAGGED_FOR_SENDER"]);
  assert.deepEqual(rule(tagged, ["reader+techwire@example.net"]), ["RCPT_TAGGED_FOR_SENDER"]);
  // The envelope outranks the header: a tag for someone else, or no tag, is nothing.
  assert.deepEqual(rule(tagged, ["reader+shop@example.net"]), []);
  assert.deepEqual(rule(tagged, ["reader@example.net"]), []);
  // A From forged as the recipient's own tagged address says nothing.
  const self = new TextEncoder().encode(
    "From: reader-techwire@example.net\r\nTo: reader-techwire@example.net\r\n" +
      "Subject: hi\r\n\r\nbuy now\r\n",
  );
  assert.deepEqual(rule(self), []);
  // Spam and the ham of people writing: no.
  for (let i = 1; i <= 8; i++) {
    assert.deepEqual(rule(fixture(`spam/0${i}.eml`)), [], `spam/0${i}`);
    assert.deepEqual(rule(fixture(`ham/0${i}.eml`)), [], `ham/0${i}`);
  }
  assert.ok(subaddressRules(parseMail(tagged), undefined, {})[0].score < 0);
});

Deno.test("spam: allow and block lists, auth rules", () => {
  assert.equal(listed("a@Sub.Spam.example", ["@spam.example"]), true);
  assert.equal(listed("a@notspam.example", ["spam.example"]), false);
  assert.equal(listed("a@b.example", ["a@b.example"]), true);
  const global = { allow: ["friend@ok.example"], block: ["@spam.example"] };
  const base = { from: "x@spam.example", fromTrusted: true, userLists: [], recipients: 1 };
  assert.deepEqual(names(listRules(global, base, {})), ["BLOCKLIST_FROM"]);
  assert.deepEqual(
    names(listRules(global, { ...base, from: "friend@ok.example" }, {})),
    ["ALLOWLIST_FROM"],
  );
  // An allow entry needs an authenticated From (else anyone could claim it).
  assert.deepEqual(
    names(listRules(global, { ...base, from: "friend@ok.example", fromTrusted: false }, {})),
    [],
  );
  const user = { allow: [], block: ["@annoying.example"] };
  const u = { ...base, from: "n@annoying.example", userLists: [user] };
  assert.deepEqual(names(listRules({ allow: [], block: [] }, u, {})), ["USER_BLOCKLIST"]);
  // Two recipients, one list: a user's list does not decide for the other recipient.
  assert.deepEqual(names(listRules({ allow: [], block: [] }, { ...u, recipients: 2 }, {})), []);
  const s = {
    spf: "fail",
    dkim: "fail",
    dkimAligned: false,
    dmarc: "fail",
    policy: "none",
    arc: "",
  };
  assert.deepEqual(names(authRules(s, {})), ["DKIM_INVALID", "DMARC_FAIL", "SPF_FAIL"]);
  assert.deepEqual(
    names(authRules({ ...s, spf: "pass", dkim: "pass", dkimAligned: true, dmarc: "pass" }, {})),
    ["DKIM_VALID", "DKIM_VALID_AU", "SPF_PASS"],
  );
  assert.deepEqual(authRules(null, {}), []);
});

Deno.test("spam: DNS list query names (RFC 5782)", () => {
  assert.equal(reverseName("192.0.2.99", "bl.test"), "99.2.0.192.bl.test");
  assert.equal(
    reverseName("2001:db8::1", "bl.test"),
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test",
  );
  assert.equal(reverseName("not-an-ip", "bl.test"), null);
  assert.equal(isPrivateIp("127.0.0.1") && isPrivateIp("10.1.2.3") && isPrivateIp("::1"), true);
  assert.equal(isPrivateIp("192.0.2.1"), false);
  assert.equal(zoneRuleName("zen.spamhaus.org"), "ZEN_SPAMHAUS_ORG");
  const q = blocklistQueries(
    "192.0.2.7",
    ["http://www.bad.example/x", "http://a.bad.example/y", "http://198.51.100.4/"],
    [{ zone: "bl.test", score: 3 }],
    [{ zone: "uri.test", score: 4 }],
    { checkPrivateIps: false, scores: {} },
  );
  assert.deepEqual(q.map((x) => x.name), [
    "7.2.0.192.bl.test",
    "bad.example.uri.test",
    "4.100.51.198.uri.test",
  ]);
  assert.deepEqual(
    blocklistQueries("127.0.0.1", [], [{ zone: "bl.test", score: 3 }], [], {
      checkPrivateIps: false,
      scores: {},
    }),
    [],
  );
});

Deno.test("spam: Bayes arithmetic and kv packing", () => {
  assert.equal(tokenProbability(0, 0, 10, 10), DEFAULT_PARAMS.unknown);
  assert.ok(tokenProbability(10, 0, 10, 10) > 0.95);
  assert.ok(tokenProbability(0, 10, 10, 10) < 0.05);
  // A token seen once is pulled toward 0.5 (Robinson).
  assert.ok(tokenProbability(1, 0, 10, 10) < tokenProbability(10, 0, 10, 10));
  assert.ok(Math.abs(chi2Q(0, 4) - 1) < 1e-12);
  assert.ok(chi2Q(100, 4) < 1e-15);
  assert.equal(combine([]), 0.5);
  assert.ok(combine([0.99, 0.98, 0.97]) > 0.99);
  assert.ok(combine([0.01, 0.02, 0.03]) < 0.01);
  assert.equal(bayesRule(0.5), "BAYES_50");
  assert.equal(bayesRule(0.9999), "BAYES_999");
  assert.deepEqual(unpack(pack({ spam: 123456, ham: 654321 })), { spam: 123456, ham: 654321 });
  assert.deepEqual(unpack(null), { spam: 0, ham: 0 });
  assert.deepEqual(unpack("garbage"), { spam: 0, ham: 0 });
  assert.equal(userScope("Bob+lists@Example.TEST"), "u:bob@example.test");
  assert.equal(userScope(""), null);
});

Deno.test("spam: options and headers", () => {
  const o = readSpamOptions({
    dnsbl: ["Zen.Example.", { zone: "b.example", score: 1.5 }],
    user_lists: { "A@x.example": { allow: ["@y.example"] } },
    scores: { html_only: 2 },
  });
  assert.deepEqual(o.dnsbl, [{ zone: "zen.example", score: 3 }, { zone: "b.example", score: 1.5 }]);
  assert.deepEqual(o.userLists.get("a@x.example"), { allow: ["@y.example"], block: [] });
  assert.equal(o.scores.HTML_ONLY, 2);
  assert.throws(() => readSpamOptions({ junk_score: 9, reject_score: 5 }), /reject_score/);
  assert.throws(() => readSpamOptions({ dnsbl: [{ score: 1 }] }), /dnsbl\[0\]/);
  assert.deepEqual(spamHeaders(7.25, 5, [{ name: "B", score: 1 }, { name: "A", score: 2 }]), [
    ["X-Spam-Score", "7.3"],
    ["X-Spam-Status", "Yes, score=7.3 required=5.0 tests=A,B"],
    ["X-Spam-Report", "score=7.3 required=5.0 bayes=none linear=none | 2.0 A  | 1.0 B "],
  ]);
  // The report names the Bayes probability and explains each rule, highest score first.
  assert.equal(
    spamHeaders(
      6.2,
      5,
      [{ name: "HTML_ONLY", score: 0.7 }, { name: "BAYES_99", score: 5.5 }],
      0.99312,
    )[2][1],
    "score=6.2 required=5.0 bayes=0.9931 linear=none | 5.5 BAYES_99 Bayes spam probability 99 to 99.9% | " +
      "0.7 HTML_ONLY HTML without a plain-text alternative",
  );
  assert.deepEqual(spamHeaders(-1, 5, [])[1], [
    "X-Spam-Status",
    "No, score=-1.0 required=5.0 tests=none",
  ]);
});

Deno.test("LINEAR fires toward spam on a real spam and toward ham on a real ham it never saw", async () => {
  const kv = memoryKv();
  const linear = new LinearModel(kv);
  const examples = [];
  for (const [dir, spam] of [["spam", true], ["ham", false]] as const) {
    for (const n of ["01", "02", "03", "04", "05", "06"]) {
      const raw = Deno.readFileSync(spamFixture(`${dir}/${n}.eml`));
      examples.push({ hashes: tokenHashes(parseMail(raw)), spam });
    }
  }
  await linear.train(examples);
  const options = readSpamOptions({});
  for (const n of ["07", "08"]) {
    const spam = await scanMessage({ raw: Deno.readFileSync(spamFixture(`spam/${n}.eml`)) }, {
      options,
      model: null,
      linear,
    });
    const ham = await scanMessage({ raw: Deno.readFileSync(spamFixture(`ham/${n}.eml`)) }, {
      options,
      model: null,
      linear,
    });
    const score = (r: typeof spam) => r.hits.find((h) => h.name === "LINEAR")?.score ?? NaN;
    assert.ok(score(spam) > 0, `spam/${n}: LINEAR ${score(spam)} (p ${spam.linear})`);
    assert.ok(score(ham) < 0, `ham/${n}: LINEAR ${score(ham)} (p ${ham.linear})`);
  }
});

Deno.test("spam: SUBJ_TRACKING_ID, a number hidden behind spaces at the end of the subject", () => {
  // Subjects of development spam from unrelated senders, as they came.
  for (
    const s of [
      "Get the Child Support You Deserve                            11.180",
      "NORTON SYSTEMWORKS 2002 CLEARANCE SALE!        11058",
      "Guaranteed to lose 10-12 lbs in 30 days                          11.150\t",
    ]
  ) assert.ok(hasTrackingId(s), s);
  // Ham subjects with numbers at the end, and near misses.
  for (
    const s of [
      "CAUCE NEWS, Vol 6, No 2, June 2002",
      "RE: [zzzzteana] Digest Number 2453",
      "Oracle Technology Network TechBlast - July 2002",
      "Meeting moved to room   12", // three spaces: a typo, not a hiding place
      "          12345", // nothing to hide it behind
      "Lunch                 tomorrow", // no digit
      "",
    ]
  ) assert.ok(!hasTrackingId(s), s);
  const raw = (subject: string) =>
    new TextEncoder().encode(`Subject: ${subject}\r\nFrom: a@example.org\r\n\r\nx\r\n`);
  const fired = (subject: string) =>
    names(headerRules(parseMail(raw(subject)), {}, NOW)).includes("SUBJ_TRACKING_ID");
  assert.ok(fired("Ink Prices Got You Down?              11956"));
  assert.ok(!fired("Ink Prices Got You Down? 11956"));
  for (const n of ["01", "02", "03", "04", "05", "06", "07", "08"]) {
    const hits = names(headerRules(parseMail(fixture(`ham/${n}.eml`)), {}, NOW));
    assert.ok(!hits.includes("SUBJ_TRACKING_ID"), `ham/${n}`);
  }
  // Linear on a hostile subject: 200 000 spaces between a word and a number.
  const t0 = performance.now();
  assert.ok(hasTrackingId(`a${" ".repeat(200_000)}1`));
  assert.ok(!hasTrackingId(" ".repeat(200_000) + "1".repeat(200_000) + "x"));
  assert.ok(
    performance.now() - t0 < 3000,
    "a linear scan: a few ms; a backtracking one took seconds",
  );
});
