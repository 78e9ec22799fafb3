/**
 * A real client reads our output: ENVELOPE and BODYSTRUCTURE of the fixtures, framed as
 * an untagged FETCH response, go through imapflow's own wire stream (literal handling),
 * response parser and FETCH decoding — the code that runs when imapflow talks to a server.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { ImapStream } from "imapflow/lib/handler/imap-stream.js";
import { parser } from "imapflow/lib/handler/imap-handler.js";
import { parseBodystructure, parseEnvelope } from "imapflow/lib/tools.js";
import { bodyStructure, envelope, parseMime } from "./mod.ts";

const dir = new URL("../tests/fixtures/mime/", import.meta.url);

// deno-lint-ignore no-explicit-any
type Any = any;

/** Runs one response line (with literals) through imapflow and returns the FETCH attributes. */
async function clientParse(wire: Uint8Array): Promise<Any[]> {
  const stream = new ImapStream({
    logger: { debug() {}, info() {}, warn() {}, error() {}, trace() {} },
  });
  const item: Any = await new Promise((resolve, reject) => {
    stream.on("data", (x: Any) => {
      resolve(x);
      x.next?.();
    });
    stream.on("error", reject);
    stream.write(Buffer.from(wire));
  });
  stream.destroy();
  const parsed: Any = await parser(item.payload, { literals: item.literals });
  // imapflow reads "* 1 FETCH (...)" as command "1" with attributes [FETCH, (...)].
  assert.equal(parsed.attributes[0].value, "FETCH");
  return parsed.attributes[1];
}

function fetchResponse(file: string, utf8 = false): Uint8Array {
  const root = parseMime(Deno.readFileSync(new URL(file, dir)));
  const env = envelope(root, { utf8 });
  const bs = bodyStructure(root, true, { utf8 });
  return new TextEncoder().encode(`* 1 FETCH (ENVELOPE ${env} BODYSTRUCTURE ${bs})\r\n`);
}

async function both(file: string, utf8 = false): Promise<{ env: Any; bs: Any }> {
  const attrs = await clientParse(fetchResponse(file, utf8));
  const get = (name: string) => attrs[attrs.findIndex((a: Any) => a.value === name) + 1];
  return { env: parseEnvelope(get("ENVELOPE")), bs: parseBodystructure(get("BODYSTRUCTURE")) };
}

Deno.test("imapflow parses our ENVELOPE and BODYSTRUCTURE", async (t) => {
  await t.step("groups, comments as names, defaults for sender/reply-to", async () => {
    const { env, bs } = await both("simple.eml");
    assert.equal(env.subject, "Hello world");
    assert.equal(env.messageId, "<msg1@example.org>");
    assert.deepEqual(env.from, [{ name: "Alice Example", address: "alice@example.org" }]);
    assert.deepEqual(env.sender, env.from);
    assert.deepEqual(env.to.map((a: Any) => a.address), ["bob@example.com", "carol@example.net"]);
    assert.equal(env.to[1].name, "Carol C.");
    assert.equal(bs.type, "text/plain");
    assert.equal(bs.size, 23);
    assert.equal(bs.lineCount, 2);
  });
  await t.step("encoded words decoded by the client", async () => {
    const { env } = await both("encoded_words.eml");
    assert.equal(env.subject, "Grüße aus Köln");
    assert.equal(env.from[0].name, "Jörg Müller");
    assert.equal(env.to[0].name, "André");
  });
  await t.step("8-bit header text as literals, and quoted under UTF8=ACCEPT", async () => {
    for (const utf8 of [false, true]) {
      const { env } = await both("eight_bit_headers.eml", utf8);
      assert.equal(env.subject, 'Grüße "quoted"');
      assert.equal(env.from[0].name, "élise");
      assert.equal(env.to[0].name, "Müller");
    }
  });
  await t.step("nested multiparts, attachment, disposition and RFC 2231 names", async () => {
    const { bs } = await both("nested.eml");
    assert.equal(bs.type, "multipart/mixed");
    assert.equal(bs.childNodes[0].type, "multipart/alternative");
    assert.deepEqual(bs.childNodes[0].childNodes.map((c: Any) => [c.part, c.type]), [
      ["1.1", "text/plain"],
      ["1.2", "text/html"],
    ]);
    const pdf = bs.childNodes[1];
    assert.equal(pdf.part, "2");
    assert.equal(pdf.disposition, "attachment");
    assert.equal(pdf.dispositionParameters.filename, "report.pdf");
    assert.equal(pdf.encoding, "base64");
    const r = (await both("rfc2231.eml")).bs.childNodes[0];
    assert.equal(r.parameters.name, "very long file name.txt");
    assert.equal(r.dispositionParameters.filename, "€ rates.txt");
  });
  await t.step("message/rfc822 with its envelope and body", async () => {
    const { bs } = await both("rfc822.eml");
    const m = bs.childNodes[1];
    assert.equal(m.type, "message/rfc822");
    assert.equal(m.envelope.subject, "Inner");
    assert.equal(m.envelope.from[0].address, "inner@example.com");
    assert.equal(m.childNodes[0].type, "multipart/alternative");
    assert.deepEqual(m.childNodes[0].childNodes.map((c: Any) => c.part), ["2.1", "2.2"]);
    assert.equal(m.lineCount, 15);
  });
  await t.step("every fixture parses", async () => {
    for (const e of Deno.readDirSync(dir)) {
      if (!e.name.endsWith(".eml")) continue;
      const { bs } = await both(e.name);
      assert.ok(bs.type, e.name);
    }
  });
});
