/**
 * `verify`: checks a SQLite database against the invariants the schema and the Store promise
 * (schema.ts, blobs.ts, fts.ts), and with `repair` fixes what can be fixed without losing mail.
 *
 * - Runs on a live server: every check reads inside ONE read transaction on its own
 *   read-only connection (WAL: the server keeps writing meanwhile; the checks see one
 *   snapshot, so a delivery under way is never reported as a half-written message).
 * - Bounded memory on any size of store: every check streams its rows (`iterate`), and
 *   a message is in memory one at a time while its digest is computed. Only the ids of
 *   broken things are kept, to repair them.
 * - Each problem is one line (`onProblem`), named so that an operator can find it: mailbox
 *   id, account and name, UID, blob id.
 * - Repairs (repair.ts) run after the checks in one write transaction, recomputing each
 *   value inside it, so a change the server made since the check is never overwritten.
 *   What cannot be repaired without losing mail (a missing or corrupted blob, an orphan
 *   blob that may be the only copy of a message whose row was lost) is reported and left.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { BLOB_BYTES, BLOB_FROM, sha256 } from "./blobs.ts";
import { SCHEMA_VERSION } from "./schema.ts";
import { StoreError } from "../mod.ts";
import { type Broken, repair } from "./repair.ts";

export interface VerifyOptions {
  repair?: boolean;
  /** Called once per problem found (one line). */
  onProblem?: (line: string) => void;
  /** Called once per repair made (one line). */
  onRepair?: (line: string) => void;
  /** Progress in blobs read (the long part). */
  onProgress?: (done: number, total: number) => void;
}

export interface VerifyResult {
  problems: number;
  /** Problems that `repair` cannot fix (they stay after a repair). */
  unrepairable: number;
  repaired: number;
  checked: { mailboxes: number; messages: number; blobs: number; queue: number };
}

type Row = Record<string, unknown>;
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const same = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Opens `path` read-only and checks it; repairs afterwards when asked. */
export function verifyDatabase(path: string, o: VerifyOptions = {}): VerifyResult {
  const db = new DatabaseSync(path, { readOnly: true });
  let broken: Broken;
  let result: VerifyResult;
  try {
    db.exec("PRAGMA busy_timeout = 10000");
    const v = (db.prepare("PRAGMA user_version").get() as Row).user_version as number;
    if (v !== SCHEMA_VERSION) {
      throw new StoreError(
        "invalid",
        `${path}: schema version ${v}, this denomail checks ${SCHEMA_VERSION}` +
          (v < SCHEMA_VERSION ? " (start the server once to migrate it)" : ""),
      );
    }
    db.exec("BEGIN"); // one snapshot for every check
    try {
      ({ broken, result } = check(db, o));
    } finally {
      db.exec("COMMIT");
    }
  } finally {
    db.close();
  }
  if (o.repair && result.problems > result.unrepairable) {
    result.repaired = repair(path, broken, o.onRepair ?? (() => {}));
  }
  return result;
}

