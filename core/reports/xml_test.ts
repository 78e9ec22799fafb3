import assert from "node:assert/strict";
import { escapeXml, parseXml, textAt } from "./xml.ts";

Deno.test("bounded XML reader", () => {
  const doc = parseXml(
    `<?xml version="1.0"?><!-- c --><feedback xmlns:x="u"><x:a k="v">1 &amp; 2 &#65;&#x42;</x:a>` +
      `<b><c/><d><![CDATA[<raw> & ]]></d></b></feedback>`,
  );
  assert.equal(doc.name, "feedback");
  assert.equal(textAt(doc, "a"), "1 & 2 AB");
  assert.equal(textAt(doc, "b", "d"), "<raw> &");
  assert.equal(textAt(doc, "b", "missing"), "");
  assert.throws(() => parseXml(`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`), /DTD/);
  assert.throws(() => parseXml(`<a><b></a></b>`), /mismatched/);
  assert.throws(() => parseXml(`<a>`), /unclosed/);
  assert.throws(() => parseXml(`<a/><b/>`), /more than one root/);
  assert.throws(() => parseXml("<a>".repeat(20) + "</a>".repeat(20)), /deeply/);
  assert.throws(
    () => parseXml("<a>" + "<b/>".repeat(50) + "</a>", { maxDepth: 5, maxElements: 10 }),
    /too many/,
  );
  assert.equal(escapeXml(`<a&"'>`), "&lt;a&amp;&quot;&apos;&gt;");
});
