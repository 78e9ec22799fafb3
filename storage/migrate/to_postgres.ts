/**
 * Copies a SQLite data dir's database into an empty PostgreSQL database (`storage migrate
 * --to postgres://…`), resumably, and verifies the copy.
 *
 * Invariants:
 * - The target must be empty (no domain, no account) unless it holds this tool's progress
 *   table `migrate_progress` from an interrupted run, which is then resumed.
 * - Each chunk of rows is one PostgreSQL transaction together with its progress marker (the
 *   last key copied): an interrupted run leaves whole chunks and resumes after the last one,
 *   never copying a row twice or skipping one.
 * - The source is read only (opened read-only after its own migrations ran); stop the
 *   server first, or the copy misses what arrives meanwhile (the verification then fails).
 * - Verified at the end: row counts of every table, the SHA-256 of every message blob as
 *   PostgreSQL stored it, every message row, and the mailbox counters PostgreSQL's triggers
 *   computed.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
import { connect, type Db } from "../postgres/rows.ts";
import { openPostgresStore } from "../postgres/store.ts";
import { openSqliteStore } from "../sqlite/store.ts";
import { BLOB_BYTES, BLOB_FROM } from "../sqlite/blobs.ts";
import { searchableText } from "../postgres/text.ts";
import { type Cell, type Row, TABLES, type TableSpec } from "./tables.ts";

/** One line of progress: a table, rows copied so far, rows in the source. */
export type Progress = (table: string, copied: number, total: number) => void;

/** One table's verification. */
export interface Check {
  what: string;
  source: string;
  target: string;
  ok: boolean;
}

const DEFAULT_CHUNK = 500;

