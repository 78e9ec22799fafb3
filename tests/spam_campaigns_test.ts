/** The campaign grouping of the spam bench (bench/spam_campaigns.ts). */
import assert from "node:assert/strict";
import { campaignKeys, components, normalSubject } from "../bench/spam_campaigns.ts";

Deno.test("spam bench: subjects of one campaign normalise alike", () => {
  assert.equal(
    normalSubject("[ILUG] Guaranteed to lose 10-12 lbs in 30 days 10.206"),
    normalSubject("Guaranteed to lose 10-12 lbs in 30 days                 11.67"),
  );
  assert.equal(normalSubject("Re: Fwd: Your account 8812 [xk92a]"), "your account");
  assert.equal(
    normalSubject("Interest rates slashed! Don't wait!        ccaxc"),
    "interest rates slashed don t wait",
  );
  assert.equal(normalSubject("hi 42"), "");
});

Deno.test("spam bench: campaigns are components over shared keys", () => {
  const raw = (from: string, subject: string, body: string) =>
    new TextEncoder().encode(`From: ${from}\r\nSubject: ${subject}\r\n\r\n${body}\r\n`);
  const ham = new Set(["example.org"]);
  const keys = [
    campaignKeys(raw("a@shop.example", "Cheap pills now", "x"), ham),
    campaignKeys(
      raw("b@other.example", "Something else entirely", "http://www.shop.example/x"),
      ham,
    ),
    campaignKeys(raw("c@gmail.com", "Unrelated subject here", "http://example.org/"), ham),
    campaignKeys(raw("d@gmail.com", "Unrelated subject here 2", "no links"), ham),
    campaignKeys(raw("e@yahoo.com", "Nothing shared at all", "http://www.example.org/"), ham),
  ];
  // Free mail senders and domains the ham links to join nothing; the rest chain up.
  assert.deepEqual(keys[2], ["s:unrelated subject here"]);
  const groups = components(keys).map((g) => g.sort()).sort((a, b) => a[0] - b[0]);
  assert.deepEqual(groups, [[0, 1], [2, 3], [4]]);
});
