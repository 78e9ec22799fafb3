import assert from "node:assert/strict";
import { parseContentType } from "./params.ts";
import { parseDisposition, parseEncoding, parseLanguage } from "./params.ts";

Deno.test("Content-Type and parameters (RFC 2045 §5.1, RFC 2231)", async (t) => {
  await t.step("type, subtype lower-cased; values kept; comments skipped", () => {
    assert.deepEqual(parseContentType('Text/HTML (web) ; Charset="UTF-8" ; format=flowed (x)'), {
      type: "text",
      subtype: "html",
      params: [{ name: "charset", value: "UTF-8" }, { name: "format", value: "flowed" }],
    });
  });
  await t.step("invalid values are null (RFC 2045 §5.2 default applies)", () => {
    assert.equal(parseContentType(""), null);
    assert.equal(parseContentType("text"), null);
    assert.equal(parseContentType("text/"), null);
    assert.equal(parseContentType("/plain"), null);
  });
  await t.step("quoted-pairs, unterminated quotes, missing semicolons, junk", () => {
    const ct = parseContentType(
      'multipart/mixed; boundary="a\\"b\\\\c"; junk; x=1 y=2; name="open',
    );
    assert.deepEqual(ct?.params, [
      { name: "boundary", value: 'a"b\\c' },
      { name: "x", value: "1 y=2" },
      { name: "name", value: "open" },
    ]);
  });
  await t.step("unquoted value with spaces (common in the wild)", () => {
    assert.deepEqual(parseContentType("application/pdf; name=My File.pdf")?.params, [
      { name: "name", value: "My File.pdf" },
    ]);
  });
  await t.step("unquoted values against Dovecot (issue 13 item 18; see params.ts)", () => {
    // Kept whole where Dovecot cuts at the first space or tspecial: a file name, and a
    // boundary with "=" that the delimiter lines really use.
    assert.deepEqual(
      parseContentType("multipart/mixed; boundary=----=_NextPart_000_0012")?.params,
      [{ name: "boundary", value: "----=_NextPart_000_0012" }],
    );
    assert.deepEqual(parseContentType("application/pdf; name=report/2024 final.pdf")?.params, [
      { name: "name", value: "report/2024 final.pdf" },
    ]);
    // A charset is one token, as Dovecot reads it (fails without the fix: "utf-8 junk").
    assert.deepEqual(parseContentType("text/plain; charset=utf-8 junk; format=flowed")?.params, [
      { name: "charset", value: "utf-8" },
      { name: "format", value: "flowed" },
    ]);
  });
  await t.step("first occurrence of a parameter wins", () => {
    assert.deepEqual(parseContentType("text/plain; charset=a; CHARSET=b")?.params, [{
      name: "charset",
      value: "a",
    }]);
  });
  await t.step("RFC 2231 §3 continuations, in any order", () => {
    const ct = parseContentType(
      'message/external-body; access-type=URL; URL*1="cc/dd"; URL*0="ftp://";',
    );
    assert.deepEqual(ct?.params, [
      { name: "access-type", value: "URL" },
      { name: "url", value: "ftp://cc/dd" },
    ]);
  });
  await t.step("RFC 2231 §4 charset and language, mixed encoded and plain segments", () => {
    const ct = parseContentType(
      "application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"",
    );
    assert.deepEqual(ct?.params, [{
      name: "title",
      value: "This is even more ***fun*** isn't it!",
    }]);
  });
  await t.step("RFC 2231 non-ASCII keeps an extended wire form", () => {
    const ct = parseContentType("text/plain; name*=iso-8859-1'de'Gr%FC%DFe.txt");
    assert.deepEqual(ct?.params, [{
      name: "name",
      value: "Grüße.txt",
      extended: "iso-8859-1'de'Gr%FC%DFe.txt",
    }]);
  });
  await t.step("an extended value wins over a plain one; a gap ends continuations", () => {
    const ct = parseContentType("a/b; name=plain.txt; name*=utf-8''%C3%A9.txt; t*0=a; t*2=c");
    assert.deepEqual(ct?.params, [
      { name: "name", value: "é.txt", extended: "utf-8''%C3%A9.txt" },
      { name: "t", value: "a" },
    ]);
  });
  await t.step("unknown charset and bad escapes do not throw", () => {
    const ct = parseContentType("a/b; n*=x-unknown''%E2%82%AC%ZZ; m*0*=%; m*1=x");
    assert.equal(ct?.params[0].value, "€%ZZ");
    assert.equal(ct?.params[1].value, "%x");
  });
});

Deno.test("Content-Disposition, -Transfer-Encoding, -Language", () => {
  assert.deepEqual(parseDisposition('Attachment; filename="a b.txt"; size=3'), {
    type: "attachment",
    params: [{ name: "filename", value: "a b.txt" }, { name: "size", value: "3" }],
  });
  assert.equal(parseDisposition("; x=1"), null);
  assert.equal(parseEncoding(" Base64 "), "base64");
  assert.equal(parseEncoding("?invalid"), null);
  assert.equal(parseEncoding("7bit junk"), null);
  assert.equal(parseEncoding("8bit (comment)"), "8bit");
  assert.deepEqual(parseLanguage("en, fi (Finnish),se"), ["en", "fi", "se"]);
  assert.equal(parseLanguage(" , "), null);
});
