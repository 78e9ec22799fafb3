/**
 * `verify [--repair]` on PostgreSQL: the checks of storage/sqlite/verify.ts on this schema —
 * every message and queue entry has its blob, every blob's bytes match its SHA-256 (`digest`)
 * and size, reference counts, mailbox counters, the seen/deleted columns against the flags,
 * UIDNEXT above every UID, HIGHESTMODSEQ at least every row's, every message's blob in the
 * search text (`blob_text`) or waiting for the indexer (`search_pending`).
 *
 * All checks read one REPEATABLE READ READ ONLY snapshot (safe beside a live server); blobs
 * are read through a cursor, a few at a time (bounded memory). Repairs run in one
 * transaction that recomputes each value then, and never delete mail.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
import type { VerifyOptions, VerifyResult } from "../sqlite/verify.ts";
import { connect, type Db, type Row } from "./rows.ts";
import { searchableText } from "./text.ts";
import { concat, hex, sha256 } from "../blobs.ts";
import type { Run } from "./blob_store.ts";
import { messageBytes } from "./reads/blobs.ts";

interface Broken {
  counters: Set<number>;
  uidNext: Set<number>;
  flagColumns: Array<[number, number]>;
  refs: Set<number>;
  unindexed: Set<number>;
}

/** Checks the database at `url`; repairs afterwards when asked. */
export async function verifyPostgres(url: string, o: VerifyOptions = {}): Promise<VerifyResult> {
  const db = connect(url, { max: 1 });
  try {
    const { broken, result } = await db.begin(
      "ISOLATION LEVEL REPEATABLE READ READ ONLY",
      (tx) => check(tx as unknown as Db, o),
    );
    if (o.repair && result.problems > result.unrepairable) {
      result.repaired = await repair(db, broken, o.onRepair ?? (() => {}));
    }
    return result;
  } finally {
    await db.end({ timeout: 5 });
  }
}

