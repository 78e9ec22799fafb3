/**
 * The change bus's LISTEN connection drops (pg_terminate_backend of every node's listener)
 * and a delivery commits before it is back: an IMAP IDLE client (imapflow) on node b still
 * gets its EXISTS, because b reads what it missed from the change log once LISTEN is back
 * (storage/postgres/change_catchup.ts). The message's final "." goes out right after the
 * kill, so the delivery lands in the gap; b's log says how many rows it caught up, and the
 * round is repeated (up to 5 times) until one landed there. Ignored, with the reason
 * printed, when PostgreSQL is not installed.
 *
 * @module
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { skipPostgres } from "./lib/postgres.ts";
import { startCluster } from "./lib/cluster.ts";
import { waitFor } from "./lib/outbound_fixture.ts";
import { LISTEN_APP } from "../storage/postgres/change_bus.ts";
import { plainFlowClient } from "./imap_helpers.ts";

const USER = "gap@example.test";
const PASS = "gap-listen-pw";
const enc = new TextEncoder();
const dec = new TextDecoder();

/** One SMTP transaction whose final "." is sent after `beforeDot` resolves. */
async function deliverAfter(port: number, n: number, beforeDot: () => Promise<void>) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let buf = "";
  const reply = async () => {
    const chunk = new Uint8Array(4096);
    for (;;) {
      const m = /^(\d{3}) [^\n]*\n/m.exec(buf);
      if (m) {
        buf = buf.slice(m.index + m[0].length);
        return Number(m[1]);
      }
      const got = await conn.read(chunk);
      if (got === null) throw new Error("SMTP connection closed");
      buf += dec.decode(chunk.subarray(0, got));
    }
  };
  const say = async (line: string, want: number) => {
    await conn.write(enc.encode(line + "\r\n"));
    assert.equal(await reply(), want, line);
  };
  try {
    assert.equal(await reply(), 220);
    await say("EHLO gap.test", 250);
    await say("MAIL FROM:<x@remote.test>", 250);
    await say(`RCPT TO:<${USER}>`, 250);
    await say("DATA", 354);
    await conn.write(enc.encode(`Subject: gap ${n}\r\n\r\nin the gap\r\n`));
    await beforeDot();
    await say(".", 250);
    await say("QUIT", 221);
  } finally {
    conn.close();
  }
}

Deno.test({
  name: "cluster: a delivery while the LISTEN connection is down still reaches IDLE",
  ignore: skipPostgres(),
  async fn() {
    const cluster = await startCluster({
      names: ["a", "b"],
      listen: ["smtp", "imap"],
      users: [[USER, PASS]],
    });
    const [a, b] = cluster.nodes;
    const sql = postgres(cluster.pg.url, { max: 1, onnotice: () => {} });
    const flow = plainFlowClient(b.port("imap"), USER, PASS);
    try {
      await flow.connect();
      const lock = await flow.getMailboxLock("INBOX");
      try {
        let exists = flow.mailbox ? flow.mailbox.exists : 0;
        flow.on("exists", (v: { count: number }) => exists = Math.max(exists, v.count));
        // b's log lines once LISTEN is back: rows=N read from the change log.
        const relistens = () =>
          [...b.proc.log().matchAll(/caught up from the change log rows=(\d+)/g)].map((m) =>
            Number(m[1])
          );
        let inGap = false;
        for (let round = 1; round <= 5 && !inGap; round++) {
          const idling = flow.idle();
          idling.catch(() => {});
          await waitFor(() => Promise.resolve(flow.idling), "IDLE on b");
          const before = exists;
          const seen = relistens().length;
          await deliverAfter(a.port("smtp"), round, async () => {
            const killed = await sql`SELECT pg_terminate_backend(pid) AS ok
              FROM pg_stat_activity WHERE application_name = ${LISTEN_APP}`;
            assert.equal(killed.length, 2, "both nodes' listeners");
          });
          await waitFor(
            () => Promise.resolve(exists > before),
            `EXISTS on b after round ${round}`,
            20_000,
          );
          await waitFor(() => Promise.resolve(relistens().length > seen), "b listening again");
          // rows=0: the delivery committed after LISTEN was back (not in the gap).
          inGap = relistens().slice(seen).some((rows) => rows > 0);
        }
        assert.ok(inGap, "no round delivered inside the gap");
      } finally {
        lock.release();
      }
    } finally {
      await flow.logout().catch(() => {});
      await sql.end();
      await cluster.stop();
    }
  },
});
