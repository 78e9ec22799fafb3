/**
 * `deno task bench jmap`: JMAP on a 100,000-message mailbox (issue 15, Performance).
 *
 * The mailbox is the one `bench imap` builds through the Store (`buildBig`: small messages,
 * a rare word in every 10,000th). The server runs as its own process with the http
 * listener; requests use a bearer token (a password would time the password hash, not
 * JMAP). Each figure is the median (and the slowest) of `--runs` requests, timed at the
 * client over loopback, after one warm-up request.
 *
 * Options: --messages N (100000), --runs N (20).
 *
 * @module
 */
import { join } from "node:path";
import { hashApiToken, newApiToken } from "../core/auth/api_token.ts";
import { openSqliteStore } from "../storage/sqlite/store.ts";
import { configToml, startServerProcess } from "../tests/lib/server_process.ts";
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

export async function benchJmap(args: string[]): Promise<void> {
  const total = Number(flag(args, "--messages") ?? 100_000);
  const runs = Number(flag(args, "--runs") ?? 20);
  const dir = await Deno.makeTempDir({ prefix: "bench-jmap-" });
  const configPath = join(dir, "denomail.toml");
  await Deno.writeTextFile(configPath, configToml(`${dir}/data`, ["http"]));
  const dbPath = join(dir, "data", "denomail.db");
  await Deno.mkdir(join(dir, "data"), { recursive: true });
  console.log(`jmap: building a ${total}-message mailbox through the store ...`);
  const buildSec = await buildBig(dbPath, total);
  const token = newApiToken();
  const store = await openSqliteStore(dbPath);
  const account = (await store.getAccount("big@example.test"))!;
  await store.createApiToken(account.id, "bench", hashApiToken(token));
  await store.close();
  const proc = await startServerProcess(configPath, ["http"], 120_000);
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
    console.log(`\nJMAP on a ${total}-message mailbox (built in ${buildSec.toFixed(0)} s):\n`);
    printMarkdownTable(["what", "median", "slowest", "target", "ok", "note"], rows);
  } finally {
    await proc.stop();
    await Deno.remove(dir, { recursive: true });
  }
}
