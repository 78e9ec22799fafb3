/**
 * A logical export and import of denomail's PostgreSQL tables, for `backup` and `restore`
 * (app/backup_pg.ts). Kept apart from the store: it reads the catalog, not the Store API.
 *
 * - Export: every table of the current schema but `schema_version`, in one REPEATABLE READ
 *   READ ONLY transaction (one consistent snapshot while the server writes), each read with a
 *   cursor (bounded memory) and written as JSON lines: first `{"columns": [...], "types":
 *   [...]}`, then one JSON array per row; bytea values are `{"b64": "..."}`.
 * - Import: into a database this denomail has just created (same schema version). Tables in
 *   foreign-key order; the user triggers (counters, reference counts, change log) are disabled
 *   per table while its rows go in — the rows already hold what the triggers would compute —
 *   and identity columns keep their values (OVERRIDING SYSTEM VALUE); the identity sequences
 *   are then moved past the largest id, so new rows never reuse one.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Db, Row } from "./rows.ts";

const enc = new TextEncoder();
/** Rows per cursor step and at most per INSERT. */
const BATCH = 500;
/** Rows per cursor step of a table with bytea (messages of up to max_message_bytes). */
const BLOB_ROWS = 8;
/** Bytes of values per INSERT at most (message bytes are large): bounded memory. */
const BATCH_BYTES = 4 << 20;

