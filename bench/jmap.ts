/**
 * `deno task bench jmap`: JMAP on a 100,000-message mailbox (issue 15, Performance).
 *
 * The mailbox is the one `bench imap` builds through the Store (`buildBig`: small messages,
 * a rare word in every 10,000th). The server runs as its own process with the http
 * listener; requests use a bearer token (a password would time the password hash, not
 * JMAP). Each figure is the median (and the slowest) of `--runs` requests, timed at the
 * client over loopback, after one warm-up request.
 *
 * Then push (RFC 8620 §7.3): `--push` messages delivered over SMTP one at a time, each timed
 * from just before its final "." is written to the StateChange arriving on an open
 * EventSource stream (p50, p99); and the server's RSS (VmRSS, Linux) before and after
 * `--streams` more streams are opened.
 *
 * Options: --messages N (100000), --runs N (20), --push N (200), --streams N (1000).
 *
 * @module
 */
import { join } from "node:path";
import { hashApiToken, newApiToken } from "../core/auth/api_token.ts";
import { openSqliteStore } from "../storage/sqlite/store.ts";
import { configToml, startServerProcess } from "../tests/lib/server_process.ts";
import { EventReader, openBearerStreams, rssOf } from "../tests/lib/event_stream.ts";
import { sendMessage } from "../tests/lib/smtp_client.ts";
import { buildBig } from "./imap.ts";
import { flag } from "./smtp.ts";
import { printMarkdownTable } from "./table.ts";

const USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"];
/** The list view of a mail program: what Email/get asks for 50 rows at a time. */
const LIST_PROPERTIES = [
  "id",
  "threadId",
  "mailboxIds",
  "keywords",
  "from",
  "to",
  "subject",
  "receivedAt",
  "size",
  "preview",
  "hasAttachment",
];

// deno-lint-ignore no-explicit-any
type Json = any;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** The nearest-rank percentile `p` (0..100) of `xs`. */
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil(xs.length * p / 100) - 1)];
const enc = new TextEncoder();

