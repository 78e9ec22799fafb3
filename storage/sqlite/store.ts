/**
 * The SQLite Store: reads on the calling thread through a read-only connection, writes
 * through the group-committing writer (a Worker by default, inline on request).
 *
 * Invariants:
 * - A write's promise resolves only after its transaction committed with
 *   `synchronous = FULL`; its change events have been dispatched by then.
 * - Message bytes are read when the write's batch is sent (at the end of this tick, or after
 *   the batch before it commits), not when `deliver`/`append`/`enqueue` is called: do not
 *   change a message's buffer before its write resolves. The caller's buffer is never
 *   detached.
 * - Every read is one autocommit statement, so it sees one committed snapshot, and a read
 *   issued after a write resolved sees that write.
 *
 * @module
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { MemoryLeases } from "../memory_leases.ts";
import {
  type Account,
  type Alias,
  type ApiToken,
  type AuditEntry,
  type ChangeKind,
  type ChangeRecord,
  type DeliveryTarget,
  type Domain,
  type EmailCopy,
  type FlagUpdate,
  type FlagUpdateResult,
  type KvQuota,
  type Mailbox,
  type MailboxChange,
  type MailboxPageQuery,
  type MailboxStatus,
  type MessageMeta,
  type Placed,
  type PruneResult,
  type QueueEntry,
  type QueueLease,
  type RetentionLimits,
  type SpecialUse,
  type Store,
  StoreError,
  type TextQuery,
  type Upload,
} from "../mod.ts";
import {
  ACCOUNT_COLUMNS,
  MAILBOX_COLUMNS,
  type Row,
  Statements,
  toAccount,
  toMailbox,
} from "./rows.ts";
import { CANDIDATES_SQL, matchExpression } from "./fts.ts";
import { throwIfRefused } from "./kv_quota.ts";
import * as messageReads from "./reads/messages.ts";
import * as kvReads from "./reads/kv.ts";
import * as accountReads from "./reads/accounts.ts";
import * as jmapReads from "./reads/jmap.ts";
import * as mailboxReads from "./reads/mailboxes.ts";
import * as queueReads from "./reads/queue.ts";
import * as threads from "./threads.ts";
import * as retention from "./retention.ts";
import { openReadDatabase } from "./schema.ts";
import { InlineBackend, WorkerBackend, Writer, type WriterBackend } from "./writer.ts";
import type { WriteArgs, WriteOp, WriteResult } from "./writes.ts";
import { INDEX_STEP, Indexer } from "./indexer.ts";

/** Options of `openSqliteStore`. */
export interface SqliteStoreOptions {
  /**
   * Run writes synchronously on this thread instead of in the writer worker. For the CLI
   * and short-lived uses: simpler, but each commit's fsync blocks the event loop.
   */
  inlineWrites?: boolean;
  /** SQLite busy timeout for both connections, ms (default 10 s). */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating and migrating if needed) the SQLite database at `path`.
 * The folder is created if missing.
 */
export async function openSqliteStore(
  path: string,
  opts: SqliteStoreOptions = {},
): Promise<SqliteStore> {
  mkdirSync(dirname(path), { recursive: true });
  let backend: WriterBackend;
  if (opts.inlineWrites) {
    backend = new InlineBackend(path, opts.busyTimeoutMs);
  } else {
    backend = await WorkerBackend.open(path, opts.busyTimeoutMs);
  }
  // The reader opens after the writer created and migrated the schema.
  try {
    return new SqliteStore(backend, openReadDatabase(path, opts.busyTimeoutMs));
  } catch (e) {
    await backend.close();
    throw e;
  }
}

/** The SQLite implementation of `Store`. Create it with `openSqliteStore`. */
export class SqliteStore implements Store {
  readonly changes: EventTarget = new EventTarget();
  #writer: Writer;
  #indexer: Indexer;
  #read: Statements;
  #closed = false;
  /** Queue claims (`queue:ID`) and other named leases (claimQueue, tryLease). */
  #leases = new MemoryLeases();

