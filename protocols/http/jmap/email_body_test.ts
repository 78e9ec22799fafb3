import assert from "node:assert/strict";
import { parseMime } from "../../../mime/mod.ts";
import { bodyLists, bodyStructure, bodyValue, partList } from "./email_body.ts";
import type { MimePart } from "../../../mime/mod.ts";

const enc = new TextEncoder();
const ids = (l: { path: number[] }[]) => l.map((x) => x.path.join("."));

Deno.test("email body: RFC 8621 §4.1.4 parseStructure", async (t) => {
  await t.step("a single text part is text and html body", () => {
    const r = bodyLists(parseMime(enc.encode("Subject: x\r\n\r\nhello\r\n")));
    assert.deepEqual([ids(r.text), ids(r.html), ids(r.attachments)], [["1"], ["1"], []]);
  });

  await t.step("multipart/alternative splits text and html; related keeps images out", () => {
    const msg = [
      'Content-Type: multipart/alternative; boundary="a"',
      "",
      "--a",
      "Content-Type: text/plain",
      "",
      "plain",
      "--a",
      'Content-Type: multipart/related; boundary="r"',
      "",
      "--r",
      "Content-Type: text/html",
      "",
      "<p>html</p>",
      "--r",
      "Content-Type: image/png",
      "Content-ID: <img1>",
      "",
      "PNG",
      "--r--",
      "--a--",
      "",
    ].join("\r\n");
    const r = bodyLists(parseMime(enc.encode(msg)));
    assert.deepEqual(ids(r.text), ["1"]);
    assert.deepEqual(ids(r.html), ["2.1"]);
    assert.deepEqual(ids(r.attachments), ["2.2"]);
  });

  await t.step("html only in an alternative is the text body too", () => {
    const msg = [
      'Content-Type: multipart/alternative; boundary="a"',
      "",
      "--a",
      "Content-Type: text/html",
      "",
      "<b>x</b>",
      "--a--",
      "",
    ].join("\r\n");
    const r = bodyLists(parseMime(enc.encode(msg)));
    assert.deepEqual([ids(r.text), ids(r.html)], [["1"], ["1"]]);
  });

  await t.step("bodyValue decodes the charset and never splits a character", () => {
    const bytes = enc.encode(
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n" +
        "\r\n=C3=A9t=C3=A9\r\n",
    );
    const root = parseMime(bytes);
    assert.deepEqual(bodyValue(bytes, root, 0), {
      value: "été\r\n",
      isEncodingProblem: false,
      isTruncated: false,
    });
    assert.deepEqual(bodyValue(bytes, root, 4), {
      value: "ét",
      isEncodingProblem: false,
      isTruncated: true,
    });
  });
});

/** `depth` multiparts each holding the next, a text part innermost. */
function nested(depth: number): Uint8Array {
  let m = "Content-Type: text/plain\r\n\r\nx\r\n";
  for (let d = 0; d < depth; d++) {
    m = `Content-Type: multipart/mixed; boundary="b${d}"\r\n\r\n--b${d}\r\n${m}--b${d}--\r\n`;
  }
  return enc.encode(m);
}

/** The tree with every part a proxy that counts reads of `children`. */
function counted(p: MimePart, reads: { n: number }): MimePart {
  const children = p.children.map((c) => counted(c, reads));
  return new Proxy(p, {
    get: (t, k) => k === "children" ? (reads.n++, children) : Reflect.get(t, k),
  });
}

Deno.test("email body: subParts asked for (or a name twice) costs one visit per part", () => {
  // Found by mutational fuzzing: "subParts" in bodyProperties was computed twice per level,
  // 2^depth visits; a 40-deep message held the server's thread for days.
  const bytes = nested(16);
  for (
    const props of [["partId", "subParts"], ["type", "subParts", "subParts", "subParts"], [
      "type",
      "type",
    ]]
  ) {
    const reads = { n: 0 };
    const root = counted(parseMime(bytes), reads);
    const s = bodyStructure(bytes, () => "p1", root, props);
    let depth = 0;
    for (let p = s; p.subParts; p = (p.subParts as typeof s[])[0]) depth++;
    assert.equal(depth, 16, props.join());
    assert.ok(reads.n <= 2 * 17, `${props.join()}: ${reads.n} reads of children for 17 parts`);
    reads.n = 0;
    partList(bytes, () => "p1", bodyLists(root).text, props);
    assert.ok(reads.n <= 2 * 17, `${props.join()}: partList read children ${reads.n} times`);
  }
});
