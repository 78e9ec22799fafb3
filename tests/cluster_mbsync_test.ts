/**
 * mbsync (isync) syncing one Maildir through alternating nodes of one PostgreSQL database:
 * the same sync state is used against node a, then node b, then a again. Were UIDVALIDITY or
 * UIDs to differ between nodes, mbsync would refetch or duplicate everything; here each run
 * only moves what changed (deliveries through either node, a flag and a message added
 * locally). Skipped when mbsync or PostgreSQL is missing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { run } from "./harness.ts";
import { skipPostgres } from "./lib/postgres.ts";
import { type Node, startCluster } from "./lib/cluster.ts";
import { openPostgresStore } from "../storage/postgres/store.ts";

const USER = "sync@example.test";
const PASS = "sync-nodes-pw";

const hasMbsync = await new Deno.Command("mbsync", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
}).output().then((o) => o.success, () => false);

async function maildirFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const sub of ["cur", "new"]) {
    for await (const e of Deno.readDir(join(dir, sub))) out.push(`${sub}/${e.name}`);
  }
  return out.sort();
}

function account(name: string, node: Node): string[] {
  return [
    `IMAPAccount ${name}`,
    "Host 127.0.0.1",
    `Port ${node.port("imap")}`,
    `User ${USER}`,
    `Pass ${PASS}`,
    "SSLType STARTTLS",
    `CertificateFile ${node.dir}/data/tls/cert.pem`,
    "",
    `IMAPStore remote-${name}`,
    `Account ${name}`,
    "",
    `Channel via-${name}`,
    `Far :remote-${name}:INBOX`,
    "Near :local:INBOX",
    "Create Both",
    "Expunge Both",
    "SyncState *",
    "Sync All",
    "",
  ];
}

async function swaks(node: Node, subject: string): Promise<void> {
  const r = await run("swaks", [
    "--server",
    `127.0.0.1:${node.port("smtp")}`,
    "--from",
    "x@remote.test",
    "--to",
    USER,
    "--header",
    `Subject: ${subject}`,
    "--body",
    `body of ${subject}`,
  ]);
  assert.match(r.stdout, /<- {2}250 /);
}

Deno.test({
  name: "cluster: mbsync through alternating nodes keeps one consistent sync state",
  ignore: skipPostgres() || !hasMbsync,
  async fn() {
    const cluster = await startCluster({
      names: ["a", "b"],
      listen: ["smtp", "imap"],
      users: [[USER, PASS]],
    });
    const [a, b] = cluster.nodes;
    const dir = await Deno.makeTempDir({ prefix: "denomail-mbsync-nodes-" });
    const mail = join(dir, "mail");
    const rc = join(dir, "mbsyncrc");
    try {
      await Deno.mkdir(mail);
      await Deno.writeTextFile(
        rc,
        [
          "MaildirStore local",
          `Path ${mail}/`,
          `Inbox ${mail}/INBOX`,
          "",
          ...account("a", a),
          ...account("b", b),
        ].join("\n"),
      );
      const mbsync = (via: string) =>
        run("mbsync", ["-c", rc, `via-${via}`], { env: { HOME: dir } });
      const inbox = join(mail, "INBOX");
      const uids = async () =>
        (await maildirFiles(inbox)).map((f) => Number(/,U=(\d+)/.exec(f)?.[1])).sort((x, y) =>
          x - y
        );

      await swaks(a, "one");
      await swaks(b, "two");
      await swaks(a, "three");
      await mbsync("a");
      assert.deepEqual(await uids(), [1, 2, 3]);

      // Through node b: a local flag and a local message go up; a delivery through a comes down.
      const files = await maildirFiles(inbox);
      const first = files.find((f) => f.includes(",U=1:"))!;
      await Deno.rename(
        join(inbox, first),
        join(inbox, "cur", first.slice(4).replace(/:2,.*$/, ":2,FS")),
      );
      await Deno.writeFile(
        join(inbox, "new", "1700000000.local1.host"),
        new TextEncoder().encode("From: me@example.test\r\nSubject: offline\r\n\r\nhi\r\n"),
      );
      await swaks(a, "four");
      await mbsync("b");
      assert.deepEqual(await uids(), [1, 2, 3, 4, 5], "nothing refetched, nothing doubled");

      // Back through node a: a delivery through b comes down; the uploads are on the server.
      await swaks(b, "five");
      await mbsync("a");
      assert.deepEqual(await uids(), [1, 2, 3, 4, 5, 6]);
      const store = await openPostgresStore(cluster.pg.url, { maxConnections: 1 });
      try {
        const acc = (await store.getAccount(USER))!;
        const box = (await store.getMailbox(acc.id, "INBOX"))!;
        const msgs = await store.listMessages(box.id);
        assert.equal(msgs.length, 6);
        assert.deepEqual(msgs[0].flags.sort(), ["\\Flagged", "\\Seen"]);
      } finally {
        await store.close();
      }
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
