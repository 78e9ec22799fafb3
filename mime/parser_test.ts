import assert from "node:assert/strict";
import {
  bodyStructure,
  envelope,
  headerValue,
  headerValues,
  MAX_DEPTH,
  MAX_FIELDS,
  parseMime,
  sectionBytes,
} from "./mod.ts";
import { assertInvariants } from "../tests/lib/mime_testing.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = new TextDecoder();
const parse = (s: string) => {
  const bytes = enc(s);
  const root = parseMime(bytes);
  assertInvariants(root, bytes.length);
  return { bytes, root };
};

Deno.test("parseMime: headers and offsets", async (t) => {
  await t.step("empty input", () => {
    const { root } = parse("");
    assert.deepEqual([root.headerStart, root.headerEnd, root.bodyStart, root.bodyEnd], [
      0,
      0,
      0,
      0,
    ]);
    assert.equal(root.type, "text");
    assert.equal(root.subtype, "plain");
    assert.equal(root.headerSeparator, 0);
    assert.equal(
      bodyStructure(root, true),
      '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)',
    );
    assert.equal(envelope(root), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
  });
  await t.step("blank line only: empty header, empty body", () => {
    const { root } = parse("\r\n");
    assert.equal(root.headerEnd, 2);
    assert.equal(root.headerSeparator, 2);
    assert.equal(root.headers.length, 0);
    assert.equal(root.bodyEnd, 2);
  });
  await t.step("folded field: value unfolded, raw and line exact", () => {
    const { root } = parse("Subject: a\r\n\tb\r\n  c\r\nX:y\r\n\r\nbody");
    const f = root.headers[0];
    assert.equal(f.name, "Subject");
    assert.equal(f.value, "a\tb  c");
    assert.equal(dec.decode(f.raw), " a\r\n\tb\r\n  c");
    assert.equal(dec.decode(f.line), "Subject: a\r\n\tb\r\n  c\r\n");
    assert.equal(headerValue(root, "x"), "y");
    assert.equal(headerValue(root, "absent"), null);
    assert.equal(root.bodyStart, 28);
    assert.equal(
      dec.decode(enc("Subject: a\r\n\tb\r\n  c\r\nX:y\r\n\r\nbody").subarray(root.bodyStart)),
      "body",
    );
  });
  await t.step("obsolete white space before the colon; duplicate fields kept in order", () => {
    const { root } = parse("Received : one\r\nreceived: two\r\n\r\n");
    assert.equal(root.headers[0].name, "Received");
    assert.deepEqual(headerValues(root, "RECEIVED"), ["one", "two"]);
  });
  await t.step("LF-only lines", () => {
    const { root } = parse("A: 1\nB: 2\n\nx\ny\n");
    assert.equal(root.headerSeparator, 1);
    assert.equal(root.bodyStart, 11);
    assert.equal(root.lines, 2);
  });
  await t.step("a non-field line ends the header without a blank line", () => {
    const { root, bytes } = parse("A: 1\r\nThis is body text\r\nB: 2\r\n");
    assert.equal(root.headers.length, 1);
    assert.equal(root.headerSeparator, 0);
    assert.equal(dec.decode(bytes.subarray(root.bodyStart)), "This is body text\r\nB: 2\r\n");
  });
  await t.step("an mbox From_ line first is part of the header, not the body", () => {
    const { root } = parse(
      "From alice@example.org Mon Jan  1 00:00:00 2024\r\nSubject: s\r\n\r\nb",
    );
    assert.equal(headerValue(root, "subject"), "s");
    assert.equal(root.headers.length, 1);
  });
  await t.step("continuation before any field is kept in the header", () => {
    const { root } = parse("  stray\r\nA: 1\r\n\r\n");
    assert.equal(root.headers.length, 1);
    assert.equal(root.headerEnd, 17);
  });
  await t.step("bare CR is not a line end; NUL and 8-bit survive", () => {
    const bytes = new Uint8Array([...enc("A: x\ry\r\n\r\n"), 0, 0xff, 0xfe, 10]);
    const root = parseMime(bytes);
    assertInvariants(root, bytes.length);
    assert.equal(root.headers[0].value, "x\ry".replace("\r", ""));
    assert.equal(root.lines, 1);
  });
  await t.step("Content-* first occurrence wins; invalid Content-Type means text/plain", () => {
    let { root } = parse("Content-Type: image/png\r\nContent-Type: text/html\r\n\r\n");
    assert.equal(`${root.type}/${root.subtype}`, "image/png");
    ({ root } = parse("Content-Type: garbage\r\n\r\n"));
    assert.equal(`${root.type}/${root.subtype}`, "text/plain");
    assert.equal(root.hasContentType, false);
    ({ root } = parse(
      "Content-Type: TEXT/HTML; CHARSET=UTF-8\r\nContent-Transfer-Encoding: BASE64\r\n\r\n",
    ));
    assert.equal(
      bodyStructure(root, false),
      '("text" "html" ("charset" "UTF-8") NIL NIL "base64" 0 0)',
    );
  });
  await t.step("huge header counts are capped but fully skipped", () => {
    const s = "X-A: 1\r\n".repeat(MAX_FIELDS + 500) + "Subject: late\r\n\r\nbody";
    const { root, bytes } = parse(s);
    assert.equal(root.headers.length, MAX_FIELDS);
    assert.equal(dec.decode(bytes.subarray(root.bodyStart)), "body");
  });
});

Deno.test("parseMime: multipart edge cases", async (t) => {
  await t.step("boundary that prefixes another boundary binds correctly", () => {
    const s = 'Content-Type: multipart/mixed; boundary="abc"\r\n\r\n--abc\r\n' +
      'Content-Type: multipart/alternative; boundary="abcdef"\r\n\r\n--abcdef\r\n\r\none\r\n--abcdef\r\n\r\ntwo\r\n' +
      "--abcdef--\r\n--abc\r\n\r\nthree\r\n--abc--\r\n";
    const { root, bytes } = parse(s);
    assert.equal(root.children.length, 2);
    assert.equal(root.children[0].children.length, 2);
    assert.equal(dec.decode(sectionBytes(bytes, root, { part: [1, 2] })!), "two");
    assert.equal(dec.decode(sectionBytes(bytes, root, { part: [2] })!), "three");
  });
  await t.step("delimiter with junk after it still delimits (Dovecot leniency)", () => {
    const { root, bytes } = parse(
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b junk\r\n\r\nx\r\n--b-- bye\r\n",
    );
    assert.equal(root.children.length, 1);
    assert.equal(dec.decode(sectionBytes(bytes, root, { part: [1] })!), "x");
  });
  await t.step("missing inner close: the outer boundary ends both", () => {
    const s = "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n" +
      "Content-Type: multipart/mixed; boundary=i\r\n\r\n--i\r\n\r\ninner\r\n--o\r\n\r\nsecond\r\n--o--\r\n";
    const { root, bytes } = parse(s);
    assert.equal(root.children.length, 2);
    assert.equal(dec.decode(sectionBytes(bytes, root, { part: [1, 1] })!), "inner");
    assert.equal(dec.decode(sectionBytes(bytes, root, { part: [2] })!), "second");
  });
  await t.step("message/rfc822 that ends at the enclosing boundary", () => {
    const s =
      "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: message/rfc822\r\n\r\n" +
      "Subject: in\r\n\r\nhello\r\n--o--\r\n";
    const { root, bytes } = parse(s);
    const m = root.children[0];
    assert.equal(m.kind, "message");
    assert.equal(headerValue(m.embedded!, "subject"), "in");
    assert.equal(dec.decode(sectionBytes(bytes, root, { part: [1, 1] })!), "hello");
    assert.equal(m.lines, 2);
  });
  await t.step("empty message/rfc822 body", () => {
    const { root } = parse("Content-Type: message/rfc822\r\n\r\n");
    assert.equal(root.kind, "message");
    assert.match(
      bodyStructure(root, true),
      /^\("message" "rfc822" NIL NIL NIL "7bit" 0 \(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL\) /,
    );
  });
  await t.step("nesting deeper than the cap becomes a leaf", () => {
    let s = "";
    for (let i = 0; i < MAX_DEPTH + 20; i++) {
      s += `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`;
    }
    s += "\r\ndeep\r\n";
    const { root } = parse(s);
    let p = root, depth = 0;
    while (p.children.length > 0) {
      p = p.children[0];
      depth++;
    }
    assert.equal(depth, MAX_DEPTH);
    assert.equal(p.kind, "leaf");
    assert.match(bodyStructure(root, true), /"application" "octet-stream"/);
    assert.match(bodyStructure(root, false), /"application" "octet-stream"/);
  });
  await t.step("deep message/rfc822 chain is capped", () => {
    const s = "Content-Type: message/rfc822\r\n\r\n".repeat(500) + "end";
    const { root } = parse(s);
    let p = root, depth = 0;
    while (p.embedded) {
      p = p.embedded;
      depth++;
    }
    assert.equal(depth, MAX_DEPTH);
    bodyStructure(root, true);
  });
});

function manyParts(n: number): string {
  let s = 'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="=_sep"\r\n\r\n';
  for (let i = 0; i < n; i++) {
    s += `--=_sep\r\nContent-Type: text/plain; name="p${i}.txt"\r\n\r\nline ${i}\r\n`;
  }
  return s + "--=_sep--\r\n";
}

Deno.test("parseMime: performance", async (t) => {
  await t.step("10 KB message parses in well under a millisecond", () => {
    let s = "From: Alice <a@example.com>\r\nTo: b@example.com\r\nSubject: perf\r\n" +
      'Content-Type: multipart/alternative; boundary="x"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\n';
    while (s.length < 5000) {
      s += "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do.\r\n";
    }
    s += "--x\r\nContent-Type: text/html\r\n\r\n";
    while (s.length < 10_000) {
      s += "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\r\n";
    }
    s += "--x--\r\n";
    const bytes = enc(s);
    for (let i = 0; i < 50; i++) parseMime(bytes); // warm up
    const n = 500;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) bodyStructure(parseMime(bytes), true);
    const avg = (performance.now() - t0) / n;
    assert.ok(avg < 1, `average ${avg.toFixed(3)} ms per 10 KB parse + BODYSTRUCTURE`);
  });
  await t.step("1,000 and 8,000 parts: linear, not quadratic", () => {
    const small = enc(manyParts(1000)), big = enc(manyParts(8000));
    // Best of five interleaved runs of each size, so a busy machine (other test files run in
    // parallel on 2 cores) slows both sizes alike and does not decide the outcome.
    const once = (b: Uint8Array, parts: number) => {
      const t0 = performance.now();
      const root = parseMime(b);
      bodyStructure(root, true);
      const ms = performance.now() - t0;
      assert.equal(root.children.length, parts);
      return ms;
    };
    let a = Infinity, b = Infinity;
    for (let i = 0; i < 5; i++) {
      a = Math.min(a, once(small, 1000));
      b = Math.min(b, once(big, 8000));
    }
    assert.ok(a < 500, `1,000 parts took ${a.toFixed(1)} ms`);
    // 8x the parts: linear is ~8x the time, quadratic would be ~64x.
    assert.ok(
      // The floor absorbs a major GC of the big parse on a loaded CI box (102 ms seen once).
      b < Math.max(30 * a, 300),
      `8,000 parts took ${b.toFixed(1)} ms vs ${a.toFixed(1)} ms for 1,000`,
    );
  });
  await t.step("pathological input stays bounded", () => {
    // Many lines that start like a boundary, under the nesting cap.
    let s = "";
    for (let i = 0; i < MAX_DEPTH; i++) {
      s += `Content-Type: multipart/mixed; boundary=${"a".repeat(60)}${i}\r\n\r\n--${
        "a".repeat(60)
      }${i}\r\n`;
    }
    s += `--${"a".repeat(59)}\r\n`.repeat(20_000);
    const t0 = performance.now();
    const { root } = parse(s);
    assert.ok(performance.now() - t0 < 2000);
    assert.ok(root.children.length === 1);
  });
});
