/**
 * Every write the SQLite store performs, as plain functions `(ctx, args) => result`.
 *
 * There is one implementation: the writer worker runs these for the default store and the
 * inline writer runs them on the main thread. Each runs inside its own SAVEPOINT of a batch
 * transaction (see `batch.ts`), so a function may throw half-way: its partial changes are
 * rolled back and only it fails. Functions record what they changed in `ctx.changes`; those
 * are published only after the batch commits.
 *
 * Arguments and results cross a Worker boundary: they must be structured-cloneable.
 *
 * @module
 */
import {
  type Account,
  DEFAULT_MAILBOXES,
  type DeliveryTarget,
  type FlagUpdate,
  type FlagUpdateResult,
  type KvQuota,
  type Mailbox,
  type MailboxChange,
  type MessageMeta,
  type Placed,
  type QueueEntry,
  type SpecialUse,
  StoreError,
} from "../mod.ts";
import {
  applyFlagOp,
  DELIMITER,
  normalizeAliasSource,
  normalizeDomain,
  normalizeEmail,
  normalizeFlags,
  normalizeMailboxName,
  sameFlags,
} from "../names.ts";
import {
  ACCOUNT_COLUMNS,
  MAILBOX_COLUMNS,
  MESSAGE_COLUMNS,
  QUEUE_COLUMNS,
  type Row,
  type Statements,
  toAccount,
  toMailbox,
  toMessage,
  toQueueEntry,
} from "./rows.ts";
import { indexPending } from "./fts.ts";
import { TOKEN_WRITES } from "./tokens.ts";
import { UPLOAD_WRITES } from "./uploads.ts";
import {
  adjustUsage,
  checkQuota as checkKvQuota,
  type KvRefusal,
  purgedRows,
  rowSize,
  utf8Length,
} from "./kv_quota.ts";

/** What a write function gets besides its arguments. */
export interface WriteContext {
  /** Cached statements of the write connection (inside an open transaction). */
  readonly sql: Statements;
  /** Wall clock, milliseconds since the epoch. */
  now(): number;
  /** Changes this request made; published after the commit. */
  readonly changes: MailboxChange[];
}

const SPECIAL_USES: ReadonlySet<string> = new Set([
  "\\Drafts",
  "\\Sent",
  "\\Trash",
  "\\Junk",
  "\\Archive",
  "\\All",
  "\\Flagged",
]);

// ---------------------------------------------------------------- helpers

