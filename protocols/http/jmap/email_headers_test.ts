import assert from "node:assert/strict";
import { parseMime } from "../../../mime/mod.ts";
import { headerProperty, parseHeaderProperty } from "./email_headers.ts";

const msg = parseMime(
  new TextEncoder().encode(
    [
      "Subject:  =?UTF-8?Q?caf=C3=A9?=  time ",
      "X-Tag: one",
      "X-Tag: two",
      'To: a@x.test, Friends: b@x.test, "B" <c@x.test>;, d@x.test',
      "List-Unsubscribe: <mailto:u@x.test>, <https://x.test/u>",
      "Date: Thu, 3 Dec 2026 08:00:00 -0500 (EST)",
      "",
      "body",
    ].join("\r\n"),
  ),
);
const get = (prop: string) => headerProperty(msg, parseHeaderProperty(prop)!);

Deno.test("header properties: RFC 8621 §4.1.2 forms and §4.1.3 names", () => {
  assert.equal(get("header:Subject"), "  =?UTF-8?Q?caf=C3=A9?=  time ");
  assert.equal(get("header:subject:asText"), "café  time");
  assert.equal(get("header:X-Tag"), " two", "the last field without :all");
  assert.deepEqual(get("header:X-Tag:all"), [" one", " two"]);
  assert.deepEqual(get("header:X-Missing:all"), []);
  assert.equal(get("header:X-Missing"), null);
  assert.deepEqual(get("header:To:asGroupedAddresses"), [
    { name: null, addresses: [{ name: null, email: "a@x.test" }] },
    {
      name: "Friends",
      addresses: [{ name: null, email: "b@x.test" }, { name: "B", email: "c@x.test" }],
    },
    { name: null, addresses: [{ name: null, email: "d@x.test" }] },
  ]);
  assert.equal((get("header:To:asAddresses") as unknown[]).length, 4);
  assert.deepEqual(get("header:List-Unsubscribe:asURLs"), [
    "mailto:u@x.test",
    "https://x.test/u",
  ]);
  assert.equal(get("header:Date:asDate"), "2026-12-03T13:00:00Z");
  // Forms a known field does not allow, and malformed names, are refused.
  for (
    const bad of [
      "header:Subject:asAddresses",
      "header:From:asDate",
      "header:a b",
      "header:X:asNope",
    ]
  ) {
    assert.equal(parseHeaderProperty(bad), null, bad);
  }
});
