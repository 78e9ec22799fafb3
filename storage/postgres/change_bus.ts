/**
 * Change events across nodes: every write that changed mailboxes or messages sends its
 * `MailboxChange`s with `pg_notify` inside its own transaction (PostgreSQL delivers a
 * notification only when, and only after, that transaction commits), and every Store
 * instance LISTENs on one channel and republishes what other instances committed on its own
 * `changes` EventTarget — so an IMAP IDLE or a JMAP EventSource on node B hears of a
 * delivery through node A.
 *
 * Invariants:
 * - A notification is never about an uncommitted change (sent in the transaction).
 * - An instance ignores its own notifications (it published them itself after COMMIT).
 * - A payload stays under PostgreSQL's 8000-byte limit: changes are packed into several
 *   notifications, a change with many UIDs split into several changes of the same kind
 *   (listeners see the same set of UIDs, in more events).
 * - The LISTEN connection is its own (not the pool's) and is re-established after it
 *   dropped (database restart, pg_terminate_backend, network); once LISTEN is back, what was
 *   committed meanwhile is read from the change log and published (change_catchup.ts), so
 *   an IDLE session does not miss a delivery made in the gap.
 *
 * @module
 */
import type postgres from "postgres";
import { listenConnection } from "./listen_connection.ts";
import type { MailboxChange } from "../mod.ts";
import type { Row, Tx } from "./rows.ts";
import { catchUp, changeLogHead, MARK_MS } from "./change_catchup.ts";
import { log } from "../../lib/log.ts";

/** The listener connection's application_name (pg_stat_activity shows it). */
export const LISTEN_APP = "denomail-listen";
/** The channel every node listens on. */
export const CHANGE_CHANNEL = "denomail_changes";
/** Below PostgreSQL's 8000-byte NOTIFY payload limit, with room for the envelope. */
const MAX_PAYLOAD = 7000;
/** How long to wait before listening again after the connection dropped. */
const RELISTEN_MS = 500;

/** One notification: who sent it and the changes it carries. */
interface Payload {
  o: string;
  c: MailboxChange[];
}

/** Splits `changes` into JSON payloads under MAX_PAYLOAD bytes each. */
export function changePayloads(origin: string, changes: MailboxChange[]): string[] {
  const pieces: MailboxChange[] = [];
  for (const c of changes) {
    if (c.kind === "mailbox" || JSON.stringify(c).length <= MAX_PAYLOAD - 100) {
      pieces.push(c);
      continue;
    }
    // UIDs are at most 16 digits: 400 of them fit in any payload.
    for (let i = 0; i < c.uids.length; i += 400) {
      pieces.push({ ...c, uids: c.uids.slice(i, i + 400) });
    }
  }
  const out: string[] = [];
  let batch: MailboxChange[] = [];
  let size = 0;
  for (const p of pieces) {
    const n = JSON.stringify(p).length + 1;
    if (batch.length > 0 && size + n > MAX_PAYLOAD) {
      out.push(JSON.stringify({ o: origin, c: batch } satisfies Payload));
      batch = [];
      size = 0;
    }
    batch.push(p);
    size += n;
  }
  if (batch.length > 0) out.push(JSON.stringify({ o: origin, c: batch } satisfies Payload));
  return out;
}

/** Sends `changes` to the other nodes when `tx` commits (one statement). */
export async function notifyChanges(
  tx: Tx,
  origin: string,
  changes: MailboxChange[],
): Promise<void> {
  if (changes.length === 0) return;
  await tx.unsafe(
    `SELECT pg_notify('${CHANGE_CHANNEL}', p) FROM unnest($1::text[]) AS p`,
    [changePayloads(origin, changes)] as never[],
  );
}

/** Keeps one LISTEN connection and hands other instances' changes to `onChanges`. */
export class ChangeListener {
  readonly origin: string = crypto.randomUUID();
  #sql: postgres.Sql;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onChanges: (changes: MailboxChange[]) => void;
  /** The change log's head at the last two reads while listening (older first). */
  #marks: [number, number] | null = null;
  #listening = false;
  #markTimer: ReturnType<typeof setInterval> | undefined;

  constructor(url: string, onChanges: (changes: MailboxChange[]) => void) {
    this.#onChanges = onChanges;
    this.#sql = listenConnection(url, {
      applicationName: LISTEN_APP,
      onnotify: (channel, payload) => this.#receive(channel, payload),
      onclose: () => {
        this.#listening = false;
        this.#relisten();
      },
    });
  }

  /** Starts listening (resolves once LISTEN is in place, or throws if it cannot be). */
  async start(): Promise<void> {
    await this.#sql.unsafe(`LISTEN ${CHANGE_CHANNEL}`);
    const run = (text: string, params: number[]) =>
      this.#sql.unsafe(text, params) as unknown as Promise<Row[]>;
    if (this.#marks !== null) {
      // Listening again: publish what committed while the connection was down.
      let changes = 0;
      const rows = await catchUp(run, this.#marks[0], (c) => {
        changes += c.length;
        if (!this.#closed) this.#onChanges(c);
      });
      log.info("storage", "change bus: LISTEN is back; caught up from the change log", {
        rows,
        changes,
      });
    }
    const head = await changeLogHead(run);
    this.#marks = [this.#marks?.[1] ?? head, head];
    this.#listening = true;
    this.#markTimer ??= setInterval(() => {
      if (!this.#listening || this.#closed) return;
      changeLogHead(run).then((w) => {
        if (this.#listening && this.#marks) this.#marks = [this.#marks[1], w];
      }).catch(() => {}); // the connection dropped: onclose relistens
    }, MARK_MS);
  }

  #relisten(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      // The connection reopens on this query; failure closes it again, which retries.
      this.start().catch(() => this.#relisten());
    }, RELISTEN_MS);
  }

  #receive(channel: string, payload: string): void {
    if (channel !== CHANGE_CHANNEL || this.#closed) return;
    let p: Payload;
    try {
      p = JSON.parse(payload);
    } catch {
      return;
    }
    if (!p || p.o === this.origin || !Array.isArray(p.c)) return;
    this.#onChanges(p.c);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#markTimer);
    await this.#sql.end({ timeout: 1 });
  }
}