function account(ctx: WriteContext, email: string): Account {
  const r = ctx.sql.get(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE email = ?`).get(
    normalizeEmail(email).email,
  ) as Row | undefined;
  if (!r) throw new StoreError("not_found", `no such account: ${email}`);
  return toAccount(r);
}

function mailboxById(ctx: WriteContext, id: number): Mailbox {
  const r = ctx.sql.get(`SELECT ${MAILBOX_COLUMNS} FROM mailboxes m WHERE m.id = ?`).get(id) as
    | Row
    | undefined;
  if (!r) throw new StoreError("not_found", `no such mailbox: ${id}`);
  return toMailbox(r);
}

function mailboxByName(ctx: WriteContext, accountId: number, name: string): Mailbox | null {
  const r = ctx.sql.get(
    `SELECT ${MAILBOX_COLUMNS} FROM mailboxes m WHERE m.account_id = ? AND m.name = ?`,
  ).get(accountId, name) as Row | undefined;
  return r ? toMailbox(r) : null;
}

/**
 * A fresh UIDVALIDITY: seconds since the epoch, but always above every value handed out
 * before, so a mailbox deleted and recreated within a second still gets a new one
 * (RFC 9051 §2.3.1.1: a reused name with new UIDs must change UIDVALIDITY).
 */
function nextUidValidity(ctx: WriteContext): number {
  const last = (ctx.sql.get("SELECT value FROM meta WHERE key = 'uid_validity'").get() as
    | Row
    | undefined)?.value as number | undefined ?? 0;
  // UIDVALIDITY is a non-zero 32-bit number (RFC 9051 §9 nz-number).
  const next = Math.max(last + 1, Math.floor(ctx.now() / 1000)) % 0x1_0000_0000 || 1;
  ctx.sql.get("INSERT OR REPLACE INTO meta (key, value) VALUES ('uid_validity', ?)").run(next);
  return next;
}

function insertMailbox(
  ctx: WriteContext,
  accountId: number,
  name: string,
  specialUse: SpecialUse | null,
): Mailbox {
  if (specialUse !== null && !SPECIAL_USES.has(specialUse)) {
    throw new StoreError("invalid", `invalid special-use attribute: ${specialUse}`);
  }
  if (mailboxByName(ctx, accountId, name)) {
    throw new StoreError("exists", `mailbox already exists: ${name}`);
  }
  const { lastInsertRowid } = ctx.sql.get(
    "INSERT INTO mailboxes (account_id, name, uid_validity, special_use) VALUES (?, ?, ?, ?)",
  ).run(accountId, name, nextUidValidity(ctx), specialUse);
  return mailboxById(ctx, Number(lastInsertRowid));
}

function storeBlob(ctx: WriteContext, message: Uint8Array): number {
  const { lastInsertRowid } = ctx.sql.get("INSERT INTO blobs (size) VALUES (?)").run(
    message.byteLength,
  );
  ctx.sql.get("INSERT INTO blob_data (id, data) VALUES (?, ?)").run(lastInsertRowid, message);
  return Number(lastInsertRowid);
}

/** Throws StoreError "quota" when adding `adding` octets would exceed the account's quota. */
function checkQuota(ctx: WriteContext, accountId: number, adding: number): void {
  const r = ctx.sql.get("SELECT email, quota_bytes FROM accounts WHERE id = ?").get(accountId) as
    | Row
    | undefined;
  if (!r) throw new StoreError("not_found", `no such account: ${accountId}`);
  const quota = r.quota_bytes as number | null;
  if (quota === null) return;
  const { used } = ctx.sql.get(
    "SELECT coalesce(sum(size), 0) AS used FROM mailboxes WHERE account_id = ?",
  ).get(accountId) as { used: number };
  if (used + adding > quota) throw new StoreError("quota", `quota exceeded for ${r.email}`);
}

/**
 * Reserves `count` UIDs in a mailbox and a new modseq for the change (RFC 7162 §3.1: every
 * change raises HIGHESTMODSEQ). Returns the first UID and the modseq.
 */
function bumpMailbox(
  ctx: WriteContext,
  mailboxId: number,
  count: number,
): { firstUid: number; modseq: number; uidValidity: number } {
  const r = ctx.sql.get(
    `UPDATE mailboxes SET uid_next = uid_next + ?, highest_modseq = highest_modseq + 1
     WHERE id = ? RETURNING uid_next, highest_modseq, uid_validity`,
  ).get(count, mailboxId) as Row | undefined;
  if (!r) throw new StoreError("not_found", `no such mailbox: ${mailboxId}`);
  return {
    firstUid: (r.uid_next as number) - count,
    modseq: r.highest_modseq as number,
    uidValidity: r.uid_validity as number,
  };
}

function insertMessage(
  ctx: WriteContext,
  m: Omit<MessageMeta, "flags"> & { flags: string[] },
): void {
  ctx.sql.get(
    `INSERT INTO messages (mailbox_id, uid, modseq, flags, seen, deleted, internal_date, size,
       blob_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    m.mailboxId,
    m.uid,
    m.modseq,
    m.flags.join(" "),
    m.flags.includes("\\Seen") ? 1 : 0,
    m.flags.includes("\\Deleted") ? 1 : 0,
    m.internalDate,
    m.size,
    m.blobId,
  );
}

function selectMessages(ctx: WriteContext, mailboxId: number, uids: number[]): MessageMeta[] {
  return (ctx.sql.get(
    `SELECT ${MESSAGE_COLUMNS} FROM messages
     WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid`,
  ).all(mailboxId, JSON.stringify(uids)) as Row[]).map(toMessage);
}

function checkUids(uids: number[]): void {
  if (!Array.isArray(uids) || !uids.every((u) => Number.isSafeInteger(u) && u > 0)) {
    throw new StoreError("invalid", "UIDs must be positive integers");
  }
}

function mailboxChanged(ctx: WriteContext, accountId: number): void {
  ctx.changes.push({ kind: "mailbox", accountId });
}

// ---------------------------------------------------------------- domains

export function addDomain(ctx: WriteContext, a: { name: string }): void {
  const name = normalizeDomain(a.name);
  const r = ctx.sql.get("INSERT OR IGNORE INTO domains (name, created_at) VALUES (?, ?)").run(
    name,
    ctx.now(),
  );
  if (r.changes === 0) throw new StoreError("exists", `domain already exists: ${name}`);
}

export function removeDomain(ctx: WriteContext, a: { name: string }): void {
  const name = normalizeDomain(a.name);
  const used = ctx.sql.get("SELECT count(*) AS n FROM accounts WHERE domain = ?").get(name) as Row;
  if ((used.n as number) > 0) {
    throw new StoreError("in_use", `domain ${name} still has ${used.n} account(s)`);
  }
  const r = ctx.sql.get("DELETE FROM domains WHERE name = ?").run(name);
  if (r.changes === 0) throw new StoreError("not_found", `no such domain: ${name}`);
}

// ---------------------------------------------------------------- accounts

export function createAccount(
  ctx: WriteContext,
  a: { email: string; passwordHash: string },
): Account {
  const { email, domain } = normalizeEmail(a.email);
  if (typeof a.passwordHash !== "string") {
    throw new StoreError("invalid", "password hash must be a string");
  }
  const now = ctx.now();
  ctx.sql.get("INSERT OR IGNORE INTO domains (name, created_at) VALUES (?, ?)").run(domain, now);
  const r = ctx.sql.get(
    `INSERT OR IGNORE INTO accounts (email, domain, password_hash, created_at)
     VALUES (?, ?, ?, ?)`,
  ).run(email, domain, a.passwordHash, now);
  if (r.changes === 0) throw new StoreError("exists", `account already exists: ${email}`);
  const id = Number(r.lastInsertRowid);
  for (const [name, use] of DEFAULT_MAILBOXES) {
    insertMailbox(ctx, id, name, use);
    // Subscribed, so clients that show only subscribed folders show the defaults.
    ctx.sql.get("INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?, ?)").run(
      id,
      name,
    );
  }
  mailboxChanged(ctx, id);
  return { id, email, passwordHash: a.passwordHash, quotaBytes: null, createdAt: now };
}

export function setPasswordHash(
  ctx: WriteContext,
  a: { email: string; passwordHash: string },
): void {
  const acc = account(ctx, a.email);
  ctx.sql.get("UPDATE accounts SET password_hash = ? WHERE id = ?").run(a.passwordHash, acc.id);
}

export function removeAccount(ctx: WriteContext, a: { email: string }): void {
  const acc = account(ctx, a.email);
  // Cascades to mailboxes -> messages (blobs released by trigger), expunged, subscriptions.
  ctx.sql.get("DELETE FROM accounts WHERE id = ?").run(acc.id);
  mailboxChanged(ctx, acc.id);
}

export function setQuota(
  ctx: WriteContext,
  a: { email: string; quotaBytes: number | null },
): void {
  if (a.quotaBytes !== null && !(Number.isSafeInteger(a.quotaBytes) && a.quotaBytes >= 0)) {
    throw new StoreError("invalid", "quota must be a non-negative integer or null");
  }
  const acc = account(ctx, a.email);
  ctx.sql.get("UPDATE accounts SET quota_bytes = ? WHERE id = ?").run(a.quotaBytes, acc.id);
}

// ---------------------------------------------------------------- aliases

export function setAlias(ctx: WriteContext, a: { source: string; targets: string[] }): void {
  const source = normalizeAliasSource(a.source);
  if (!Array.isArray(a.targets) || a.targets.length === 0) {
    throw new StoreError("invalid", "an alias needs at least one target");
  }
  const targets = [...new Set(a.targets.map((t) => normalizeEmail(t).email))];
  ctx.sql.get("INSERT OR REPLACE INTO aliases (source, targets) VALUES (?, ?)").run(
    source,
    JSON.stringify(targets),
  );
}

export function removeAlias(ctx: WriteContext, a: { source: string }): void {
  const source = normalizeAliasSource(a.source);
  const r = ctx.sql.get("DELETE FROM aliases WHERE source = ?").run(source);
  if (r.changes === 0) throw new StoreError("not_found", `no such alias: ${source}`);
}

// ---------------------------------------------------------------- mailboxes

export function createMailbox(
  ctx: WriteContext,
  a: { accountId: number; name: string; specialUse?: SpecialUse | null },
): Mailbox {
  const name = normalizeMailboxName(a.name);
  const exists = ctx.sql.get("SELECT 1 AS x FROM accounts WHERE id = ?").get(a.accountId);
  if (!exists) throw new StoreError("not_found", `no such account: ${a.accountId}`);
  const mb = insertMailbox(ctx, a.accountId, name, a.specialUse ?? null);
  mailboxChanged(ctx, a.accountId);
  return mb;
}

/** RFC 9051 §6.3.5: INBOX cannot be deleted; inferior mailboxes are left alone. */
export function deleteMailbox(ctx: WriteContext, a: { mailboxId: number }): void {
  const mb = mailboxById(ctx, a.mailboxId);
  if (mb.name === "INBOX") throw new StoreError("invalid", "INBOX cannot be deleted");
  // Messages and expunge records cascade; blobs are released by trigger. Subscriptions
  // stay (RFC 9051 §6.3.9: the server must not remove them unilaterally).
  ctx.sql.get("DELETE FROM mailboxes WHERE id = ?").run(mb.id);
  mailboxChanged(ctx, mb.accountId);
}

/**
 * RFC 9051 §6.3.6. Renaming a mailbox renames its inferiors too. Renaming INBOX moves all
 * its messages into a new mailbox of that name and leaves INBOX empty (its inferiors stay).
 * Subscriptions of the renamed names follow them.
 */
export function renameMailbox(ctx: WriteContext, a: { mailboxId: number; newName: string }): void {
  const mb = mailboxById(ctx, a.mailboxId);
  const newName = normalizeMailboxName(a.newName);
  if (newName === mb.name) throw new StoreError("exists", `mailbox already exists: ${newName}`);

  if (mb.name === "INBOX") {
    renameInbox(ctx, mb, newName);
    mailboxChanged(ctx, mb.accountId);
    return;
  }
  if (newName === "INBOX" || newName.startsWith(mb.name + DELIMITER)) {
    throw new StoreError(
      newName === "INBOX" ? "exists" : "invalid",
      `cannot rename ${mb.name} to ${newName}`,
    );
  }
  // The mailbox and its inferiors: names in [name + "/", name + "0") ("0" follows "/").
  const family = ctx.sql.get(
    `SELECT id, name FROM mailboxes
     WHERE account_id = ? AND (id = ? OR (name > ? AND name < ?))`,
  ).all(mb.accountId, mb.id, mb.name + DELIMITER, mb.name + "0") as Row[];
  const renames = family.map((r) => ({
    id: r.id as number,
    from: r.name as string,
    to: newName + (r.name as string).slice(mb.name.length),
  }));
  const ids = new Set(renames.map((r) => r.id));
  for (const r of renames) {
    const other = mailboxByName(ctx, mb.accountId, r.to);
    if (other && !ids.has(other.id)) {
      throw new StoreError("exists", `mailbox already exists: ${r.to}`);
    }
  }
  // Two passes: a target name may be another member's current name (renaming "a/b" to "a"
  // turns "a/b/b" into "a/b"), and UNIQUE is checked row by row.
  const setName = ctx.sql.get("UPDATE mailboxes SET name = ? WHERE id = ?");
  for (const r of renames) setName.run(`\u0000rename\u0000${r.id}`, r.id);
  for (const r of renames) setName.run(r.to, r.id);
  const subscribed = ctx.sql.get(
    "DELETE FROM subscriptions WHERE account_id = ? AND name = ? RETURNING name",
  );
  const subscribe = ctx.sql.get(
    "INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?, ?)",
  );
  for (const r of renames) {
    if (subscribed.get(mb.accountId, r.from)) subscribe.run(mb.accountId, r.to);
  }
  mailboxChanged(ctx, mb.accountId);
}

function renameInbox(ctx: WriteContext, inbox: Mailbox, newName: string): void {
  const target = insertMailbox(ctx, inbox.accountId, newName, null);
  // The new mailbox has its own UIDVALIDITY, so the messages may keep their UIDs and
  // modseqs; its counters continue from INBOX's.
  ctx.sql.get("UPDATE mailboxes SET uid_next = ?, highest_modseq = ? WHERE id = ?").run(
    inbox.uidNext,
    inbox.highestModseq,
    target.id,
  );
  const moved = (ctx.sql.get(
    "UPDATE messages SET mailbox_id = ? WHERE mailbox_id = ? RETURNING uid",
  ).all(target.id, inbox.id) as Row[]).map((r) => r.uid as number).sort((x, y) => x - y);
  if (moved.length === 0) return;
  // INBOX keeps its UIDVALIDITY and UIDNEXT; the messages left it, so that is an expunge.
  const { modseq } = bumpMailbox(ctx, inbox.id, 0);
  recordExpunged(ctx, inbox.id, moved, modseq);
  ctx.changes.push({ kind: "expunge", mailboxId: inbox.id, uids: moved, highestModseq: modseq });
}

export function setSubscribed(
  ctx: WriteContext,
  a: { accountId: number; name: string; subscribed: boolean },
): void {
  const name = normalizeMailboxName(a.name);
  const exists = ctx.sql.get("SELECT 1 AS x FROM accounts WHERE id = ?").get(a.accountId);
  if (!exists) throw new StoreError("not_found", `no such account: ${a.accountId}`);
  if (a.subscribed) {
    ctx.sql.get("INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?, ?)").run(
      a.accountId,
      name,
    );
  } else {
    ctx.sql.get("DELETE FROM subscriptions WHERE account_id = ? AND name = ?").run(
      a.accountId,
      name,
    );
  }
  mailboxChanged(ctx, a.accountId);
}

// ---------------------------------------------------------------- messages

function checkMessage(message: Uint8Array): void {
  if (!(message instanceof Uint8Array)) {
    throw new StoreError("invalid", "message must be a Uint8Array");
  }
}

function internalDateOf(ctx: WriteContext, internalDate: number | undefined): number {
  if (internalDate === undefined) return ctx.now();
  if (!Number.isFinite(internalDate)) throw new StoreError("invalid", "invalid internal date");
  return Math.trunc(internalDate);
}

/** Stores the bytes once and places them in every target (missing mailbox -> INBOX). */
export function deliver(
  ctx: WriteContext,
  a: { message: Uint8Array; targets: DeliveryTarget[]; internalDate?: number },
): Placed[] {
  checkMessage(a.message);
  // A message stored for no one would be acknowledged and lost: the caller has a bug.
  if (!Array.isArray(a.targets) || a.targets.length === 0) {
    throw new StoreError("invalid", "a delivery needs at least one target");
  }
  const internalDate = internalDateOf(ctx, a.internalDate);
  const blobId = storeBlob(ctx, a.message);
  const placed: Placed[] = [];
  for (const t of a.targets) {
    let name = "INBOX";
    try {
      name = normalizeMailboxName(t.mailbox);
    } catch (e) {
      if (!(e instanceof StoreError)) throw e; // an invalid name falls back to INBOX too
    }
    const byName = ctx.sql.get("SELECT id FROM mailboxes WHERE account_id = ? AND name = ?");
    const mb = (byName.get(t.accountId, name) ?? byName.get(t.accountId, "INBOX")) as
      | { id: number }
      | undefined;
    if (!mb) throw new StoreError("not_found", `no such account: ${t.accountId}`);
    placed.push(place(ctx, mb.id, t.accountId, a.message.byteLength, blobId, {
      flags: normalizeFlags(t.flags ?? []),
      internalDate,
    }));
  }
  return placed;
}

function place(
  ctx: WriteContext,
  mailboxId: number,
  accountId: number,
  size: number,
  blobId: number,
  o: { flags: string[]; internalDate: number },
): Placed {
  checkQuota(ctx, accountId, size);
  const { firstUid: uid, modseq, uidValidity } = bumpMailbox(ctx, mailboxId, 1);
  insertMessage(ctx, {
    mailboxId,
    uid,
    modseq,
    flags: o.flags,
    internalDate: o.internalDate,
    size,
    blobId,
  });
  ctx.changes.push({ kind: "append", mailboxId, uids: [uid], highestModseq: modseq });
  return { accountId, mailboxId, uid, uidValidity };
}

export function append(
  ctx: WriteContext,
  a: { mailboxId: number; message: Uint8Array; flags?: string[]; internalDate?: number },
): Placed {
  checkMessage(a.message);
  const mb = mailboxById(ctx, a.mailboxId);
  const flags = normalizeFlags(a.flags ?? []);
  const internalDate = internalDateOf(ctx, a.internalDate);
  const blobId = storeBlob(ctx, a.message);
  return place(ctx, mb.id, mb.accountId, a.message.byteLength, blobId, { flags, internalDate });
}

/** IMAP STORE, with RFC 7162 §3.1.3 UNCHANGEDSINCE. One new modseq for the whole command. */
export function updateFlags(ctx: WriteContext, u: FlagUpdate): FlagUpdateResult {
  checkUids(u.uids);
  const flags = normalizeFlags(u.flags);
  mailboxById(ctx, u.mailboxId);
  const result: FlagUpdateResult = { changed: [], failed: [] };
  const updates: Array<{ m: MessageMeta; flags: string[] }> = [];
  for (const m of selectMessages(ctx, u.mailboxId, u.uids)) {
    if (u.unchangedSince !== undefined && m.modseq > u.unchangedSince) {
      result.failed.push(m.uid);
      continue;
    }
    const next = applyFlagOp(m.flags, u.op, flags);
    if (!sameFlags(next, m.flags)) updates.push({ m, flags: next });
  }
  if (updates.length === 0) return result;
  const { modseq } = bumpMailbox(ctx, u.mailboxId, 0);
  const stmt = ctx.sql.get(
    "UPDATE messages SET flags = ?, seen = ?, deleted = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?",
  );
  for (const { m, flags } of updates) {
    stmt.run(
      flags.join(" "),
      flags.includes("\\Seen") ? 1 : 0,
      flags.includes("\\Deleted") ? 1 : 0,
      modseq,
      u.mailboxId,
      m.uid,
    );
    result.changed.push({ ...m, flags, modseq });
  }
  ctx.changes.push({
    kind: "flags",
    mailboxId: u.mailboxId,
    uids: result.changed.map((m) => m.uid),
    highestModseq: modseq,
  });
  return result;
}

function recordExpunged(ctx: WriteContext, mailboxId: number, uids: number[], modseq: number) {
  const stmt = ctx.sql.get(
    "INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)",
  );
  for (const uid of uids) stmt.run(mailboxId, uid, modseq);
}

function removeMessages(ctx: WriteContext, mailboxId: number, uids: number[]): number[] {
  const removed = (ctx.sql.get(
    `DELETE FROM messages WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?))
     RETURNING uid`,
  ).all(mailboxId, JSON.stringify(uids)) as Row[]).map((r) => r.uid as number)
    .sort((x, y) => x - y);
  if (removed.length === 0) return removed;
  // RFC 7162 §3.2.10: expunges get a modseq too, for VANISHED (EARLIER).
  const { modseq } = bumpMailbox(ctx, mailboxId, 0);
  recordExpunged(ctx, mailboxId, removed, modseq);
  ctx.changes.push({ kind: "expunge", mailboxId, uids: removed, highestModseq: modseq });
  return removed;
}

export function expunge(ctx: WriteContext, a: { mailboxId: number; uids: number[] }): number[] {
  checkUids(a.uids);
  mailboxById(ctx, a.mailboxId);
  return removeMessages(ctx, a.mailboxId, a.uids);
}

/** RFC 4315 COPYUID: [source UID, destination UID] pairs in source UID order. */
export function copyMessages(
  ctx: WriteContext,
  a: { fromMailboxId: number; uids: number[]; toMailboxId: number },
): Array<[number, number]> {
  checkUids(a.uids);
  mailboxById(ctx, a.fromMailboxId);
  const to = mailboxById(ctx, a.toMailboxId);
  const sources = selectMessages(ctx, a.fromMailboxId, a.uids);
  if (sources.length === 0) return [];
  checkQuota(ctx, to.accountId, sources.reduce((n, m) => n + m.size, 0));
  const { firstUid, modseq } = bumpMailbox(ctx, to.id, sources.length);
  const pairs: Array<[number, number]> = [];
  sources.forEach((m, i) => {
    const uid = firstUid + i;
    insertMessage(ctx, { ...m, mailboxId: to.id, uid, modseq });
    pairs.push([m.uid, uid]);
  });
  ctx.changes.push({
    kind: "append",
    mailboxId: to.id,
    uids: pairs.map((p) => p[1]),
    highestModseq: modseq,
  });
  return pairs;
}

/** RFC 6851 MOVE: copy and expunge in the same transaction. */
export function moveMessages(
  ctx: WriteContext,
  a: { fromMailboxId: number; uids: number[]; toMailboxId: number },
): Array<[number, number]> {
  const pairs = copyMessages(ctx, a);
  if (pairs.length > 0) removeMessages(ctx, a.fromMailboxId, pairs.map((p) => p[0]));
  return pairs;
}

// ---------------------------------------------------------------- queue

type NewQueueEntry = Omit<QueueEntry, "id" | "blobId" | "attempts" | "lastError" | "createdAt">;

export function enqueue(
  ctx: WriteContext,
  a: { message: Uint8Array; entry: NewQueueEntry },
): QueueEntry {
  checkMessage(a.message);
  const e = a.entry;
  if (typeof e.sender !== "string" || !Array.isArray(e.recipients)) {
    throw new StoreError("invalid", "queue entry needs a sender and recipients");
  }
  if (e.recipients.length === 0) {
    throw new StoreError("invalid", "a queue entry needs at least one recipient");
  }
  const blobId = storeBlob(ctx, a.message);
  const r = ctx.sql.get(
    `INSERT INTO queue (blob_id, sender, recipients, created_at, next_attempt_at, meta)
     VALUES (?, ?, ?, ?, ?, ?) RETURNING ${QUEUE_COLUMNS}`,
  ).get(
    blobId,
    e.sender,
    JSON.stringify(e.recipients),
    ctx.now(),
    Math.trunc(e.nextAttemptAt),
    JSON.stringify(e.meta ?? {}),
  ) as Row;
  return toQueueEntry(r);
}

export function updateQueueEntry(
  ctx: WriteContext,
  a: { id: number; patch: Partial<Omit<QueueEntry, "id" | "blobId" | "createdAt">> },
): void {
  const p = a.patch;
  const sets: string[] = [];
  const values: Array<string | number | null> = [];
  const set = (column: string, value: string | number | null) => {
    sets.push(`${column} = ?`);
    values.push(value);
  };
  if (p.sender !== undefined) set("sender", p.sender);
  if (p.recipients !== undefined) set("recipients", JSON.stringify(p.recipients));
  if (p.nextAttemptAt !== undefined) set("next_attempt_at", Math.trunc(p.nextAttemptAt));
  if (p.attempts !== undefined) set("attempts", p.attempts);
  if (p.lastError !== undefined) set("last_error", p.lastError);
  if (p.meta !== undefined) set("meta", JSON.stringify(p.meta));
  if (sets.length === 0) {
    if (!ctx.sql.get("SELECT 1 AS x FROM queue WHERE id = ?").get(a.id)) {
      throw new StoreError("not_found", `no such queue entry: ${a.id}`);
    }
    return;
  }
  // Only the columns named in the patch (a handful of shapes, so the statement cache stays small).
  const r = ctx.sql.get(`UPDATE queue SET ${sets.join(", ")} WHERE id = ?`).run(...values, a.id);
  if (r.changes === 0) throw new StoreError("not_found", `no such queue entry: ${a.id}`);
}

export function removeQueueEntry(ctx: WriteContext, a: { id: number }): void {
  const r = ctx.sql.get("DELETE FROM queue WHERE id = ?").run(a.id);
  if (r.changes === 0) throw new StoreError("not_found", `no such queue entry: ${a.id}`);
}

// ---------------------------------------------------------------- kv

/** Drops a few expired keys on each kv write, so expired keys do not pile up. */
function purgeExpired(ctx: WriteContext, now: number): void {
  purgedRows(
    ctx.sql,
    ctx.sql.get(
      `DELETE FROM kv WHERE (ns, key) IN
         (SELECT ns, key FROM kv WHERE expires_at <= ? ORDER BY expires_at LIMIT 64)
       RETURNING ns, length(CAST(key AS BLOB)) + length(CAST(value AS BLOB)) AS b`,
    ).all(now) as Array<{ ns: string; b: number }>,
  );
}

/**
 * Replaces the row `ns/key` by one of `size` bytes, within `quota` when one is given
 * (kv_quota.ts): the refusal, or null when written by `write`.
 */
function kvPut(
  ctx: WriteContext,
  ns: string,
  key: string,
  size: number,
  quota: KvQuota | undefined,
  now: number,
  write: () => void,
): KvRefusal | null {
  const old = rowSize(ctx.sql, ns, key);
  const keys = old === null ? 1 : 0;
  const bytes = size - (old ?? 0);
  if (quota) {
    const refused = checkKvQuota(ctx.sql, ns, keys, bytes, quota, now);
    if (refused) return { refused };
  }
  write();
  adjustUsage(ctx.sql, ns, keys, bytes);
  return null;
}

function expiry(now: number, ttlMs: number | undefined): number | null {
  if (ttlMs === undefined || ttlMs === null) return null;
  if (!Number.isFinite(ttlMs)) throw new StoreError("invalid", "ttlMs must be a number");
  return now + Math.max(0, Math.trunc(ttlMs));
}

export function kvSet(
  ctx: WriteContext,
  a: { ns: string; key: string; value: string; ttlMs?: number; quota?: KvQuota },
): KvRefusal | null {
  const now = ctx.now();
  purgeExpired(ctx, now);
  const value = String(a.value);
  const size = utf8Length(a.key) + utf8Length(value);
  return kvPut(
    ctx,
    a.ns,
    a.key,
    size,
    a.quota,
    now,
    () =>
      ctx.sql.get("INSERT OR REPLACE INTO kv (ns, key, value, expires_at) VALUES (?, ?, ?, ?)").run(
        a.ns,
        a.key,
        value,
        expiry(now, a.ttlMs),
      ),
  );
}

export function kvDelete(ctx: WriteContext, a: { ns: string; key: string }): void {
  const old = rowSize(ctx.sql, a.ns, a.key);
  if (old === null) return;
  ctx.sql.get("DELETE FROM kv WHERE ns = ? AND key = ?").run(a.ns, a.key);
  adjustUsage(ctx.sql, a.ns, -1, -old);
}

/**
 * Adds `by` to an integer value (missing or expired = 0). `ttlMs` applies when the key is
 * created; an existing key keeps its expiry (a fixed window, as rate limits want).
 */
export function kvIncr(
  ctx: WriteContext,
  a: { ns: string; key: string; by: number; ttlMs?: number; quota?: KvQuota },
): number | KvRefusal {
  if (!Number.isSafeInteger(a.by)) throw new StoreError("invalid", "kvIncr: by must be an integer");
  const now = ctx.now();
  purgeExpired(ctx, now);
  const r = ctx.sql.get(
    "SELECT value, expires_at FROM kv WHERE ns = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)",
  ).get(a.ns, a.key, now) as Row | undefined;
  let current = 0;
  let expiresAt = expiry(now, a.ttlMs);
  if (r) {
    current = Number(r.value);
    if (!Number.isSafeInteger(current)) {
      throw new StoreError("invalid", `kv ${a.ns}/${a.key} does not hold an integer`);
    }
    expiresAt = r.expires_at as number | null;
  }
  const value = String(current + a.by);
  const refused = kvPut(
    ctx,
    a.ns,
    a.key,
    utf8Length(a.key) + value.length,
    a.quota,
    now,
    () =>
      ctx.sql.get("INSERT OR REPLACE INTO kv (ns, key, value, expires_at) VALUES (?, ?, ?, ?)").run(
        a.ns,
        a.key,
        value,
        expiresAt,
      ),
  );
  return refused ?? current + a.by;
}

/** Every write operation by name: what the batch runner dispatches on. */
export const WRITES = {
  addDomain,
  removeDomain,
  createAccount,
  setPasswordHash,
  removeAccount,
  setQuota,
  setAlias,
  removeAlias,
  createMailbox,
  deleteMailbox,
  renameMailbox,
  setSubscribed,
  deliver,
  append,
  updateFlags,
  expunge,
  copyMessages,
  moveMessages,
  enqueue,
  updateQueueEntry,
  removeQueueEntry,
  kvSet,
  kvDelete,
  kvIncr,
  indexPending, // fts.ts: the full-text index's background step
  ...TOKEN_WRITES, // tokens.ts: JMAP bearer tokens
  ...UPLOAD_WRITES, // uploads.ts: JMAP uploads
} as const;

/** The name of a write operation. */
export type WriteOp = keyof typeof WRITES;
/** The argument object of a write operation. */
export type WriteArgs<K extends WriteOp> = Parameters<(typeof WRITES)[K]>[1];
/** The result of a write operation. */
export type WriteResult<K extends WriteOp> = ReturnType<(typeof WRITES)[K]>;
