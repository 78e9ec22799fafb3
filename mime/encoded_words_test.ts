import assert from "node:assert/strict";
import { decodeEncodedWords } from "./encoded_words.ts";

Deno.test("RFC 2047 encoded words", async (t) => {
  const cases: [string, string][] = [
    ["plain text", "plain text"],
    ["=?US-ASCII?Q?Keith_Moore?=", "Keith Moore"],
    ["=?ISO-8859-1?Q?Andr=E9?= Pirard", "André Pirard"],
    ["=?utf-8?b?SsO2cmc=?=", "Jörg"],
    // RFC 2047 §8 examples: white space between adjacent encoded words is dropped.
    ["(=?ISO-8859-1?Q?a?= b)", "(a b)"],
    ["(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)"],
    ["(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)"],
    ["(=?ISO-8859-1?Q?a_b?=)", "(a b)"],
    ["(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)"],
    // A UTF-8 character split across two words survives.
    ["=?UTF-8?B?w6k=?==?UTF-8?B?w6k=?=", "éé"],
    ["=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9?=", "é"],
    // RFC 2231 §5 language suffix.
    ["=?US-ASCII*EN?Q?Keith_Moore?=", "Keith Moore"],
    // Unknown charset falls back; invalid stays readable.
    ["=?x-unknown?Q?caf=C3=A9?=", "café"],
    ["=?x-unknown?Q?caf=E9?=", "café"],
    ["=?utf-8?Q?bad=ZZ?=", "bad=ZZ"],
    ["=?utf-8?B?!!!?=", ""],
    ["=?utf-8?X?abc?=", "=?utf-8?X?abc?="],
    ["=?broken", "=?broken"],
    ["a =?utf-8?q?x?= b", "a x b"],
    ["=?windows-1251?B?z/Do4uXy?=", "Привет"],
    ["=?iso-2022-jp?B?GyRCJDMkcyRLJEEkTxsoQg==?=", "こんにちは"],
    // Two ISO-2022-JP words (a Subject of the development corpus's hard ham): each ends in
    // ASCII, so they are decoded one by one, with no U+FFFD where they meet.
    [
      "=?iso-2022-jp?B?GyRCJDMkcxsoQg==?=\r\n\t=?iso-2022-jp?B?GyRCJEskQSRPGyhC?=",
      "こんにちは",
    ],
  ];
  for (const [input, want] of cases) {
    await t.step(JSON.stringify(input), () => assert.equal(decodeEncodedWords(input), want));
  }
});

Deno.test("encoded words: at most 16 charsets looked up per value", () => {
  // Found by msgfuzz: 20,000 made-up charset labels in one Subject each cost a TextDecoder
  // constructor that throws; now the 17th distinct label on decodes as an unknown one.
  const real = globalThis.TextDecoder;
  let built = 0;
  globalThis.TextDecoder = class extends real {
    constructor(...args: ConstructorParameters<typeof TextDecoder>) {
      built++;
      super(...args);
    }
  };
  let out: string;
  try {
    out = decodeEncodedWords(
      Array.from({ length: 2_000 }, (_, i) => `=?x-fuzz-${i}?q?a=C3=A9?=`).join(" x "),
    );
  } finally {
    globalThis.TextDecoder = real;
  }
  assert.ok(built <= 16, `${built} decoders built`);
  // Unknown charsets still read as UTF-8 when valid.
  assert.equal(out, Array(2_000).fill("a\u00e9").join(" x "));
  // Known charsets still read as themselves.
  assert.equal(decodeEncodedWords("=?iso-8859-1?q?=E9?= =?koi8-r?q?=E1?="), "\u00e9\u0410");
});