async function check(db: Db, o: VerifyOptions): Promise<{ broken: Broken; result: VerifyResult }> {
  const broken: Broken = {
    counters: new Set(),
    uidNext: new Set(),
    flagColumns: [],
    refs: new Set(),
    unindexed: new Set(),
  };
  const result: VerifyResult = {
    problems: 0,
    unrepairable: 0,
    repaired: 0,
    checked: { mailboxes: 0, messages: 0, blobs: 0, queue: 0 },
  };
  const problem = (line: string, repairable: boolean) => {
    result.problems++;
    if (!repairable) result.unrepairable++;
    o.onProblem?.(repairable ? line : `${line} (cannot be repaired without losing mail)`);
  };
  /** Rows of a query, a page at a time. */
  async function* rows(sql: string, page = 1000): AsyncGenerator<Row> {
    for await (const batch of db.unsafe(sql).cursor(page) as AsyncIterable<Row[]>) yield* batch;
  }
  const count = async (t: string) =>
    Number(((await db.unsafe(`SELECT count(*) AS n FROM ${t}`)) as Row[])[0].n);

  for await (
    const r of rows(`
    SELECT mb.id, a.email, mb.name, mb.messages, mb.unseen, mb.size, mb.uid_next,
      mb.highest_modseq, coalesce(m.n, 0) AS n, coalesce(m.unseen, 0) AS u,
      coalesce(m.size, 0) AS s, greatest(coalesce(m.max_uid, 0), coalesce(e.max_uid, 0)) AS max_uid,
      greatest(coalesce(m.max_modseq, 0), coalesce(e.max_modseq, 0)) AS max_modseq
    FROM mailboxes mb JOIN accounts a ON a.id = mb.account_id
    LEFT JOIN (SELECT mailbox_id, count(*) AS n, count(*) FILTER (WHERE NOT seen) AS unseen,
      sum(size) AS size, max(uid) AS max_uid, max(modseq) AS max_modseq FROM messages
      GROUP BY mailbox_id) m ON m.mailbox_id = mb.id
    LEFT JOIN (SELECT mailbox_id, max(uid) AS max_uid, max(modseq) AS max_modseq
      FROM expunged GROUP BY mailbox_id) e ON e.mailbox_id = mb.id
    ORDER BY mb.id`)
  ) {
    result.checked.mailboxes++;
    const id = r.id as number;
    const name = `mailbox ${id} (${r.email} ${r.name})`;
    for (
      const [what, kept, real] of [
        ["messages", r.messages, r.n],
        ["unseen", r.unseen, r.u],
        ["size", r.size, r.s],
      ] as const
    ) {
      if (Number(kept) !== Number(real)) {
        problem(`${name}: ${what} counter is ${kept}, its rows say ${real}`, true);
        broken.counters.add(id);
      }
    }
    if (Number(r.uid_next) <= Number(r.max_uid)) {
      problem(`${name}: UIDNEXT ${r.uid_next} is not above UID ${r.max_uid}`, true);
      broken.uidNext.add(id);
    }
    if (Number(r.highest_modseq) < Number(r.max_modseq)) {
      problem(
        `${name}: HIGHESTMODSEQ ${r.highest_modseq} is below a row's MODSEQ ${r.max_modseq}`,
        true,
      );
      broken.uidNext.add(id);
    }
  }

  for await (
    const r of rows(`SELECT mailbox_id, uid, flags FROM messages
    WHERE seen <> (position(' \\Seen ' in ' ' || flags || ' ') > 0)
       OR deleted <> (position(' \\Deleted ' in ' ' || flags || ' ') > 0)`)
  ) {
    problem(
      `message mailbox ${r.mailbox_id} UID ${r.uid}: seen/deleted columns disagree with its flags "${r.flags}"`,
      true,
    );
    broken.flagColumns.push([r.mailbox_id as number, r.uid as number]);
  }

  for await (
    const r of rows(`SELECT m.mailbox_id, m.uid, m.blob_id, m.size, b.size AS blob_size
    FROM messages m LEFT JOIN blobs b ON b.id = m.blob_id
    WHERE b.id IS NULL OR b.size <> m.size`)
  ) {
    const at = `message mailbox ${r.mailbox_id} UID ${r.uid}`;
    if (r.blob_size === null) problem(`${at}: its blob ${r.blob_id} is missing`, false);
    else problem(`${at}: size ${r.size} but its blob ${r.blob_id} has ${r.blob_size}`, false);
  }
  result.checked.messages = await count("messages");
  for await (
    const r of rows(`SELECT q.id, q.blob_id FROM queue q
    WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.id = q.blob_id)`)
  ) problem(`queue entry ${r.id}: its blob ${r.blob_id} is missing`, false);
  result.checked.queue = await count("queue");

  for await (
    const r of rows(`SELECT b.id, b.refs, coalesce(u.n, 0) AS n FROM blobs b
    LEFT JOIN (SELECT blob_id, count(*) AS n FROM (SELECT blob_id FROM messages
      UNION ALL SELECT blob_id FROM queue) x GROUP BY blob_id) u ON u.blob_id = b.id
    WHERE b.refs <> coalesce(u.n, 0)`)
  ) {
    if (Number(r.n) === 0) {
      problem(`blob ${r.id}: no message or queue entry uses it (kept: it may be mail)`, false);
    } else {
      problem(`blob ${r.id}: reference count ${r.refs}, ${r.n} rows use it`, true);
      broken.refs.add(r.id as number);
    }
  }

  const total = await count("blobs");
  // The layout itself (blob_store.ts): a row's inline part and its shared body, if any.
  for await (
    const r of rows(
      `SELECT b.id, b.size, b.digest, b.data, b.body_digest, bb.data AS body
       FROM blobs b LEFT JOIN blob_bodies bb ON bb.digest = b.body_digest ORDER BY b.id`,
      4,
    )
  ) {
    if (++result.checked.blobs % 1000 === 0) o.onProgress?.(result.checked.blobs, total);
    if (r.body_digest !== null && r.body === null) {
      problem(
        `blob ${r.id}: its shared body ${hex(r.body_digest as Uint8Array)} is missing`,
        false,
      );
      continue;
    }
    const data = r.body === null
      ? r.data as Uint8Array
      : concat(r.data as Uint8Array, r.body as Uint8Array);
    const digest = createHash("sha256").update(data).digest("hex");
    if (digest !== Buffer.from(r.digest as Uint8Array).toString("hex")) {
      problem(`blob ${r.id}: its bytes do not match its SHA-256`, false);
    }
    if (data.byteLength !== Number(r.size)) {
      problem(`blob ${r.id}: ${data.byteLength} bytes stored, ${r.size} recorded`, false);
    }
  }
  o.onProgress?.(result.checked.blobs, total);
  for await (const r of rows("SELECT digest, data FROM blob_bodies ORDER BY digest", 4)) {
    if (hex(sha256(r.data as Uint8Array)) !== hex(r.digest as Uint8Array)) {
      problem(
        `shared body ${hex(r.digest as Uint8Array)}: its bytes do not match its SHA-256`,
        false,
      );
    }
  }

  for await (
    const r of rows(`SELECT DISTINCT m.blob_id FROM messages m
    WHERE NOT EXISTS (SELECT 1 FROM blob_text t WHERE t.blob_id = m.blob_id)
      AND NOT EXISTS (SELECT 1 FROM search_pending p WHERE p.blob_id = m.blob_id)
      AND EXISTS (SELECT 1 FROM blobs b WHERE b.id = m.blob_id)`)
  ) {
    problem(`search text: blob ${r.blob_id} has none`, true);
    broken.unindexed.add(r.blob_id as number);
  }
  return { broken, result };
}

