import assert from "node:assert/strict";
import { decodeText, metaCharset, sniffCharset } from "./charset.ts";
import { parseMail } from "./parse.ts";

const hex = (h: string) => Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)));
const ascii = (s: string) => new TextEncoder().encode(s);
const join = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
};

// One sentence per language, written for this test and encoded with Python's codecs.
const TEXTS: Record<string, string> = {
  gbk:
    "ced2c3c7b9abcbbeb5c4b2fac6b7cac7d6d0b9fad7eebac3b5c4a3acbbb6d3adc4fac0b4b5e7d7c9d1afa3acced2c3c7bbe1ceaac4facce1b9a9d3c5d6cab5c4b7fecef1a1a3",
  big5:
    "a7daadcca4bda571aabab2a3ab7eac4fa578c657b3cca66eaabaa141c577aaefb17aa8d3b971bfd4b8dfa141a7daadccb77cacb0b17ab4a3a8d1c075bde8aabaaa41b0c8a143",
  shift_jis:
    "82b182f182c982bf82cd81418da193fa82cd82c682c482e097c782a293568b4382c582b782cb814282a896e282a28d8782ed82b982cd82b182bf82e782dc82c582a8919782e882ad82be82b382a28142",
  "euc-kr":
    "bec8b3e7c7cfbcbcbfe42e20c0fac8f120c8b8bbe7c0c720bbf5b7cebfee20bbf3c7b0c0bb20bcd2b0b3c7d5b4cfb4d92e20b9aec0c7b4c220bec6b7a1b7ce20bfacb6f4c1d6bdc3b1e220b9d9b6f8b4cfb4d92e",
  "koi8-r":
    "fac4d2c1d7d3d4d7d5cad4c52c20cdd920d2c1c4d920d0d2c5c4cccfd6c9d4d820d7c1cd20cecfd7d9c520d5d3ccd5c7c920cec1dbc5ca20cbcfcdd0c1cec9c920d0cf20cec9dacbcfca20c3c5cec52e",
  "windows-1251":
    "c7e4f0e0e2f1f2e2f3e9f2e52c20ecfb20f0e0e4fb20eff0e5e4ebeee6e8f2fc20e2e0ec20edeee2fbe520f3f1ebf3e3e820ede0f8e5e920eaeeecefe0ede8e820efee20ede8e7eaeee920f6e5ede52e",
  "windows-874":
    "cac7d1cab4d5a4c3d1ba20e0c3d2c1d5cad4b9a4e9d2e3cbc1e8c1d2e1b9d0b9d320a1c3d8b3d2b5d4b4b5e8cde0c3d2e4b4e9b7d5e8b9d5e8",
};
const FRENCH =
  "5472e873206368e8726520616d69652c20766f696ce0206c65732064e97461696c73206465206c612072e9756e696f6e20e0205afc726963682c206e61ef7665206661e76f6e2e";

Deno.test("spam charset: 8-bit text that does not say its charset", async (t) => {
  await t.step("each language's charset is told by its frequent characters", () => {
    for (const [label, h] of Object.entries(TEXTS)) {
      assert.equal(sniffCharset(join(ascii("Hello, "), hex(h), ascii("\r\n"))), label, label);
    }
  });
  await t.step("Latin text with accents stays windows-1252; UTF-8 and ASCII are told", () => {
    assert.equal(sniffCharset(hex(FRENCH)), "windows-1252");
    assert.equal(sniffCharset(ascii("Très chère amie, voilà")), "utf-8");
    assert.equal(sniffCharset(ascii("plain text")), "us-ascii");
    assert.equal(sniffCharset(ascii("\x1b$B$3$s\x1b(B")), "iso-2022-jp");
    // Too few 8-bit characters to tell: left as they were read.
    assert.equal(sniffCharset(hex("cac7d1ca")), "windows-1252");
  });
  await t.step("a declared charset wins; else the multipart's, the HTML meta's, a guess", () => {
    const gb = hex(TEXTS.gbk);
    assert.equal(decodeText(gb, "big5", undefined, false).charset, "big5");
    assert.equal(decodeText(gb, undefined, "gb2312", false).charset, "gb2312");
    const html = join(
      ascii('<meta http-equiv=3D"Content-Type" content=3D"text/html; charset=3Dgb2312">'),
      gb,
    );
    assert.equal(decodeText(html, "us-ascii", undefined, true).charset, "gb2312");
    assert.equal(metaCharset(ascii("<meta charset=us-ascii>")), undefined);
    const guessed = decodeText(gb, undefined, undefined, false);
    assert.equal(guessed.charset, "gbk");
    assert.ok(guessed.text.startsWith("我们公司的产品"), guessed.text);
    // Unsaid but plain ASCII, or Latin: the label stays what the part said.
    assert.equal(decodeText(ascii("hi"), undefined, undefined, false).charset, "us-ascii");
    assert.equal(decodeText(hex(FRENCH), "us-ascii", undefined, false).charset, "us-ascii");
  });
  await t.step("a real case: a Chinese spam saying its charset only on the multipart", () => {
    // The shape of a spam of the development corpus (spam-1 00481): charset="GB2312" on
    // multipart/mixed, none on the text part, and a Subject of raw GB2312 bytes.
    const raw = join(
      ascii("From: sales@factory.example\r\nSubject: "),
      hex(TEXTS.gbk.slice(0, 40)),
      ascii(
        '\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"; charset="GB2312"\r\n' +
          "\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 7bit\r\n\r\n",
      ),
      hex(TEXTS.gbk),
      ascii("\r\n--b--\r\n"),
    );
    const m = parseMail(raw);
    assert.equal(m.texts[0].charset, "gb2312");
    assert.equal(m.texts[0].guessed, true);
    assert.ok(m.texts[0].text.includes("欢迎您来电咨询"), m.texts[0].text);
    assert.equal(m.subject, "我们公司的产品是中国");
  });
});
