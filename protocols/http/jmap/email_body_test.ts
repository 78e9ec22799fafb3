import assert from "node:assert/strict";
import { parseMime } from "../../../mime/mod.ts";
import { bodyLists, bodyValue } from "./email_body.ts";

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