export async function benchJmap(args: string[]): Promise<void> {
  const total = Number(flag(args, "--messages") ?? 100_000);
  const runs = Number(flag(args, "--runs") ?? 20);
  const pushes = Number(flag(args, "--push") ?? 200);
  const streams = Number(flag(args, "--streams") ?? 1000);
  const dir = await Deno.makeTempDir({ prefix: "bench-jmap-" });
  const configPath = join(dir, "denomail.toml");
  await Deno.writeTextFile(configPath, configToml(`${dir}/data`, ["http", "smtp"]));
  const dbPath = join(dir, "data", "denomail.db");
  await Deno.mkdir(join(dir, "data"), { recursive: true });
  console.log(`jmap: building a ${total}-message mailbox through the store ...`);
  const buildSec = await buildBig(dbPath, total);
  const token = newApiToken();
  const store = await openSqliteStore(dbPath);
  const account = (await store.getAccount("big@example.test"))!;
  await store.createApiToken(account.id, "bench", hashApiToken(token));
  await store.close();
  const proc = await startServerProcess(configPath, ["http", "smtp"], 120_000);
  const conns: Deno.Conn[] = [];
  let events: EventReader | null = null;
  try {
    const url = `http://127.0.0.1:${proc.ports.http}/jmap/api/`;
    const accountId = `a${account.id}`;
    const api = async (call: [string, Json]): Promise<Json> => {
      const res = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ using: USING, methodCalls: [[call[0], call[1], "0"]] }),
      });
      const json = await res.json();
      const [name, out] = json.methodResponses[0];
      if (name === "error") throw new Error(`${call[0]}: ${JSON.stringify(out)}`);
      return out;
    };
    const time = async (call: [string, Json], n = runs) => {
      await api(call);
      const ms: number[] = [];
      let last: Json = null;
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        last = await api(call);
        ms.push(performance.now() - t0);
      }
      return { ms, last };
    };
    const boxes = await api(["Mailbox/query", { accountId, filter: { name: "Big" } }]);
    const big = boxes.ids[0];
    const rows: string[][] = [];
    const row = (what: string, ms: number[], target: number | null, note = "") => {
      const m = median(ms);
      rows.push([
        what,
        `${m.toFixed(1)} ms`,
        `${Math.max(...ms).toFixed(1)} ms`,
        target === null ? "-" : `< ${target} ms`,
        target === null ? "-" : m < target ? "yes" : "NO",
        note,
      ]);
    };
    const sorted = await time(["Email/query", {
      accountId,
      filter: { inMailbox: big },
      sort: [{ property: "receivedAt", isAscending: false }],
      position: 0,
      limit: 50,
      calculateTotal: true,
    }]);
    row("Email/query inMailbox, receivedAt, limit 50", sorted.ms, 50, `total ${sorted.last.total}`);
    const deep = await time(["Email/query", {
      accountId,
      filter: { inMailbox: big },
      sort: [{ property: "receivedAt", isAscending: false }],
      position: Math.floor(total / 2),
      limit: 50,
    }]);
    row("  same at position N/2", deep.ms, 50);
    const text = await time(["Email/query", {
      accountId,
      filter: { text: "needle-in-haystack" },
      limit: 50,
      calculateTotal: true,
    }]);
    row("Email/query text filter", text.ms, 100, `${text.last.total} hits`);
    const common = await time(["Email/query", {
      accountId,
      filter: { inMailbox: big, text: "gamma" },
      limit: 50,
    }], 2);
    row("  a word in every message", common.ms, null, "order walked");
    const rare = await time(["Email/query", {
      accountId,
      filter: { text: "needle-in-haystack" },
      limit: 50,
    }]);
    row("  rare word, no total", rare.ms, 100, "walk gives up, index");
    const textIn = await time(["Email/query", {
      accountId,
      filter: { operator: "AND", conditions: [{ inMailbox: big }, { subject: "message 4242" }] },
      limit: 50,
    }]);
    row("Email/query inMailbox AND subject", textIn.ms, 100, `${textIn.last.ids.length} hits`);
    const ids = sorted.last.ids as string[];
    const get = await time(["Email/get", { accountId, ids, properties: LIST_PROPERTIES }]);
    row("Email/get 50 list properties", get.ms, 30, `${get.last.list.length} emails`);
    const threads = await time(["Thread/get", {
      accountId,
      ids: (get.last.list as Json[]).map((e) => e.threadId),
    }]);
    row("Thread/get 50", threads.ms, null);
    const collapsed = await time(["Email/query", {
      accountId,
      filter: { inMailbox: big },
      collapseThreads: true,
      limit: 50,
      calculateTotal: true,
    }]);
    row("Email/query inMailbox, collapseThreads", collapsed.ms, null, "with total");
    const whole = await time(["Email/query", { accountId, limit: 50 }]);
    row("Email/query no filter (whole account)", whole.ms, null, "sorted by SQLite");

    // Push: the stream is open (its first comment read) before the first delivery.
    const res = await fetch(
      `http://127.0.0.1:${proc.ports.http}/jmap/eventsource/?types=*&closeafter=no&ping=0`,
      { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } },
    );
    if (res.status !== 200) throw new Error(`eventsource: ${res.status}`);
    events = new EventReader(res);
    const pushMs: number[] = [];
    for (let i = 0; i < pushes; i++) {
      const delivered = nextDelivery(events, accountId); // listening before the "."
      delivered.catch(() => {}); // awaited below; a failed send must not leave it unhandled
      const sent = await sendMessage({
        port: proc.ports.smtp,
        from: "dave@remote.test",
        to: ["big@example.test"],
        message: enc.encode(
          `From: dave@remote.test\r\nTo: big@example.test\r\nSubject: push ${i}\r\n\r\nHi.\r\n`,
        ),
      });
      if (sent.code !== 250) throw new Error(`smtp: ${sent.text}`);
      pushMs.push(await delivered - sent.dataSentAt);
    }
    if (pushes > 0) {
      const p99 = percentile(pushMs, 99);
      rows.push([
        'push: SMTP final "." to StateChange, p50',
        `${percentile(pushMs, 50).toFixed(1)} ms`,
        `${Math.max(...pushMs).toFixed(1)} ms`,
        "p99 < 100 ms",
        p99 < 100 ? "yes" : "NO",
        `p99 ${p99.toFixed(1)} ms, ${pushes} deliveries`,
      ]);
    }
    if (streams > 0 && Deno.build.os === "linux") {
      const pid = proc.child.pid;
      await new Promise((r) => setTimeout(r, 200));
      const before = await rssOf(pid);
      conns.push(...await openBearerStreams(proc.ports.http, token, streams));
      await new Promise((r) => setTimeout(r, 200));
      const after = await rssOf(pid);
      const grown = (after - before) / 1e6;
      rows.push([
        `RSS with ${streams} open EventSource streams`,
        `+${grown.toFixed(1)} MB`,
        "-",
        `< ${streams / 10} MB`, // the issue: 100 MB for 1,000
        grown < streams / 10 ? "yes" : "NO",
        `${(before / 1e6).toFixed(0)} -> ${(after / 1e6).toFixed(0)} MB`,
      ]);
    }
    console.log(`\nJMAP on a ${total}-message mailbox (built in ${buildSec.toFixed(0)} s):\n`);
    printMarkdownTable(["what", "median", "slowest", "target", "ok", "note"], rows);
  } finally {
    for (const c of conns) c.close();
    await events?.cancel();
    await proc.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** When the next StateChange carrying an EmailDelivery for `accountId` arrived. */
async function nextDelivery(events: EventReader, accountId: string): Promise<number> {
  for (;;) {
    const ev = await events.next(10_000);
    if (!ev) throw new Error("the event stream ended");
    if (ev.event === "state" && ev.data.changed?.[accountId]?.EmailDelivery) return ev.at;
  }
}
