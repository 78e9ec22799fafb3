/**
 * Pure parts of the webmail (web/src), without a browser: the search box's operators as an
 * Email/query filter, Authentication-Results in words, and the forward-as-attachment draft.
 */
import assert from "node:assert/strict";
import { searchFilter } from "../web/src/search_filter.ts";
import { parseAuthResults } from "../web/src/verdict.tsx";
import { draftFrom } from "../web/src/draft.ts";
import type { EmailFull } from "../web/src/jmap.ts";

Deno.test("webmail search: words and operators become RFC 8621 conditions", () => {
  assert.deepEqual(searchFilter("invoice"), { text: "invoice" });
  assert.deepEqual(searchFilter("from:carol has:attachment"), {
    operator: "AND",
    conditions: [{ from: "carol" }, { hasAttachment: true }],
  });
  assert.deepEqual(searchFilter('subject:"two words" budget to:bob'), {
    operator: "AND",
    conditions: [{ subject: "two words" }, { to: "bob" }, { text: "budget" }],
  });
  // Unknown operators, and names of Object.prototype, are plain text.
  assert.deepEqual(searchFilter("constructor:x"), { text: "constructor:x" });
  assert.deepEqual(searchFilter("http://example.org/a"), { text: "http://example.org/a" });
});

Deno.test("webmail verdict: Authentication-Results (RFC 8601) in parts", () => {
  assert.deepEqual(
    parseAuthResults([
      "mx.example.test; spf=pass smtp.mailfrom=a@example.org; dkim=fail (bad sig) " +
      "header.d=example.org; dmarc=none",
    ]),
    [
      { method: "spf", result: "pass", detail: "a@example.org" },
      { method: "dkim", result: "fail", detail: "example.org" },
      { method: "dmarc", result: "none", detail: "" },
    ],
  );
  assert.deepEqual(parseAuthResults(["mx.example.test; none"]), []);
});

Deno.test("webmail draft: forward as attachment carries the message blob", () => {
  const email = {
    id: "e1",
    blobId: "b1",
    subject: 'Q3: "plan"/draft',
    from: [{ name: null, email: "a@example.org" }],
    receivedAt: "2026-01-01T00:00:00Z",
  } as unknown as EmailFull;
  const d = draftFrom("forwardAttached", email, "me@example.test");
  assert.equal(d.subject, 'Fwd: Q3: "plan"/draft');
  assert.equal(d.attachments.length, 1);
  assert.equal(d.attachments[0].blobId, "b1");
  assert.equal(d.attachments[0].type, "message/rfc822");
  assert.equal(d.attachments[0].name, "Q3_ _plan__draft.eml");
});
