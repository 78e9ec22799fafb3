import assert from "node:assert/strict";
import { highlight, previewSnippet } from "./snippet.ts";

Deno.test("highlight: marks every occurrence, escapes everything else, null without a match", () => {
  assert.equal(highlight("Noon at noon", ["noon"]), "<mark>Noon</mark> at <mark>noon</mark>");
  assert.equal(highlight("<b>a&b</b>", ["a&b"]), "&lt;b&gt;<mark>a&amp;b</mark>&lt;/b&gt;");
  assert.equal(highlight("abcd", ["abc", "bcd"]), "<mark>abc</mark><mark>d</mark>");
  assert.equal(highlight("nothing", ["x"]), null);
  assert.equal(highlight("x", [""]), null);
});

Deno.test("previewSnippet: an excerpt around the first match, at most 255 characters", () => {
  const body = "a ".repeat(500) + "needle " + "b ".repeat(500);
  const p = previewSnippet(body, ["needle"])!;
  assert.ok(p.includes("<mark>needle</mark>"));
  assert.ok(p.replace(/<\/?mark>/g, "").length <= 255);
  assert.equal(previewSnippet(body, ["absent"]), null);
});
