import assert from "node:assert/strict";
import { parseFetchItems, setsSeen } from "./fetch_items.ts";
import { ArgReader } from "./parser.ts";
import { ParseError } from "./errors.ts";

const parse = (s: string) => {
  const r = new ArgReader({ lines: [new TextEncoder().encode(s)], literals: [] });
  const items = parseFetchItems(r);
  r.end();
  return items;
};

Deno.test("fetch items (RFC 9051 §6.4.5)", async (t) => {
  await t.step("macros", () => {
    assert.deepEqual(parse("FAST").map((i) => i.kind), ["FLAGS", "INTERNALDATE", "RFC822.SIZE"]);
    assert.deepEqual(parse("all").map((i) => i.kind), [
      "FLAGS",
      "INTERNALDATE",
      "RFC822.SIZE",
      "ENVELOPE",
    ]);
    assert.equal(parse("FULL").length, 5);
  });
  await t.step("sections, peek and partial", () => {
    const [a, b, c] = parse('(BODY[] BODY.PEEK[1.2.MIME]<10.20> body[header.fields (From "X-Y")])');
    assert.deepEqual(a, {
      kind: "SECTION",
      peek: false,
      spec: { part: [] },
      label: "",
      partial: null,
    });
    assert.deepEqual(b, {
      kind: "SECTION",
      peek: true,
      spec: { part: [1, 2], text: "MIME" },
      label: "1.2.MIME",
      partial: { offset: 10, length: 20 },
    });
    assert.equal(c.kind, "SECTION");
    if (c.kind === "SECTION") {
      assert.deepEqual(c.spec, { part: [], text: "HEADER.FIELDS", fields: ["From", "X-Y"] });
      assert.equal(c.label, "HEADER.FIELDS (From X-Y)");
    }
    assert.ok(setsSeen(a) && !setsSeen(b));
  });
  await t.step("BODY alone is the structure; RFC822 forms; BINARY", () => {
    assert.deepEqual(
      parse("(BODY RFC822.HEADER RFC822 BINARY.PEEK[1] BINARY.SIZE[2])").map((i) => i.kind),
      [
        "BODY",
        "RFC822.HEADER",
        "RFC822",
        "BINARY",
        "BINARY.SIZE",
      ],
    );
  });
  await t.step("errors", () => {
    for (
      const s of [
        "",
        "()",
        "(FLAGS",
        "BODY.PEEK",
        "BODY[0]",
        "BODY[MIME]",
        "BODY[1.]",
        "BODY[FOO]",
        "BODY[]<1>",
        "X",
      ]
    ) {
      assert.throws(() => parse(s), ParseError, s);
    }
  });
});