async function repair(db: Db, b: Broken, say: (line: string) => void): Promise<number> {
  let n = 0;
  const done = (line: string) => {
    n++;
    say(line);
  };
  await db.begin(async (tx) => {
    for (const [mb, uid] of b.flagColumns) {
      await tx.unsafe(
        `UPDATE messages SET seen = (position(' \\Seen ' in ' ' || flags || ' ') > 0),
         deleted = (position(' \\Deleted ' in ' ' || flags || ' ') > 0)
         WHERE mailbox_id = $1 AND uid = $2`,
        [mb, uid],
      );
      done(`message mailbox ${mb} UID ${uid}: seen/deleted columns set from its flags`);
    }
    for (const id of b.counters) {
      const [r] = await tx.unsafe(
        `UPDATE mailboxes SET
           messages = (SELECT count(*) FROM messages WHERE mailbox_id = $1),
           unseen = (SELECT count(*) FROM messages WHERE mailbox_id = $1 AND NOT seen),
           size = (SELECT coalesce(sum(size), 0) FROM messages WHERE mailbox_id = $1)
         WHERE id = $1 RETURNING messages, unseen, size`,
        [id],
      ) as Row[];
      if (r) {
        done(
          `mailbox ${id}: counters recounted (messages ${r.messages}, unseen ${r.unseen}, size ${r.size})`,
        );
      }
    }
    // RFC 9051 §2.3.1.1 / RFC 7162 §3.1: only ever raised, never lowered.
    for (const id of b.uidNext) {
      const [r] = await tx.unsafe(
        `UPDATE mailboxes SET
           uid_next = greatest(uid_next,
             (SELECT coalesce(max(uid), 0) + 1 FROM messages WHERE mailbox_id = $1),
             (SELECT coalesce(max(uid), 0) + 1 FROM expunged WHERE mailbox_id = $1)),
           highest_modseq = greatest(highest_modseq,
             (SELECT coalesce(max(modseq), 0) FROM messages WHERE mailbox_id = $1),
             (SELECT coalesce(max(modseq), 0) FROM expunged WHERE mailbox_id = $1))
         WHERE id = $1 RETURNING uid_next, highest_modseq`,
        [id],
      ) as Row[];
      if (r) {
        done(
          `mailbox ${id}: UIDNEXT raised to ${r.uid_next}, HIGHESTMODSEQ to ${r.highest_modseq}`,
        );
      }
    }
    for (const id of b.refs) {
      const [r] = await tx.unsafe(
        `UPDATE blobs SET refs = (SELECT count(*) FROM messages WHERE blob_id = $1) +
           (SELECT count(*) FROM queue WHERE blob_id = $1) WHERE id = $1 RETURNING refs`,
        [id],
      ) as Row[];
      if (r) done(`blob ${id}: reference count set to ${r.refs}`);
    }
    for (const id of b.unindexed) {
      const run: Run = (t, p) => tx.unsafe(t, p as never[]) as unknown as Promise<Row[]>;
      const data = await messageBytes(run, id).catch(() => null);
      if (!data) continue;
      const t = searchableText(data);
      await tx.unsafe(
        `INSERT INTO blob_text (blob_id, header, body, partial) VALUES ($1, $2, $3, $4)
         ON CONFLICT (blob_id) DO NOTHING`,
        [id, t.header, t.body, t.partial],
      );
      done(`search text: blob ${id} indexed`);
    }
  });
  return n;
}