function check(db: DatabaseSync, o: VerifyOptions): { broken: Broken; result: VerifyResult } {
  const broken: Broken = {
    counters: new Set(),
    uidNext: new Set(),
    flagColumns: [],
    refs: new Set(),
    bodyRefs: new Set(),
    noDigest: new Set(),
    extraIndex: new Set(),
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
  const all = (sql: string, ...args: Array<number | string>) =>
    db.prepare(sql).iterate(...args) as Iterable<Row>;

  // Mailbox counters, UIDNEXT and HIGHESTMODSEQ against the rows (messages and expunged).
  for (
    const r of all(`
    SELECT mb.id, a.email, mb.name, mb.messages, mb.unseen, mb.size, mb.uid_next,
      mb.highest_modseq, coalesce(m.n, 0) AS n, coalesce(m.unseen, 0) AS u,
      coalesce(m.size, 0) AS s, max(coalesce(m.max_uid, 0), coalesce(e.max_uid, 0)) AS max_uid,
      max(coalesce(m.max_modseq, 0), coalesce(e.max_modseq, 0)) AS max_modseq
    FROM mailboxes mb JOIN accounts a ON a.id = mb.account_id
    LEFT JOIN (SELECT mailbox_id, count(*) AS n, sum(seen = 0) AS unseen, sum(size) AS size,
      max(uid) AS max_uid, max(modseq) AS max_modseq FROM messages GROUP BY mailbox_id) m
      ON m.mailbox_id = mb.id
    LEFT JOIN (SELECT mailbox_id, max(uid) AS max_uid, max(modseq) AS max_modseq
      FROM expunged GROUP BY mailbox_id) e ON e.mailbox_id = mb.id
    ORDER BY mb.id`)
  ) {
    result.checked.mailboxes++;
    const name = `mailbox ${r.id} (${r.email} ${r.name})`;
    for (
      const [what, kept, rows] of [
        ["messages", r.messages, r.n],
        ["unseen", r.unseen, r.u],
        ["size", r.size, r.s],
      ] as const
    ) {
      if (kept !== rows) {
        problem(`${name}: ${what} counter is ${kept}, its rows say ${rows}`, true);
        broken.counters.add(r.id as number);
      }
    }
    if ((r.uid_next as number) <= (r.max_uid as number)) {
      problem(`${name}: UIDNEXT ${r.uid_next} is not above UID ${r.max_uid}`, true);
      broken.uidNext.add(r.id as number);
    }
    if ((r.highest_modseq as number) < (r.max_modseq as number)) {
      problem(
        `${name}: HIGHESTMODSEQ ${r.highest_modseq} is below a row's MODSEQ ${r.max_modseq}`,
        true,
      );
      broken.uidNext.add(r.id as number);
    }
  }

  // The seen/deleted columns (behind the counters and indexes) must say what the flags say.
  for (
    const r of all(`SELECT mailbox_id, uid, seen, deleted, flags FROM messages
    WHERE seen <> (instr(' ' || flags || ' ', ' \\Seen ') > 0)
       OR deleted <> (instr(' ' || flags || ' ', ' \\Deleted ') > 0)`)
  ) {
    problem(
      `message mailbox ${r.mailbox_id} UID ${r.uid}: seen/deleted columns disagree with its flags "${r.flags}"`,
      true,
    );
    broken.flagColumns.push([r.mailbox_id as number, r.uid as number]);
  }

  // Every message and queue entry has its blob; sizes agree.
  for (
    const r of all(`SELECT m.mailbox_id, m.uid, m.blob_id, m.size, b.size AS blob_size,
      d.id IS NULL AS no_data FROM messages m LEFT JOIN blobs b ON b.id = m.blob_id
      LEFT JOIN blob_data d ON d.id = m.blob_id
      WHERE b.id IS NULL OR d.id IS NULL OR b.size <> m.size`)
  ) {
    const at = `message mailbox ${r.mailbox_id} UID ${r.uid}`;
    if (r.blob_size === null || r.no_data) {
      problem(`${at}: its blob ${r.blob_id} is missing`, false);
    } else problem(`${at}: size ${r.size} but its blob ${r.blob_id} has ${r.blob_size}`, false);
  }
  result.checked.messages = (db.prepare("SELECT count(*) AS n FROM messages").get() as Row)
    .n as number;
  for (
    const r of all(`SELECT q.id, q.blob_id FROM queue q
    WHERE NOT EXISTS (SELECT 1 FROM blobs b JOIN blob_data d ON d.id = b.id WHERE b.id = q.blob_id)`)
  ) problem(`queue entry ${r.id}: its blob ${r.blob_id} is missing`, false);
  result.checked.queue = (db.prepare("SELECT count(*) AS n FROM queue").get() as Row).n as number;

  // Reference counts: blobs by messages + queue, shared bodies by blob_data.
  for (
    const r of all(`SELECT b.id, b.refs, coalesce(u.n, 0) AS n FROM blobs b
    LEFT JOIN (SELECT blob_id, count(*) AS n FROM (SELECT blob_id FROM messages
      UNION ALL SELECT blob_id FROM queue) GROUP BY blob_id) u ON u.blob_id = b.id
    WHERE b.refs <> coalesce(u.n, 0)`)
  ) {
    if (r.n === 0) {
      problem(`blob ${r.id}: no message or queue entry uses it (kept: it may be mail)`, false);
    } else {
      problem(`blob ${r.id}: reference count ${r.refs}, ${r.n} rows use it`, true);
      broken.refs.add(r.id as number);
    }
  }
  for (
    const r of all(`SELECT d.id FROM blob_data d WHERE NOT EXISTS
    (SELECT 1 FROM blobs b WHERE b.id = d.id)`)
  ) problem(`blob data ${r.id}: no blob row (kept: it may be mail)`, false);
  for (
    const r of all(`SELECT bb.id, bb.refs, coalesce(u.n, 0) AS n FROM blob_bodies bb
    LEFT JOIN (SELECT body_id, count(*) AS n FROM blob_data WHERE body_id IS NOT NULL
      GROUP BY body_id) u ON u.body_id = bb.id WHERE bb.refs <> coalesce(u.n, 0)`)
  ) {
    problem(`shared body ${r.id}: reference count ${r.refs}, ${r.n} blobs use it`, true);
    broken.bodyRefs.add(r.id as number);
  }
  for (
    const r of all(`SELECT d.id, d.body_id FROM blob_data d WHERE d.body_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM blob_bodies bb WHERE bb.id = d.body_id)`)
  ) problem(`blob ${r.id}: its shared body ${r.body_id} is missing`, false);

  // Digests: every blob's bytes against its SHA-256 (streamed, one message at a time).
  const total = (db.prepare("SELECT count(*) AS n FROM blobs").get() as Row).n as number;
  for (
    const r of all(`SELECT b.id, b.size, b.sha256, ${BLOB_BYTES} AS data
    FROM ${BLOB_FROM} JOIN blobs b ON b.id = d.id ORDER BY d.id`)
  ) {
    const data = r.data as Uint8Array;
    if (++result.checked.blobs % 1000 === 0) o.onProgress?.(result.checked.blobs, total);
    if (r.sha256 === null) {
      problem(`blob ${r.id}: no digest recorded`, true);
      broken.noDigest.add(r.id as number);
    } else if (!same(sha256(data), r.sha256 as Uint8Array)) {
      problem(
        `blob ${r.id}: its bytes do not match its SHA-256 ${hex(r.sha256 as Uint8Array)}`,
        false,
      );
    }
    if (data.byteLength !== r.size) {
      problem(`blob ${r.id}: ${data.byteLength} bytes stored, ${r.size} recorded`, false);
    }
  }
  o.onProgress?.(result.checked.blobs, total);
  for (const r of all("SELECT id, sha256, data FROM blob_bodies ORDER BY id")) {
    if (!same(sha256(r.data as Uint8Array), r.sha256 as Uint8Array)) {
      problem(`shared body ${r.id}: its bytes do not match its SHA-256`, false);
    }
  }

  // Full-text index: rows for blobs that are gone, messages neither indexed nor pending.
  for (
    const r of all(`SELECT id FROM (SELECT rowid AS id FROM fts_header
      UNION SELECT rowid FROM fts_body UNION SELECT blob_id FROM fts_indexed
      UNION SELECT blob_id FROM fts_pending) x
    WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.id = x.id)`)
  ) {
    problem(`full-text index: a row for blob ${r.id}, which does not exist`, true);
    broken.extraIndex.add(r.id as number);
  }
  for (
    const r of all(`SELECT DISTINCT m.blob_id FROM messages m
    WHERE NOT EXISTS (SELECT 1 FROM fts_indexed f WHERE f.blob_id = m.blob_id)
      AND NOT EXISTS (SELECT 1 FROM fts_pending p WHERE p.blob_id = m.blob_id)`)
  ) {
    problem(`full-text index: blob ${r.blob_id} is neither indexed nor waiting to be`, true);
    broken.unindexed.add(r.blob_id as number);
  }
  return { broken, result };
}
