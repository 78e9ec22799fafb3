import assert from "node:assert/strict";
import { authorFields } from "./author.ts";

const enc = new TextEncoder();
const fields = (text: string) =>
  authorFields(enc.encode(text)).map((f) => [f.field, f.addresses.join(","), f.unusable]);

Deno.test("authorFields: From and Sender, folded, several, strict about the unusable", () => {
  assert.deepEqual(
    fields(
      "Subject: x\r\nFrom: Alice <alice@example.test>\r\nSender:\r\n bob@example.test\r\n\r\nFrom: body@x.test\r\n",
    ),
    [["From", "alice@example.test", false], ["Sender", "bob@example.test", false]],
  );
  assert.deepEqual(fields('from: a@x.test, "Bob" <bob@y.test>\n\nbody'), [
    ["from", "a@x.test,bob@y.test", false],
  ]);
  assert.deepEqual(fields("From: a@x.test\r\nFROM: evil@y.test\r\n\r\n"), [
    ["From", "a@x.test", false],
    ["FROM", "evil@y.test", false],
  ]);
  assert.deepEqual(fields("From: undisclosed:;\r\n\r\n")[0].slice(2), [true]);
  assert.deepEqual(fields("From: Bob\r\n\r\n")[0].slice(2), [true]);
  assert.deepEqual(fields("From:\r\n\r\n")[0].slice(2), [true]);
  assert.deepEqual(fields("Subject: none\r\n\r\nFrom: a@b.test\r\n"), []);
  assert.deepEqual(fields("\r\nFrom: a@b.test\r\n"), [], "no header section");
  assert.deepEqual(fields('From: "alice@example.test" <bob@example.test>\r\n\r\n'), [
    ["From", "bob@example.test", false],
  ]);
});