  /** Use `openSqliteStore`. */
  constructor(backend: WriterBackend, reader: DatabaseSync) {
    this.#read = new Statements(reader);
    this.#writer = new Writer(backend, (changes) => this.#publish(changes));
    // The full-text index's background loop (indexer.ts).
    this.#indexer = new Indexer({
      closed: () => this.#closed,
      batches: () => this.#writer.batches,
      submitted: () => this.#writer.submitted,
      step: () => this.#write("indexPending", INDEX_STEP),
    });
    // Mail stored before the index existed (or before a restart) is indexed now.
    this.#indexer.schedule();
  }

  /** Write transactions committed so far (tests and benchmarks watch the batching). */
  get commitCount(): number {
    return this.#writer.commits;
  }

  /** Batches handed to the writer so far. */
  get batchCount(): number {
    return this.#writer.batches;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#indexer.running;
    await this.#writer.close();
    this.#read.db.close();
  }

  #publish(changes: MailboxChange[]): void {
    for (const detail of changes) {
      this.changes.dispatchEvent(new CustomEvent("change", { detail }));
    }
    if (changes.some((c) => c.kind === "append")) this.#indexer.schedule();
  }

  /** Resolves once every stored message is in the full-text index. */
  async flushTextIndex(): Promise<void> {
    // Steps of its own, not the background loop's (which waits for a quiet writer). Steps
    // never overlap: the writer runs them one after the other.
    while (!this.#closed) {
      if (await this.#write("indexPending", { max: 2000, budgetMs: 500 }) === 0) return;
    }
  }

  // deno-lint-ignore require-await
  async textIndexBacklog(): Promise<number> {
    return this.#get("SELECT count(*) AS n FROM fts_pending")!.n as number;
  }

  /** Candidate UIDs for a full-text query (see fts.ts); null when it is too short. */
  // deno-lint-ignore require-await
  async searchText(mailboxId: number, query: TextQuery): Promise<number[] | null> {
    if (this.#closed) throw new Error("store is closed");
    const match = matchExpression(query);
    if (match === null) return null;
    const stmt = this.#read.get(CANDIDATES_SQL[query.part]);
    (stmt as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
    const params = query.part === "text" ? [mailboxId, match, match] : [mailboxId, match];
    const rows = stmt.all(...params) as unknown as Array<[number]>;
    const out: number[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = rows[i][0];
    return out;
  }

  #write<K extends WriteOp>(op: K, args: WriteArgs<K>): Promise<WriteResult<K>> {
    return this.#writer.submit(op, args);
  }

  /**
   * A write that carries message bytes. For the worker they are copied once, when the batch
   * is sent, into a fresh buffer that is then transferred (moved, not cloned); the caller's
   * array stays usable.
   */
  #writeBytes<K extends "deliver" | "append" | "enqueue">(
    op: K,
    message: Uint8Array,
    args: (bytes: Uint8Array) => WriteArgs<K>,
  ): Promise<WriteResult<K>> {
    if (!(message instanceof Uint8Array)) {
      return Promise.reject(new StoreError("invalid", "message must be a Uint8Array"));
    }
    return this.#writer.submit(op, args(message), {
      bytes: message.byteLength,
      forTransfer: () => {
        const copy = message.slice();
        return { args: args(copy), transfer: [copy.buffer] };
      },
    });
  }

  /** The reader connection's statements; throws once the store is closed. */
  #reader(): Statements {
    if (this.#closed) throw new Error("store is closed");
    return this.#read;
  }

  #get(sql: string, ...params: Array<string | number | null>): Row | undefined {
    if (this.#closed) throw new Error("store is closed");
    return this.#read.get(sql).get(...params) as Row | undefined;
  }

  #all(sql: string, ...params: Array<string | number | null>): Row[] {
    if (this.#closed) throw new Error("store is closed");
    return this.#read.get(sql).all(...params) as Row[];
  }

  // Reads are synchronous; `async` turns a thrown error into a rejected promise.

  // --- domains ---

  addDomain(name: string): Promise<void> {
    return this.#write("addDomain", { name });
  }

  removeDomain(name: string): Promise<void> {
    return this.#write("removeDomain", { name });
  }

  // deno-lint-ignore require-await
  async listDomains(): Promise<Domain[]> {
    return this.#all("SELECT name, created_at FROM domains ORDER BY name").map((r) => ({
      name: r.name as string,
      createdAt: r.created_at as number,
    }));
  }

  // deno-lint-ignore require-await
  async hasDomain(name: string): Promise<boolean> {
    return accountReads.hasDomain(this.#reader(), name);
  }

  // --- accounts ---

  createAccount(email: string, passwordHash: string): Promise<Account> {
    return this.#write("createAccount", { email, passwordHash });
  }

  setPasswordHash(email: string, passwordHash: string): Promise<void> {
    return this.#write("setPasswordHash", { email, passwordHash });
  }

  removeAccount(email: string): Promise<void> {
    return this.#write("removeAccount", { email });
  }

  // deno-lint-ignore require-await
  async getAccount(email: string): Promise<Account | null> {
    return accountReads.getAccount(this.#reader(), email);
  }

  // deno-lint-ignore require-await
  async getAccountById(id: number): Promise<Account | null> {
    const r = this.#get(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = ?`, id);
    return r ? toAccount(r) : null;
  }

  // deno-lint-ignore require-await
  async listAccounts(): Promise<Account[]> {
    return this.#all(`SELECT ${ACCOUNT_COLUMNS} FROM accounts ORDER BY email`).map(toAccount);
  }

  setQuota(email: string, quotaBytes: number | null): Promise<void> {
    return this.#write("setQuota", { email, quotaBytes });
  }

  // --- admin role and audit log (admin.ts) ---

  setAdmin(email: string, admin: boolean): Promise<void> {
    return this.#write("setAdmin", { email, admin });
  }

  // deno-lint-ignore require-await
  async isAdmin(accountId: number): Promise<boolean> {
    return accountReads.isAdmin(this.#reader(), accountId);
  }

  // deno-lint-ignore require-await
  async listAdmins(): Promise<string[]> {
    return accountReads.listAdmins(this.#reader());
  }

  addAuditEntry(entry: Omit<AuditEntry, "id" | "at">): Promise<AuditEntry> {
    return this.#write("addAuditEntry", entry);
  }

  // deno-lint-ignore require-await
  async listAudit(opts: { limit: number; before?: number }): Promise<AuditEntry[]> {
    return accountReads.listAudit(this.#reader(), opts);
  }

  // --- aliases ---

  setAlias(source: string, targets: string[]): Promise<void> {
    return this.#write("setAlias", { source, targets });
  }

  removeAlias(source: string): Promise<void> {
    return this.#write("removeAlias", { source });
  }

  // deno-lint-ignore require-await
  async getAlias(source: string): Promise<string[] | null> {
    return accountReads.getAlias(this.#reader(), source);
  }

  // deno-lint-ignore require-await
  async listAliases(): Promise<Alias[]> {
    return accountReads.listAliases(this.#reader());
  }

  // --- mailboxes ---

  // deno-lint-ignore require-await
  async listMailboxes(accountId: number): Promise<Mailbox[]> {
    return this.#all(
      `SELECT ${MAILBOX_COLUMNS} FROM mailboxes m WHERE m.account_id = ? ORDER BY m.name`,
      accountId,
    ).map(toMailbox);
  }

  // deno-lint-ignore require-await
  async getMailbox(accountId: number, name: string): Promise<Mailbox | null> {
    return mailboxReads.getMailbox(this.#reader(), accountId, name);
  }

  // deno-lint-ignore require-await
  async getMailboxById(mailboxId: number): Promise<Mailbox | null> {
    const r = this.#get(`SELECT ${MAILBOX_COLUMNS} FROM mailboxes m WHERE m.id = ?`, mailboxId);
    return r ? toMailbox(r) : null;
  }

  createMailbox(
    accountId: number,
    name: string,
    specialUse: SpecialUse | null = null,
  ): Promise<Mailbox> {
    return this.#write("createMailbox", { accountId, name, specialUse });
  }

  deleteMailbox(mailboxId: number): Promise<void> {
    return this.#write("deleteMailbox", { mailboxId });
  }

  renameMailbox(mailboxId: number, newName: string): Promise<void> {
    return this.#write("renameMailbox", { mailboxId, newName });
  }

  setSpecialUse(mailboxId: number, specialUse: SpecialUse | null): Promise<void> {
    return this.#write("setSpecialUse", { mailboxId, specialUse });
  }

  setSubscribed(accountId: number, name: string, subscribed: boolean): Promise<void> {
    return this.#write("setSubscribed", { accountId, name, subscribed });
  }

  // deno-lint-ignore require-await
  async listSubscriptions(accountId: number): Promise<string[]> {
    return this.#all(
      "SELECT name FROM subscriptions WHERE account_id = ? ORDER BY name",
      accountId,
    ).map((r) => r.name as string);
  }

  // deno-lint-ignore require-await
  async mailboxStatus(mailboxId: number): Promise<MailboxStatus> {
    return mailboxReads.mailboxStatus(this.#reader(), mailboxId);
  }

  // deno-lint-ignore require-await
  async accountUsage(accountId: number): Promise<number> {
    return mailboxReads.accountUsage(this.#reader(), accountId);
  }

  // --- messages ---

  deliver(
    message: Uint8Array,
    targets: DeliveryTarget[],
    opts: { internalDate?: number } = {},
  ): Promise<Placed[]> {
    return this.#writeBytes("deliver", message, (bytes) => ({
      message: bytes,
      targets,
      internalDate: opts.internalDate,
    }));
  }

  append(
    mailboxId: number,
    message: Uint8Array,
    opts: { flags?: string[]; internalDate?: number } = {},
  ): Promise<Placed> {
    return this.#writeBytes("append", message, (bytes) => ({
      mailboxId,
      message: bytes,
      flags: opts.flags,
      internalDate: opts.internalDate,
    }));
  }

  // deno-lint-ignore require-await
  async listMessages(mailboxId: number): Promise<MessageMeta[]> {
    return messageReads.listMessages(this.#reader(), mailboxId);
  }

  // deno-lint-ignore require-await
  async getMessages(mailboxId: number, uids: number[]): Promise<MessageMeta[]> {
    return messageReads.getMessages(this.#reader(), mailboxId, uids);
  }

  // deno-lint-ignore require-await
  async changedSince(mailboxId: number, modseq: number): Promise<MessageMeta[]> {
    return messageReads.changedSince(this.#reader(), mailboxId, modseq);
  }

  // deno-lint-ignore require-await
  async expungedSince(mailboxId: number, modseq: number): Promise<number[]> {
    return retention.expungedSince(this.#reader(), mailboxId, modseq);
  }

  // deno-lint-ignore require-await
  async readBlob(blobId: number): Promise<Uint8Array> {
    return messageReads.readBlob(this.#reader(), blobId);
  }

  // deno-lint-ignore require-await
  async readBlobRange(blobId: number, offset: number, length: number): Promise<Uint8Array> {
    return messageReads.readBlobRange(this.#reader(), blobId, offset, length);
  }

  updateFlags(update: FlagUpdate): Promise<FlagUpdateResult> {
    return this.#write("updateFlags", update);
  }

  expunge(mailboxId: number, uids: number[]): Promise<number[]> {
    return this.#write("expunge", { mailboxId, uids });
  }

  copyMessages(
    fromMailboxId: number,
    uids: number[],
    toMailboxId: number,
  ): Promise<Array<[number, number]>> {
    return this.#write("copyMessages", { fromMailboxId, uids, toMailboxId });
  }

  moveMessages(
    fromMailboxId: number,
    uids: number[],
    toMailboxId: number,
  ): Promise<Array<[number, number]>> {
    return this.#write("moveMessages", { fromMailboxId, uids, toMailboxId });
  }

  // --- outbound queue ---

  enqueue(
    message: Uint8Array,
    entry: Omit<QueueEntry, "id" | "blobId" | "attempts" | "lastError" | "createdAt">,
  ): Promise<QueueEntry> {
    return this.#writeBytes("enqueue", message, (bytes) => ({ message: bytes, entry }));
  }

  // deno-lint-ignore require-await
  async listQueue(): Promise<QueueEntry[]> {
    return queueReads.listQueue(this.#reader());
  }

  // deno-lint-ignore require-await
  async dueQueue(now: number, limit: number): Promise<QueueEntry[]> {
    return queueReads.dueQueue(this.#reader(), now, limit);
  }

  /** Queue claims and named leases live in memory: one process owns a SQLite data dir. */
  claimQueue(now: number, limit: number, lease: QueueLease): Promise<QueueEntry[]> {
    return this.#leases.claimQueue((n) => this.dueQueue(now, n), now, limit, lease);
  }

  renewQueueLeases(ids: number[], now: number, lease: QueueLease): Promise<void> {
    return this.renewLeases(ids.map((id) => `queue:${id}`), lease.node, now + lease.ms);
  }

  tryLease(name: string, holder: string, now: number, until: number): Promise<boolean> {
    if (this.#closed) return Promise.reject(new Error("store is closed"));
    return Promise.resolve(this.#leases.tryLease(name, holder, now, until));
  }

  renewLeases(names: string[], holder: string, until: number): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("store is closed"));
    this.#leases.renew(names, holder, until);
    return Promise.resolve();
  }

  releaseLease(name: string, holder: string): Promise<void> {
    this.#leases.release(name, holder);
    return Promise.resolve();
  }

  // deno-lint-ignore require-await
  async getQueueEntry(id: number): Promise<QueueEntry | null> {
    return queueReads.getQueueEntry(this.#reader(), id);
  }

  async updateQueueEntry(
    id: number,
    patch: Partial<Omit<QueueEntry, "id" | "blobId" | "createdAt">>,
  ): Promise<void> {
    await this.#write("updateQueueEntry", { id, patch });
    // A new schedule ends any claim (see Store.claimQueue).
    if (patch.nextAttemptAt !== undefined) this.#leases.endClaim(id);
  }

  async removeQueueEntry(id: number): Promise<void> {
    await this.#write("removeQueueEntry", { id });
    this.#leases.endClaim(id);
  }

  // --- the change log (change_log.ts) ---

  // deno-lint-ignore require-await
  async changeLogHead(accountId: number, kind: ChangeKind): Promise<number> {
    return jmapReads.changeLogHead(this.#reader(), accountId, kind);
  }

  // deno-lint-ignore require-await
  async changeLogSince(
    accountId: number,
    kind: ChangeKind,
    after: number,
    limit: number,
  ): Promise<ChangeRecord[]> {
    return jmapReads.changeLogSince(this.#reader(), accountId, kind, after, limit);
  }

  // --- JMAP Emails and Threads (threads.ts) ---
  // deno-lint-ignore require-await
  async emailCopies(accountId: number, blobIds: number[]): Promise<EmailCopy[]> {
    return threads.emailCopies(this.#reader(), accountId, blobIds);
  }

  // deno-lint-ignore require-await
  async threadCopies(accountId: number, threadIds: number[]): Promise<EmailCopy[]> {
    return threads.threadCopies(this.#reader(), accountId, threadIds);
  }

  // deno-lint-ignore require-await
  async accountCopies(accountId: number): Promise<EmailCopy[]> {
    return threads.accountCopies(this.#reader(), accountId);
  }

  // deno-lint-ignore require-await
  async mailboxPage(q: MailboxPageQuery): Promise<{ blobIds: number[]; total: number | null }> {
    return threads.mailboxPage(this.#reader(), q);
  }

  // --- JMAP bearer tokens (tokens.ts) and uploads (uploads.ts) ---

  createApiToken(accountId: number, name: string, tokenHash: string): Promise<ApiToken> {
    return this.#write("createApiToken", { accountId, name, tokenHash });
  }

  // deno-lint-ignore require-await
  async findApiToken(tokenHash: string): Promise<ApiToken | null> {
    return jmapReads.findApiToken(this.#reader(), tokenHash);
  }

  // deno-lint-ignore require-await
  async listApiTokens(accountId: number): Promise<ApiToken[]> {
    return jmapReads.listApiTokens(this.#reader(), accountId);
  }

  revokeApiToken(id: number): Promise<boolean> {
    return this.#write("revokeApiToken", { id });
  }

  // deno-lint-ignore require-await
  async getJmapRecord(accountId: number, type: string): Promise<string | null> {
    return jmapReads.getJmapRecord(this.#reader(), accountId, type);
  }

  putJmapRecord(accountId: number, type: string, doc: string): Promise<void> {
    return this.#write("putJmapRecord", { accountId, type, doc });
  }

  storeUpload(
    accountId: number,
    data: Uint8Array,
    opts: { type: string; maxAccountBytes: number },
  ): Promise<Upload> {
    return this.#write("storeUpload", { accountId, data, ...opts });
  }

  // deno-lint-ignore require-await
  async readUpload(
    accountId: number,
    id: number,
  ): Promise<{ upload: Upload; data: Uint8Array } | null> {
    return jmapReads.readUpload(this.#reader(), accountId, id);
  }

  pruneHistory(limits: RetentionLimits): Promise<PruneResult> {
    return this.#write("pruneHistory", limits);
  }

  // deno-lint-ignore require-await
  async changeLogFloor(accountId: number): Promise<number> {
    return retention.changeLogFloor(this.#reader(), accountId);
  }

  expireUploads(before: number): Promise<number> {
    return this.#write("expireUploads", { before });
  }

  // --- plugin kv ---

  // deno-lint-ignore require-await
  async kvGet(ns: string, key: string): Promise<string | null> {
    return kvReads.kvGet(this.#reader(), ns, key, Date.now());
  }

  // deno-lint-ignore require-await
  async kvGetMany(ns: string, keys: string[]): Promise<(string | null)[]> {
    return kvReads.kvGetMany(this.#reader(), ns, keys, Date.now());
  }

  async kvSet(
    ns: string,
    key: string,
    value: string,
    ttlMs?: number,
    quota?: KvQuota,
  ): Promise<void> {
    throwIfRefused(await this.#write("kvSet", { ns, key, value, ttlMs, quota }));
  }

  kvDelete(ns: string, key: string): Promise<void> {
    return this.#write("kvDelete", { ns, key });
  }

  async kvIncr(
    ns: string,
    key: string,
    by: number,
    ttlMs?: number,
    quota?: KvQuota,
  ): Promise<number> {
    return throwIfRefused(await this.#write("kvIncr", { ns, key, by, ttlMs, quota }));
  }

  /** In one transaction (Store.kvIncrMany). */
  kvIncrMany: Store["kvIncrMany"] = (ns, entries, ttlMs, quota) =>
    this.#write("kvIncrMany", { ns, entries, ttlMs, quota });
}
