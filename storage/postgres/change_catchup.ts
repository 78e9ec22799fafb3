/**
 * What the change bus missed while its LISTEN connection was down (change_bus.ts): the
 * change log's rows (change_log.ts) after a mark, turned back into `MailboxChange`s.
 *
 * The marks: `max(id)` of the change log, read every `MARK_MS` while listening. Ids are
 * drawn before COMMIT, so a row below a mark may still be uncommitted when the mark is read;
 * catching up from the OLDER of the last two marks (at least `MARK_MS` before the drop)
 * misses only a transaction that ran longer than that. Replaying a few seconds of changes
 * the sessions already heard is harmless: a change event only makes a session look again.
 *
 * @module
 */
import type { MailboxChange } from "../mod.ts";
import type { Row } from "./rows.ts";

/** How often the listener reads the change log's head while it is connected. */
export const MARK_MS = 10_000;
/** Rows per catch-up page. */
const PAGE = 5000;

/** Runs one statement on the listener's connection. */
type Run = (text: string, params: number[]) => Promise<Row[]>;

/** The change log's head now (0 when empty). */
export async function changeLogHead(run: Run): Promise<number> {
  const [r] = await run("SELECT coalesce(max(id), 0) AS w FROM change_log", []);
  return Number(r.w);
}

const EMAIL_KINDS = { c: "append", u: "flags", d: "expunge" } as const;

/**
 * Every change logged after `after`, grouped per mailbox and kind (UIDs ascending), in
 * pages; `emit` gets each page's changes. Returns how many rows were read.
 */
export async function catchUp(
  run: Run,
  after: number,
  emit: (changes: MailboxChange[]) => void,
): Promise<number> {
  let rows = 0;
  for (;;) {
    const page = await run(
      `SELECT c.id, c.kind, c.op, c.account_id, c.mailbox_id, c.uid, m.highest_modseq
       FROM change_log c LEFT JOIN mailboxes m ON m.id = c.mailbox_id
       WHERE c.id > $1 ORDER BY c.id LIMIT ${PAGE}`,
      [after],
    );
    if (page.length === 0) return rows;
    rows += page.length;
    after = Number(page[page.length - 1].id);
    type EmailChange = Exclude<MailboxChange, { kind: "mailbox" }>;
    const emails = new Map<string, EmailChange>();
    const accounts = new Set<number>();
    for (const r of page) {
      if (r.kind === "mailbox") {
        accounts.add(Number(r.account_id));
        continue;
      }
      // A mailbox deleted since: its sessions were told by its own `mailbox` change.
      if (r.highest_modseq === null || r.mailbox_id === null) continue;
      const kind = EMAIL_KINDS[r.op as keyof typeof EMAIL_KINDS];
      if (!kind) continue;
      const key = `${r.mailbox_id}:${kind}`;
      const c = emails.get(key) ??
        ({ kind, mailboxId: Number(r.mailbox_id), uids: [], highestModseq: 0 } as EmailChange);
      emails.set(key, c);
      c.highestModseq = Number(r.highest_modseq);
      c.uids.push(Number(r.uid));
    }
    const changes: MailboxChange[] = [...emails.values()];
    for (const c of emails.values()) c.uids.sort((x, y) => x - y);
    for (const accountId of accounts) changes.push({ kind: "mailbox", accountId });
    if (changes.length > 0) emit(changes);
    if (page.length < PAGE) return rows;
  }
}
