/**
 * Three `serve` processes (nodes a, b, c) on one PostgreSQL database, with real clients:
 * swaks delivers into node a; imapflow IDLE-ing on node b hears EXISTS, a JMAP EventSource on
 * node c hears the StateChange; a flag set over IMAP on b is a keyword in JMAP on c; POP3's
 * maildrop lock taken on c refuses poplib on a ([IN-USE]) until c's session QUITs.
 * Ignored, with the reason printed, when PostgreSQL is not installed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { python, run } from "./harness.ts";
import { skipPostgres } from "./lib/postgres.ts";
import { startCluster } from "./lib/cluster.ts";
import { basic, JmapClient } from "./lib/jmap_client.ts";
import { EventReader } from "./lib/event_stream.ts";
import { Pop3Wire } from "./pop3_wire.ts";
import { plainFlowClient } from "./imap_helpers.ts";

const USER = "alice@example.test";
const PASS = "alice-cluster-pw";

const POPLIB_PY = String.raw`
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=20)
p.user(sys.argv[2])
try:
    p.pass_(sys.argv[3])
except poplib.error_proto as e:
    print("REFUSED", e.args[0].decode())
    sys.exit(0)
count, size = p.stat()
print("OK", count)
for line in p.retr(1)[1]:
    if line.startswith(b"Subject:"):
        print(line.decode())
p.quit()
`;

const imap = (port: number) => plainFlowClient(port, USER, PASS);

Deno.test({
  name: "cluster: three nodes on one database — swaks on a, IDLE on b, JMAP push on c, POP3 lock",
  ignore: skipPostgres(),
  async fn() {
    const cluster = await startCluster({
      names: ["a", "b", "c"],
      listen: ["smtp", "imap", "pop3", "http"],
      users: [[USER, PASS]],
    });
    const [a, b, c] = cluster.nodes;
    const flow = imap(b.port("imap"));
    let events: EventReader | null = null;
    try {
      await flow.connect();
      const lock = await flow.getMailboxLock("INBOX");
      try {
        assert.equal(flow.mailbox && flow.mailbox.exists, 0);
        const jmapC = new JmapClient(`http://127.0.0.1:${c.port("http")}`, basic(USER, PASS));
        const res = await jmapC.fetch("/jmap/eventsource/?types=*&closeafter=no&ping=0");
        assert.equal(res.status, 200);
        events = new EventReader(res);

        const idling = flow.idle();
        for (let i = 0; i < 400 && !flow.idling; i++) await new Promise((r) => setTimeout(r, 5));
        assert.ok(flow.idling, "imapflow entered IDLE on node b");
        const exists = new Promise<{ count: number }>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error("no EXISTS on node b")), 10_000);
          flow.once("exists", (v: { count: number }) => {
            clearTimeout(t);
            resolve(v);
          });
        });
        const sent = await run("swaks", [
          "--server",
          `127.0.0.1:${a.port("smtp")}`,
          "--from",
          "sender@remote.test",
          "--to",
          USER,
          "--header",
          "Subject: through node a",
          "--body",
          "one message, three nodes",
        ]);
        assert.match(sent.stdout, /<- {2}250 /);
        assert.equal((await exists).count, 1, "node b's IDLE saw the delivery through node a");
        // The EventSource on node c: a StateChange naming Email for the account.
        let sawEmail = false;
        for (let i = 0; i < 10 && !sawEmail; i++) {
          const ev = await events.next(10_000);
          if (ev?.event !== "state") continue;
          const changed = Object.values(ev.data.changed ?? {}) as Array<Record<string, string>>;
          sawEmail = changed.some((t) => "Email" in t);
        }
        assert.ok(sawEmail, "JMAP push on node c");
        idling.catch(() => {}); // the next command ends IDLE (imapflow sends DONE first)

        // IMAP on b sets \Seen; JMAP on c reads $seen.
        await flow.messageFlagsAdd("1", ["\\Seen"], { uid: true });
        const [[, q]] = await jmapC.api([[
          "Email/query",
          { accountId: await accountId(jmapC) },
          "q",
        ]]);
        assert.equal(q.ids.length, 1);
        const [[, got]] = await jmapC.api([[
          "Email/get",
          { accountId: q.accountId, ids: q.ids, properties: ["keywords", "subject"] },
          "g",
        ]]);
        assert.deepEqual(got.list[0].keywords, { $seen: true });
        assert.equal(got.list[0].subject, "through node a");
      } finally {
        lock.release();
      }

      // POP3: c holds the maildrop; poplib on a is refused [IN-USE] until c QUITs.
      const { client: holder } = await Pop3Wire.connect(c.port("pop3"));
      try {
        assert.match(await holder.login(USER, PASS), /^\+OK/);
        const refused = await python(POPLIB_PY, [String(a.port("pop3")), USER, PASS]);
        assert.match(refused.stdout, /^REFUSED -ERR \[IN-USE\]/);
        assert.match(await holder.quit(), /^\+OK/);
      } finally {
        holder.close();
      }
      const ok = await python(POPLIB_PY, [String(a.port("pop3")), USER, PASS]);
      assert.match(ok.stdout, /^OK 1\nSubject: through node a\n/);
    } finally {
      await events?.cancel();
      await flow.logout().catch(() => {});
      await cluster.stop();
    }
  },
});

async function accountId(jmap: JmapClient): Promise<string> {
  const s = await jmap.session();
  return s.primaryAccounts["urn:ietf:params:jmap:mail"];
}
