/** Unit tests of the pure parts of the outbound SMTP client: no network. */
import assert from "node:assert/strict";
import { dotStuff, failureFromReply, has8bit, outcomes } from "./client.ts";
import { formatReply, parseReply, parseReplyLine, reply, replyText } from "../replies.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("smtp client: pure helpers", async (t) => {
  await t.step("dot-stuffing and line ends (RFC 5321 §4.5.2)", () => {
    assert.equal(
      dec.decode(dotStuff(enc.encode("a\r\n.b\r\n..c\r\n"))),
      "a\r\n..b\r\n...c\r\n.\r\n",
    );
    assert.equal(dec.decode(dotStuff(enc.encode(".x\ny"))), "..x\r\ny\r\n.\r\n");
    assert.equal(dec.decode(dotStuff(enc.encode(""))), ".\r\n");
    assert.equal(has8bit(enc.encode("plain")), false);
    assert.equal(has8bit(enc.encode("grüße")), true);
  });

  await t.step("reply lines", () => {
    assert.deepEqual(parseReplyLine("250-PIPELINING"), [250, true, "PIPELINING"]);
    assert.deepEqual(parseReplyLine("250 OK"), [250, false, "OK"]);
    assert.deepEqual(parseReplyLine("354"), [354, false, ""]);
    assert.equal(parseReplyLine("hello"), null);
    const r = parseReply(550, ["5.1.1 No such user"]);
    assert.equal(r.enhanced, "5.1.1");
    assert.deepEqual(r.lines, ["No such user"]);
    assert.equal(replyText(r), "550 5.1.1 No such user");
    assert.equal(replyText(parseReply(250, ["mx.test", "PIPELINING"])), "250 mx.test PIPELINING");
  });

  await t.step("one model both ways: what the server formats, the client parses back", () => {
    const sent = reply(550, "5.1.1", "No such user", "try another");
    const lines = formatReply(sent).split("\r\n").filter((l) => l);
    const parsed = lines.map((l) => parseReplyLine(l)!);
    assert.deepEqual(parseReply(parsed[0][0], parsed.map((p) => p[2])), sent);
  });

  await t.step("outcomes: RCPT refusals, DATA verdict for the accepted", () => {
    const ok = parseReply(250, ["2.1.5 OK"]);
    const no = parseReply(550, ["5.1.1 No such user"]);
    const res = { rcpts: [{ address: "a@x", reply: ok }, { address: "b@x", reply: no }] };
    assert.deepEqual(outcomes({ ...res, data: parseReply(250, ["2.0.0 queued"]) }, "mx"), [
      { address: "a@x", failure: null },
      { address: "b@x", failure: failureFromReply(no, "mx") },
    ]);
    const temp = parseReply(451, ["4.3.0 later"]);
    assert.deepEqual(outcomes({ ...res, data: temp }, "mx")[0], {
      address: "a@x",
      failure: {
        permanent: false,
        status: "4.3.0",
        diagnostic: "451 4.3.0 later",
        remoteMta: "mx",
      },
    });
  });
});