function bytes(v: unknown): unknown {
  return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v;
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Copies `sqlitePath` into `url`; resolves with the verification (throws when it failed). */
export async function migrateSqliteToPostgres(
  sqlitePath: string,
  url: string,
  progress: Progress = () => {},
): Promise<Check[]> {
  // Both schemas brought up to date by the stores themselves, then closed.
  await (await openSqliteStore(sqlitePath, { inlineWrites: true })).close();
  await (await openPostgresStore(url, { maxConnections: 2 })).close();
  const src = new DatabaseSync(sqlitePath, { readOnly: true });
  const db = connect(url, { max: 2 });
  try {
    await prepareTarget(db);
    for (const t of TABLES) await copyTable(src, db, t, progress);
    await finish(src, db);
    const checks = await verify(src, db);
    const bad = checks.filter((c) => !c.ok);
    if (bad.length > 0) {
      throw new Error(
        `verification failed: ${
          bad.map((c) => `${c.what} (${c.source} vs ${c.target})`).join("; ")
        }`,
      );
    }
    await db`UPDATE migrate_progress SET verified = true`;
    return checks;
  } finally {
    src.close();
    await db.end({ timeout: 5 });
  }
}

/** Creates the progress table, or refuses a target that holds data of its own. */
async function prepareTarget(db: Db): Promise<void> {
  const [{ exists }] = await db`SELECT to_regclass('migrate_progress') IS NOT NULL AS exists`;
  if (!exists) {
    const [{ n }] = await db`SELECT (SELECT count(*) FROM domains) + (SELECT count(*) FROM accounts)
      + (SELECT count(*) FROM queue) AS n`;
    if (Number(n) > 0) {
      throw new Error("the target database is not empty (it has domains, accounts or queue)");
    }
    await db`CREATE TABLE migrate_progress (
      tbl text PRIMARY KEY, last text, copied bigint NOT NULL DEFAULT 0,
      done boolean NOT NULL DEFAULT false, verified boolean NOT NULL DEFAULT false)`;
  }
}

/** Copies one table in keyset-paged chunks, each committed with its progress marker. */
async function copyTable(src: DatabaseSync, db: Db, t: TableSpec, progress: Progress) {
  const [mark] = await db`SELECT last, copied, done FROM migrate_progress WHERE tbl = ${t.name}`;
  const total = Number(
    (src.prepare(`SELECT count(*) AS n FROM ${t.from ?? t.name}`).get() as Row).n,
  );
  let copied = mark ? Number(mark.copied) : 0;
  if (mark?.done) {
    progress(t.name, copied, total);
    return;
  }
  let last: Cell[] | null = mark?.last ? JSON.parse(mark.last as string) : null;
  const keyExpr = t.keyExpr ?? t.key;
  const tuple = `(${keyExpr.join(", ")})`;
  const select = (after: boolean) =>
    src.prepare(
      `SELECT ${t.select.join(", ")} FROM ${t.from ?? t.name}
       ${after ? `WHERE ${tuple} > (${keyExpr.map(() => "?").join(", ")})` : ""}
       ORDER BY ${keyExpr.join(", ")} LIMIT ?`,
    );
  const first = select(false);
  const next = select(true);
  const chunk = t.chunk ?? DEFAULT_CHUNK;
  for (;;) {
    const rows = (last ? next.all(...(last as never[]), chunk) : first.all(chunk)) as Row[];
    if (rows.length === 0) break;
    const lastKey = t.key.map((k) => rows[rows.length - 1][k]).map((v) =>
      typeof v === "bigint" ? Number(v) : v
    );
    await db.begin(async (tx) => {
      await insertRows(tx as unknown as Db, t, rows);
      await tx`INSERT INTO migrate_progress (tbl, last, copied) VALUES
        (${t.name}, ${JSON.stringify(lastKey)}, ${copied + rows.length})
        ON CONFLICT (tbl) DO UPDATE SET last = EXCLUDED.last, copied = EXCLUDED.copied`;
    });
    copied += rows.length;
    last = lastKey;
    progress(t.name, copied, total);
  }
  await db`INSERT INTO migrate_progress (tbl, copied, done) VALUES (${t.name}, ${copied}, true)
    ON CONFLICT (tbl) DO UPDATE SET done = true, copied = EXCLUDED.copied`;
  progress(t.name, copied, total);
}

/** One multi-row INSERT for a chunk (plus the search text of message blobs). */
async function insertRows(tx: Db, t: TableSpec, rows: Row[]): Promise<void> {
  const params: unknown[] = [];
  const tuples: string[] = [];
  for (const r of rows) {
    const v = t.values(r);
    if (t.name === "blobs") v[1] = createHash("sha256").update(r.data as Uint8Array).digest();
    tuples.push(`(${v.map((x) => `$${params.push(bytes(x))}`).join(", ")})`);
  }
  await tx.unsafe(
    `INSERT INTO ${t.name} (${t.columns.join(", ")}) ${
      t.identity ? "OVERRIDING SYSTEM VALUE" : ""
    } VALUES ${tuples.join(", ")}`,
    params as never[],
  );
  if (t.name !== "blobs") return;
  // SEARCH's text (postgres/text.ts), made from the same bytes as at delivery. Blobs only a
  // queue entry uses get one too: harmless, and a blob cannot tell here what refers to it.
  for (const r of rows) {
    const s = searchableText(r.data as Uint8Array);
    await tx.unsafe(
      "INSERT INTO blob_text (blob_id, header, body, partial) VALUES ($1, $2, $3, $4)",
      [Number(r.id), s.header, s.body, s.partial] as never[],
    );
  }
}

/** Identity sequences past every id SQLite ever handed out; the UIDVALIDITY counter. */
async function finish(src: DatabaseSync, db: Db): Promise<void> {
  const seq = (name: string) => {
    try {
      const r = src.prepare("SELECT seq FROM sqlite_sequence WHERE name = ?").get(name) as
        | Row
        | undefined;
      return r ? Number(r.seq) : 0;
    } catch {
      return 0; // no AUTOINCREMENT table in this database
    }
  };
  for (const t of TABLES) {
    if (!t.identity) continue;
    await db.unsafe(
      `SELECT setval(pg_get_serial_sequence('${t.name}', 'id'),
         greatest((SELECT max(id) FROM ${t.name}), $1, 1))`,
      [seq(t.name)] as never[],
    );
  }
  const meta = src.prepare("SELECT value FROM meta WHERE key = 'uid_validity'").get() as
    | Row
    | undefined;
  await db`UPDATE meta SET value = greatest(value, ${Number(meta?.value ?? 0)},
    (SELECT coalesce(max(uid_validity), 0) FROM mailboxes)) WHERE key = 'uid_validity'`;
}

/** Counts, blob digests, message rows and mailbox counters: source against target. */
async function verify(src: DatabaseSync, db: Db): Promise<Check[]> {
  const checks: Check[] = [];
  const check = (what: string, source: unknown, target: unknown) =>
    checks.push({ what, source: String(source), target: String(target), ok: source === target });
  for (const t of TABLES) {
    const s = Number((src.prepare(`SELECT count(*) AS n FROM ${t.from ?? t.name}`).get() as Row).n);
    const [{ n }] = await db.unsafe(`SELECT count(*) AS n FROM ${t.name}`);
    check(`${t.name} rows`, s, Number(n));
  }
  // Every blob's bytes, as PostgreSQL returns them, hashed on each side.
  const srcBlobs = createHash("sha256");
  const blobs = `SELECT d.id AS id, ${BLOB_BYTES} AS data FROM ${BLOB_FROM} ORDER BY d.id`;
  for (const r of src.prepare(blobs).iterate()) {
    srcBlobs.update(`${(r as Row).id}:${sha256((r as Row).data as Uint8Array)};`);
  }
  const dstBlobs = createHash("sha256");
  let after = 0;
  for (;;) {
    const rows = await db`SELECT b.id, encode(sha256(b.data || coalesce(bb.data, '')), 'hex') AS h
      FROM blobs b LEFT JOIN blob_bodies bb ON bb.digest = b.body_digest
      WHERE b.id > ${after} ORDER BY b.id LIMIT 1000`;
    if (rows.length === 0) break;
    for (const r of rows) dstBlobs.update(`${r.id}:${r.h};`);
    after = Number(rows[rows.length - 1].id);
  }
  check("blob digests", srcBlobs.digest("hex"), dstBlobs.digest("hex"));
  // Message rows (UIDs, MODSEQs, flags, dates, sizes, blobs) in key order.
  const spec = TABLES.find((t) => t.name === "messages")!;
  const srcMsgs = createHash("sha256");
  for (
    const r of src.prepare(
      `SELECT ${spec.select.join(", ")} FROM messages ORDER BY mailbox_id, uid`,
    ).iterate()
  ) srcMsgs.update(JSON.stringify(spec.values(r as Row)));
  const dstMsgs = createHash("sha256");
  const rows = await db.unsafe(
    `SELECT ${spec.columns.join(", ")} FROM messages ORDER BY mailbox_id, uid`,
  );
  for (const r of rows) dstMsgs.update(JSON.stringify(spec.columns.map((c) => r[c])));
  check("message rows", srcMsgs.digest("hex"), dstMsgs.digest("hex"));
  // Counters the triggers recomputed.
  const counters = (rs: Row[]) =>
    rs.map((r) => `${r.id}:${r.messages}:${r.unseen}:${r.size}`).join(",");
  check(
    "mailbox counters",
    counters(
      src.prepare("SELECT id, messages, unseen, size FROM mailboxes ORDER BY id").all() as Row[],
    ),
    counters(
      await db`SELECT id, messages, unseen, size FROM mailboxes ORDER BY id` as unknown as Row[],
    ),
  );
  return checks;
}