/** The database's denomail tables, parents before children (foreign keys). */
export async function tablesInOrder(db: Db): Promise<string[]> {
  const tables = (await db.unsafe(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname <> 'schema_version'
     ORDER BY c.relname`,
  ) as Row[]).map((r) => r.name as string);
  const deps = await db.unsafe(
    `SELECT c.relname AS child, p.relname AS parent FROM pg_constraint k
     JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE k.contype = 'f' AND n.nspname = current_schema()`,
  ) as Row[];
  const out: string[] = [];
  const done = new Set<string>();
  const visit = (t: string, path: Set<string>) => {
    if (done.has(t) || path.has(t)) return;
    path.add(t);
    for (const d of deps) if (d.child === t && d.parent !== t) visit(d.parent as string, path);
    done.add(t);
    out.push(t);
  };
  for (const t of tables) visit(t, new Set());
  return out;
}

const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;

async function columnsOf(db: Db, table: string): Promise<{ names: string[]; types: string[] }> {
  const rows = await db.unsafe(
    `SELECT column_name, data_type FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  ) as Row[];
  return {
    names: rows.map((r) => r.column_name as string),
    types: rows.map((r) => r.data_type as string),
  };
}

/**
 * Exports every table inside one snapshot: `sink(table, lines)` gets each table's JSON lines
 * (as bytes) and must consume them before the next table starts.
 */
export async function exportTables(
  db: Db,
  sink: (table: string, lines: AsyncIterable<Uint8Array>) => Promise<void>,
): Promise<{ schemaVersion: number; counts: Record<string, number> }> {
  let result = { schemaVersion: 0, counts: {} as Record<string, number> };
  await db.begin("ISOLATION LEVEL REPEATABLE READ READ ONLY", async (tx) => {
    const v = await tx.unsafe("SELECT version FROM schema_version") as Row[];
    const counts: Record<string, number> = {};
    const n = async (t: string) =>
      Number(((await tx.unsafe(`SELECT count(*) AS n FROM ${t}`)) as Row[])[0].n);
    counts.domains = await n("domains");
    counts.users = await n("accounts");
    counts.mailboxes = await n("mailboxes");
    counts.messages = await n("messages");
    counts.queue = await n("queue");
    counts.blobs = await n("blobs");
    result = { schemaVersion: Number(v[0]?.version ?? 0), counts };
    for (const table of await tablesInOrder(tx as unknown as Db)) {
      const cols = await columnsOf(tx as unknown as Db, table);
      const bytea = cols.types.map((t) => t === "bytea");
      const lines = async function* () {
        yield enc.encode(JSON.stringify({ columns: cols.names, types: cols.types }) + "\n");
        const cursor = tx.unsafe(
          `SELECT ${cols.names.map(ident).join(", ")} FROM ${ident(table)}`,
        ).values().cursor(bytea.some((b) => b) ? BLOB_ROWS : BATCH);
        for await (const rows of cursor as AsyncIterable<unknown[][]>) {
          let text = "";
          for (const r of rows) {
            text += JSON.stringify(r.map((v, i) =>
              bytea[i] && v !== null
                ? { b64: Buffer.from(v as Uint8Array).toString("base64") }
                : v
            )) + "\n";
          }
          yield enc.encode(text);
        }
      };
      await sink(table, lines());
    }
  });
  return result;
}

/** Splits a byte stream into lines (UTF-8). */
async function* textLines(data: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const dec = new TextDecoder();
  let rest = "";
  for await (const c of data) {
    rest += dec.decode(c, { stream: true });
    let at: number;
    while ((at = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, at);
      rest = rest.slice(at + 1);
    }
  }
  rest += dec.decode();
  if (rest) yield rest;
}

/** True when the database has no denomail table with any row (a fresh database). */
export async function isEmptyDatabase(db: Db): Promise<boolean> {
  const r = await db.unsafe("SELECT to_regclass('accounts') IS NULL AS fresh") as Row[];
  if (r[0].fresh) return true;
  for (const t of ["domains", "accounts", "blobs", "queue", "kv"]) {
    const rows = await db.unsafe(`SELECT 1 FROM ${t} LIMIT 1`) as Row[];
    if (rows.length) return false;
  }
  return true;
}

/** Imports one table's JSON lines (export's form) into the same table, triggers off. */
export async function importTable(
  db: Db,
  table: string,
  data: AsyncIterable<Uint8Array>,
  beforeCommit: () => void = () => {},
): Promise<number> {
  let count = 0;
  await db.begin(async (tx) => {
    await tx.unsafe(`ALTER TABLE ${ident(table)} DISABLE TRIGGER USER`);
    await tx.unsafe(`DELETE FROM ${ident(table)}`); // rows a fresh schema starts with (meta)
    let head: { columns: string[]; types: string[] } | null = null;
    let batch: unknown[][] = [];
    let bytes = 0;
    const flush = async () => {
      if (!head || batch.length === 0) return;
      const w = head.columns.length;
      const values = batch.map((_, r) =>
        `(${head!.columns.map((_, c) => `$${r * w + c + 1}`).join(", ")})`
      );
      await tx.unsafe(
        `INSERT INTO ${ident(table)} (${head.columns.map(ident).join(", ")})
         OVERRIDING SYSTEM VALUE VALUES ${values.join(", ")}`,
        batch.flat() as never[],
      );
      count += batch.length;
      batch = [];
      bytes = 0;
    };
    for await (const line of textLines(data)) {
      if (!line) continue;
      const v = JSON.parse(line);
      if (!head) {
        head = v;
        continue;
      }
      batch.push(
        (v as unknown[]).map((x) =>
          x !== null && typeof x === "object" && "b64" in x
            ? Buffer.from((x as { b64: string }).b64, "base64")
            : typeof x === "number"
            ? String(x) // bigint columns: the driver sends text, the server converts
            : x
        ),
      );
      bytes += line.length;
      if (batch.length >= BATCH || bytes >= BATCH_BYTES) await flush();
    }
    await flush();
    beforeCommit(); // throws when the entry's digest is wrong: nothing of it stays
    await tx.unsafe(`ALTER TABLE ${ident(table)} ENABLE TRIGGER USER`);
    // Identity columns: the next generated id comes after every restored one.
    const ids = await tx.unsafe(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()
       AND table_name = $1 AND is_identity = 'YES'`,
      [table],
    ) as Row[];
    for (const { column_name: c } of ids) {
      await tx.unsafe(
        `SELECT setval(pg_get_serial_sequence($1, $2),
           coalesce((SELECT max(${ident(c as string)}) FROM ${ident(table)}), 0) + 1, false)`,
        [table, c as string],
      );
    }
  });
  return count;
}
