/**
 * JMAP VacationResponse and Sieve vacation are one state. bob@a.test (instance A, builtin:sieve)
 * turns his VacationResponse on over JMAP (HTTP); carol@b.test (instance B) writes three
 * times with smtplib; A's queue delivers exactly one reply to B (MX via a loopback DNS),
 * with the JMAP subject and text, from <>, Auto-Submitted. bob's own active script also
 * has a vacation: while the JMAP response is on, it is not sent too. Turned off over JMAP,
 * the script's own vacation answers the next message.
 */
import assert from "node:assert/strict";
import { python, startTestServer } from "./harness.ts";
import { startDnsServer } from "./lib/dns_server.ts";
import { inbox, startSender, waitFor } from "./lib/outbound_fixture.ts";
import { basic, CORE, JmapClient, type Json, MAIL } from "./lib/jmap_client.ts";
import { storeKv } from "../cli/commands/spam.ts";
import { activateScript, putScript } from "../plugins/builtin/sieve/scripts.ts";

const VACATION = "urn:ietf:params:jmap:vacationresponse";

const SEND = `
import smtplib, sys
port, first, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
for i in range(first, first + n):
    msg = "From: carol@b.test\\r\\nTo: bob@a.test\\r\\nSubject: question %d\\r\\nMessage-ID: <q%d@b.test>\\r\\n\\r\\nhi\\r\\n" % (i, i)
    s.sendmail("carol@b.test", ["bob@a.test"], msg.encode())
s.quit()
`;

Deno.test("sieve + JMAP: VacationResponse set over HTTP replies once per sender through the queue", async () => {
  const dns = await startDnsServer({
    "b.test": { MX: [{ preference: 10, exchange: "mx.b.test" }] },
    "mx.b.test": { A: ["127.0.0.1"] },
  });
  const b = await startTestServer({
    hostname: "mx.b.test",
    listeners: { smtp: "127.0.0.1:0" }, // port 0: a port picked earlier may be taken by then
  });
  const bPort = b.port("smtp");
  const a = await startSender(dns, bPort, {}, {
    listeners: { http: "127.0.0.1:0" },
    plugins: [{ name: "sieve", module: "builtin:sieve" }],
  });
  try {
    await b.addUser("carol@b.test", "carol-pw-123");
    const bob = await a.addUser("bob@a.test", "bob-pw-12345");
    const kv = storeKv(a.store, "sieve");
    await putScript(
      kv,
      "bob@a.test",
      "own",
      'require "vacation";\nvacation :subject "Script reply" "From my script.";\n',
    );
    await activateScript(kv, "bob@a.test", "own");
    const jmap = new JmapClient(
      `http://127.0.0.1:${a.port("http")}`,
      basic("bob@a.test", "bob-pw-12345"),
    );
    const api = (calls: Json[]) => jmap.api(calls, [CORE, MAIL, VACATION]);
    const accountId = `a${bob.id}`;
    const [[, set]] = await api([["VacationResponse/set", {
      accountId,
      update: {
        singleton: {
          isEnabled: true,
          fromDate: new Date(Date.now() - 3_600_000).toISOString(),
          toDate: new Date(Date.now() + 86_400_000).toISOString(),
          subject: "Away (JMAP)",
          textBody: "Back next week.",
        },
      },
    }, "0"]]);
    assert.deepEqual(set.updated, { singleton: null }, JSON.stringify(set));

    await python(SEND, [String(a.port("smtp")), "0", "3"]);
    const [reply] = await waitFor(async () => {
      const got = await inbox(b.store, "carol@b.test");
      return got.length > 0 ? got : null;
    }, "the vacation reply");
    await waitFor(async () => (await a.store.listQueue()).length === 0, "A's queue to drain");
    assert.equal((await inbox(b.store, "carol@b.test")).length, 1, "exactly once per period");
    assert.match(reply, /^Return-Path: <>\r\n/m);
    assert.match(reply, /^Subject: Away \(JMAP\)\r\n/m);
    assert.match(reply, /^Auto-Submitted: auto-replied/m);
    assert.match(reply, /\r\n\r\nBack next week\.\r\n$/);
    assert.equal((await inbox(a.store, "bob@a.test")).length, 3, "bob keeps every message");

    // Off over JMAP: the script's own vacation is the one that answers now.
    await api([[
      "VacationResponse/set",
      { accountId, update: { singleton: { isEnabled: false } } },
      "0",
    ]]);
    await python(SEND, [String(a.port("smtp")), "3", "1"]);
    const all = await waitFor(async () => {
      const got = await inbox(b.store, "carol@b.test");
      return got.length > 1 ? got : null;
    }, "the script's reply");
    await waitFor(async () => (await a.store.listQueue()).length === 0, "A's queue to drain");
    assert.equal(all.length, 2);
    assert.ok(all.some((m) => /^Subject: Script reply\r\n/m.test(m)), all.join("\n---\n"));
  } finally {
    await a.stop();
    await b.stop();
    await dns.close();
  }
});
