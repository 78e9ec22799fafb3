/**
 * The PostgreSQL Store: every read is one statement on the pool (one committed snapshot);
 * every write is one transaction of its own (`writes/`), committed before its promise
 * resolves, its change events dispatched after the COMMIT and before it resolves.
 *
 * Invariants (those of `../mod.ts`, on one database shared by any number of Store instances
 * and nodes):
 * - A write resolves only after COMMIT returned (PostgreSQL's `synchronous_commit = on`:
 *   the commit is flushed to the write-ahead log).
 * - UIDs and modseqs are handed out under the mailbox's row lock, held until COMMIT: they
 *   commit in increasing order and are never handed out twice, whichever node writes.
 * - A write that loses a deadlock or a serialisation race is retried whole (its changes are
 *   recorded afresh each attempt), up to `MAX_ATTEMPTS`.
 * - Change events reach this instance's listeners after COMMIT, and every other instance
 *   on the database through LISTEN/NOTIFY (change_bus.ts): the notification is sent in the
 *   write's transaction, so it is delivered only if the write committed.
 * - Concurrent plain deliveries share one transaction (delivery_batch.ts); other writes run
 *   concurrently up to the pool size (concurrent commits share WAL flushes).
 *
 * Speed: a delivery to one mailbox is one statement for its blob (before any lock) and one
 * call of a server-side function for the rest (writes/deliver_one.ts); concurrent ones share
 * a transaction and its COMMIT (delivery_batch.ts). `deno task bench cluster` shows where the
 * time goes.
 *
 * @module
 */
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
import { normalizeMailboxName } from "../names.ts";
import {
  connect,
  type Db,
  MAILBOX_COLUMNS,
  MESSAGE_COLUMNS,
  PREPARED,
  QUEUE_COLUMNS,
  type Read,
  type Row,
  toMailbox,
  toMessage,
  toQueueEntry,
} from "./rows.ts";
import { migrate } from "./schema.ts";
import * as blobReads from "./reads/blobs.ts";
import * as directory from "./reads/directory.ts";
import { bodies } from "./blob_store.ts";
import { DeliveryBatcher } from "./delivery_batch.ts";
import { SearchIndexer } from "./search_index.ts";
import { DirectoryCache } from "./directory_cache.ts";
import { log } from "../../lib/log.ts";
import { guardDriverWriteAfterClose } from "./driver_guard.ts";
import { ChangeListener, notifyChanges } from "./change_bus.ts";
import { candidatesSql, needle } from "./text.ts";
import * as imapSql from "./imap_sql.ts";
import * as mailboxReads from "./reads/mailboxes.ts";
import { type Param, q, type WriteContext } from "./writes/context.ts";
import * as accounts from "./writes/accounts.ts";
import * as retention from "./retention.ts";
import * as mailboxes from "./writes/mailboxes.ts";
import * as messages from "./writes/messages.ts";
import * as flags from "./writes/flags.ts";
import * as queue from "./writes/queue.ts";
import * as leases from "./writes/leases.ts";
import * as kv from "./writes/kv.ts";
import * as tokens from "./writes/tokens.ts";
import * as uploads from "./writes/uploads.ts";
import * as admin from "./writes/admin.ts";
import * as jmapRecords from "./writes/jmap_records.ts";
import { backfillThreads } from "./writes/threads.ts";
import * as threads from "./reads/threads.ts";
import * as jmapReads from "./reads/jmap.ts";
import * as adminReads from "./reads/admin.ts";
import * as kvReads from "./reads/kv.ts";

/** Attempts of a write that keeps losing deadlocks or serialisation races. */
const MAX_ATTEMPTS = 8;
/** SQLSTATEs worth a retry: serialization_failure, deadlock_detected. */
const RETRY_CODES: ReadonlySet<string> = new Set(["40001", "40P01"]);

/** Options of `openPostgresStore`. */
export interface PostgresStoreOptions {
  /** Connections in the pool (default 10). */
  maxConnections?: number;
  /** Runs the background search indexer (search_index.ts; default true). */
  searchIndexer?: boolean;
  /** Longest life of a directory cache entry (directory_cache.ts; tests lengthen it). */
  directoryTtlMs?: number;
}

/** Connects to `url`, brings the schema up to date, and returns the store. */
export async function openPostgresStore(
  url: string,
  opts: PostgresStoreOptions = {},
): Promise<PostgresStore> {
  guardDriverWriteAfterClose();
  const db = connect(url, { max: opts.maxConnections });
  let store: PostgresStore | null = null;
  try {
    await migrate(db);
    await backfillThreads(db);
    store = new PostgresStore(db, url, opts);
    await store.listening;
  } catch (e) {
    if (store) await store.close().catch(() => {});
    else await db.end({ timeout: 1 });
    throw e;
  }
  return store;
}

function throwIfRefused<T>(r: T | kv.KvRefusal): T {
  if (r && typeof r === "object" && "refused" in r) throw new StoreError("quota", r.refused);
  return r as T;
}

/** The PostgreSQL implementation of `Store`. Create it with `openPostgresStore`. */
export class PostgresStore implements Store {
  readonly changes: EventTarget = new EventTarget();
  #db: Db;
  #closed = false;
  #inFlight = new Set<Promise<unknown>>();
  #listener: ChangeListener;
  #batcher: DeliveryBatcher;
  /** Resolves once this instance hears other nodes' changes (openPostgresStore waits). */
  readonly listening: Promise<void>;

  #indexer: SearchIndexer | null;
  #directory: DirectoryCache;

  /** Use `openPostgresStore`. */
  constructor(db: Db, url: string, opts: PostgresStoreOptions = {}) {
    this.#db = db;
    this.#listener = new ChangeListener(url, (changes) => this.#publish(changes));
    this.listening = this.#listener.start();
    this.#batcher = new DeliveryBatcher({
      run: (fn, args) => this.#write(fn, args),
      db,
      origin: () => this.#listener.origin,
      publish: (changes) => this.#publish(changes),
    });
    this.#directory = new DirectoryCache(url, opts.directoryTtlMs);
    this.#indexer = opts.searchIndexer === false ? null : new SearchIndexer(
      db,
      (e) => log.warn("storage", `postgres: search indexer: ${(e as Error).message}`),
    );
  }

  /** Makes the search text of every message still pending (search_index.ts). */
  indexSearchText(): Promise<void> {
    return this.#indexer?.drain() ?? new SearchIndexer(this.#db, () => {}, false).drain();
  }

  #closing: Promise<void> | undefined;

  close(): Promise<void> {
    return this.#closing ??= this.#close();
  }

  async #close(): Promise<void> {
    await this.#batcher.close(); // deliveries accepted before close still commit
    await this.#indexer?.close();
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    await this.#listener.close().catch(() => {});
    await this.#directory.close().catch(() => {});
    await this.#db.end({ timeout: 5 });
  }

  #publish(changes: MailboxChange[]): void {
    for (const detail of changes) {
      this.changes.dispatchEvent(new CustomEvent("change", { detail }));
    }
  }

  /** Runs one write in a transaction of its own; publishes its changes after COMMIT. */
  #write<A, R>(fn: (ctx: WriteContext, a: A) => Promise<R>, args: A): Promise<R> {
    if (this.#closed) return Promise.reject(new Error("store is closed"));
    const p = this.#attempts(fn, args);
    this.#inFlight.add(p);
    p.catch(() => {}).finally(() => this.#inFlight.delete(p));
    return p;
  }

  /** A write to domains, accounts or aliases: the directory cache is dropped once it commits. */
  #directoryWrite<A, R>(fn: (ctx: WriteContext, a: A) => Promise<R>, args: A): Promise<R> {
    return this.#write(fn, args).finally(() => this.#directory.clear());
  }

  async #attempts<A, R>(fn: (ctx: WriteContext, a: A) => Promise<R>, args: A): Promise<R> {
    for (let attempt = 1;; attempt++) {
      let changes: MailboxChange[] = [];
      try {
        const result = await this.#db.begin(async (tx) => {
          changes = [];
          const origin = this.#listener.origin;
          const ctx: WriteContext = { tx, now: Date.now, changes, origin, notified: 0 };
          const value = await fn(ctx, args);
          await notifyChanges(tx, origin, changes.slice(ctx.notified));
          return { value };
        });
        this.#publish(changes);
        return result.value as R;
      } catch (e) {
        const code = (e as { code?: string }).code ?? "";
        if (RETRY_CODES.has(code) && attempt < MAX_ATTEMPTS) continue;
        // A unique key raced by another writer: the same answer a lookup would have given.
        if (code === "23505") throw new StoreError("exists", (e as Error).message);
        throw e;
      }
    }
  }

  /** A write that is one statement (imap_sql.ts): no BEGIN/COMMIT; retried as #write's. */
  #statement<R>(fn: (read: Read, origin: string) => Promise<imapSql.Called<R>>): Promise<R> {
    if (this.#closed) return Promise.reject(new Error("store is closed"));
    const p = (async () => {
      for (let attempt = 1;; attempt++) {
        try {
          const { value, changes } = await fn(this.#read, this.#listener.origin);
          this.#publish(changes);
          return value;
        } catch (e) {
          if (RETRY_CODES.has((e as { code?: string }).code ?? "") && attempt < MAX_ATTEMPTS) {
            continue;
          }
          throw e;
        }
      }
    })();
    this.#inFlight.add(p);
    p.catch(() => {}).finally(() => this.#inFlight.delete(p));
    return p;
  }

  async #all(text: string, params: Param[] = []): Promise<Row[]> {
    if (this.#closed) throw new Error("store is closed");
    return await this.#db.unsafe(text, params as never[], PREPARED) as unknown as Row[];
  }

  async #get(text: string, params: Param[] = []): Promise<Row | undefined> {
    return (await this.#all(text, params))[0];
  }

  /** The reads of reads/ modules, on the pool. */
  #read: Read = (text, params) => this.#all(text, params);
  #blobReads = new blobReads.BatchedReads(this.#read);

  // --- domains ---

  addDomain(name: string): Promise<void> {
    return this.#directoryWrite(accounts.addDomain, { name });
  }

  removeDomain(name: string): Promise<void> {
    return this.#directoryWrite(accounts.removeDomain, { name });
  }

  listDomains(): Promise<Domain[]> {
    return directory.listDomains(this.#read);
  }

  hasDomain(name: string): Promise<boolean> {
    return directory.hasDomain(this.#read, this.#directory, name);
  }

  // --- accounts ---

  createAccount(email: string, passwordHash: string): Promise<Account> {
    return this.#directoryWrite(accounts.createAccount, { email, passwordHash });
  }

  setPasswordHash(email: string, passwordHash: string): Promise<void> {
    return this.#directoryWrite(accounts.setPasswordHash, { email, passwordHash });
  }

  removeAccount(email: string): Promise<void> {
    return this.#directoryWrite(accounts.removeAccount, { email });
  }

  getAccount(email: string): Promise<Account | null> {
    return directory.getAccount(this.#read, this.#directory, email);
  }

  getAccountById(id: number): Promise<Account | null> {
    return directory.getAccountById(this.#read, id);
  }

  listAccounts(): Promise<Account[]> {
    return directory.listAccounts(this.#read);
  }

  setQuota(email: string, quotaBytes: number | null): Promise<void> {
    return this.#directoryWrite(accounts.setQuota, { email, quotaBytes });
  }

  // --- admin role and audit log (writes/admin.ts) ---

  setAdmin(email: string, isAdmin: boolean): Promise<void> {
    return this.#directoryWrite(admin.setAdmin, { email, admin: isAdmin });
  }

  isAdmin(accountId: number): Promise<boolean> {
    return adminReads.isAdmin(this.#read, accountId);
  }

  listAdmins(): Promise<string[]> {
    return adminReads.listAdmins(this.#read);
  }

  addAuditEntry(entry: Omit<AuditEntry, "id" | "at">): Promise<AuditEntry> {
    return this.#write(admin.addAuditEntry, entry);
  }

  listAudit(opts: { limit: number; before?: number }): Promise<AuditEntry[]> {
    return adminReads.listAudit(this.#read, opts);
  }

  // --- aliases ---

  setAlias(source: string, targets: string[]): Promise<void> {
    return this.#directoryWrite(accounts.setAlias, { source, targets });
  }

  removeAlias(source: string): Promise<void> {
    return this.#directoryWrite(accounts.removeAlias, { source });
  }

  getAlias(source: string): Promise<string[] | null> {
    return directory.getAlias(this.#read, this.#directory, source);
  }

  listAliases(): Promise<Alias[]> {
    return directory.listAliases(this.#read);
  }

  // --- mailboxes ---

  async listMailboxes(accountId: number): Promise<Mailbox[]> {
    return (await this.#all(
      `SELECT ${MAILBOX_COLUMNS} FROM mailboxes m WHERE m.account_id = $1 ORDER BY m.name`,
      [accountId],
    )).map(toMailbox);
  }

  async getMailbox(accountId: number, name: string): Promise<Mailbox | null> {
    let normalized: string;
    try {
      normalized = normalizeMailboxName(name);
    } catch {
      return null; // an invalid name names no mailbox
    }
    const r = await this.#get(
      `SELECT ${MAILBOX_COLUMNS} FROM mailboxes m WHERE m.account_id = $1 AND m.name = $2`,
      [accountId, normalized],
    );
    return r ? toMailbox(r) : null;
  }

  async getMailboxById(mailboxId: number): Promise<Mailbox | null> {
    const r = await this.#get(`SELECT ${MAILBOX_COLUMNS} FROM mailboxes m WHERE m.id = $1`, [
      mailboxId,
    ]);
    return r ? toMailbox(r) : null;
  }

  createMailbox(
    accountId: number,
    name: string,
    specialUse: SpecialUse | null = null,
  ): Promise<Mailbox> {
    return this.#write(mailboxes.createMailbox, { accountId, name, specialUse });
  }

  deleteMailbox(mailboxId: number): Promise<void> {
    return this.#write(mailboxes.deleteMailbox, { mailboxId });
  }

  renameMailbox(mailboxId: number, newName: string): Promise<void> {
    return this.#write(mailboxes.renameMailbox, { mailboxId, newName });
  }

  setSpecialUse(mailboxId: number, specialUse: SpecialUse | null): Promise<void> {
    return this.#write(mailboxes.setSpecialUse, { mailboxId, specialUse });
  }

  setSubscribed(accountId: number, name: string, subscribed: boolean): Promise<void> {
    return this.#write(mailboxes.setSubscribed, { accountId, name, subscribed });
  }

  async listSubscriptions(accountId: number): Promise<string[]> {
    return (await this.#all(
      "SELECT name FROM subscriptions WHERE account_id = $1 ORDER BY name",
      [accountId],
    )).map((r) => r.name as string);
  }

  /** Counters from the mailbox row (kept by triggers); one statement, one snapshot. */
  mailboxStatus(mailboxId: number): Promise<MailboxStatus> {
    return mailboxReads.mailboxStatus(this.#read, mailboxId);
  }

  async accountUsage(accountId: number): Promise<number> {
    const r = await this.#get(
      "SELECT coalesce(sum(size), 0)::bigint AS used FROM mailboxes WHERE account_id = $1",
      [accountId],
    );
    return r!.used as number;
  }

  // --- messages ---

  async deliver(
    message: Uint8Array,
    targets: DeliveryTarget[],
    opts: { internalDate?: number } = {},
  ): Promise<Placed[]> {
    const placed = await this.#batcher.deliver({
      message,
      targets,
      internalDate: opts.internalDate,
    });
    this.#indexer?.stored(1);
    return placed;
  }

  async append(
    mailboxId: number,
    message: Uint8Array,
    opts: { flags?: string[]; internalDate?: number } = {},
  ): Promise<Placed> {
    const placed = await this.#write(messages.append, {
      mailboxId,
      message,
      flags: opts.flags,
      internalDate: opts.internalDate,
    });
    this.#indexer?.stored(1);
    return placed;
  }

  async listMessages(mailboxId: number): Promise<MessageMeta[]> {
    return (await this.#all(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE mailbox_id = $1 ORDER BY uid`,
      [mailboxId],
    )).map(toMessage);
  }

  async getMessages(mailboxId: number, uids: number[]): Promise<MessageMeta[]> {
    if (uids.length === 0) return [];
    return (await this.#all(
      `SELECT ${MESSAGE_COLUMNS} FROM messages
       WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) ORDER BY uid`,
      [mailboxId, uids],
    )).map(toMessage);
  }

  async changedSince(mailboxId: number, modseq: number): Promise<MessageMeta[]> {
    return (await this.#all(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE mailbox_id = $1 AND modseq > $2
       ORDER BY uid`,
      [mailboxId, modseq],
    )).map(toMessage);
  }

  expungedSince(mailboxId: number, modseq: number): Promise<number[]> {
    return retention.expungedSince(this.#read, mailboxId, modseq);
  }

  /** Also sweeps bodies no message uses any more (blob_store.ts), in its own transaction. */
  async pruneHistory(limits: RetentionLimits): Promise<PruneResult> {
    const r = await this.#write(retention.pruneHistory, limits);
    await this.#write((ctx) => bodies.deleteUnreferenced((t, p) => q(ctx, t, p)), null);
    return r;
  }

  changeLogFloor(accountId: number): Promise<number> {
    return retention.changeLogFloor(this.#read, accountId);
  }

  /** Candidate UIDs for a full-text query (see text.ts); null when it cannot narrow it. */
  async searchText(mailboxId: number, query: TextQuery): Promise<number[] | null> {
    const value = needle(query);
    if (value === null) return null;
    return (await this.#all(candidatesSql(query.part), [mailboxId, value])).map((r) =>
      r.uid as number
    );
  }

  /** Reads asked for together share one statement (reads/blobs.ts BatchedReads). */
  readBlob(blobId: number): Promise<Uint8Array> {
    return this.#blobReads.read(blobId);
  }

  readBlobRange(blobId: number, offset: number, length: number): Promise<Uint8Array> {
    return blobReads.messageRange(this.#read, blobId, offset, length);
  }

  /** One statement (imap_sql.ts); the transaction of flags.ts when it hands the work back. */
  async updateFlags(update: FlagUpdate): Promise<FlagUpdateResult> {
    const one = await this.#statement(async (read, origin) =>
      (await imapSql.storeFlags(read, origin, update)) ?? { value: null, changes: [] }
    );
    return one ?? this.#write(flags.updateFlags, update);
  }

  expunge(mailboxId: number, uids: number[]): Promise<number[]> {
    return this.#statement((read, origin) => imapSql.expunge(read, origin, mailboxId, uids));
  }

  copyMessages(
    fromMailboxId: number,
    uids: number[],
    toMailboxId: number,
  ): Promise<Array<[number, number]>> {
    return this.#write(messages.copyMessages, { fromMailboxId, uids, toMailboxId });
  }

  moveMessages(
    fromMailboxId: number,
    uids: number[],
    toMailboxId: number,
  ): Promise<Array<[number, number]>> {
    return this.#write(messages.moveMessages, { fromMailboxId, uids, toMailboxId });
  }

  // --- outbound queue ---

  enqueue(
    message: Uint8Array,
    entry: Omit<QueueEntry, "id" | "blobId" | "attempts" | "lastError" | "createdAt">,
  ): Promise<QueueEntry> {
    return this.#write(queue.enqueue, { message, entry });
  }

  async listQueue(): Promise<QueueEntry[]> {
    return (await this.#all(`SELECT ${QUEUE_COLUMNS} FROM queue ORDER BY id`)).map(toQueueEntry);
  }

  async dueQueue(now: number, limit: number): Promise<QueueEntry[]> {
    return (await this.#all(
      `SELECT ${QUEUE_COLUMNS} FROM queue WHERE next_attempt_at <= $1
       ORDER BY next_attempt_at, id LIMIT $2`,
      [now, Math.max(0, Math.trunc(limit))],
    )).map(toQueueEntry);
  }

  claimQueue(now: number, limit: number, lease: QueueLease): Promise<QueueEntry[]> {
    return this.#write(queue.claimQueue, { now, limit, lease });
  }

  renewQueueLeases(ids: number[], now: number, lease: QueueLease): Promise<void> {
    return this.#write(queue.renewQueueLeases, { ids, now, lease });
  }

  tryLease(name: string, holder: string, now: number, until: number): Promise<boolean> {
    return this.#write(leases.tryLease, { name, holder, now, until });
  }

  renewLeases(names: string[], holder: string, until: number): Promise<void> {
    return this.#write(leases.renewLeases, { names, holder, until });
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return this.#write(leases.releaseLease, { name, holder });
  }

  async getQueueEntry(id: number): Promise<QueueEntry | null> {
    const r = await this.#get(`SELECT ${QUEUE_COLUMNS} FROM queue WHERE id = $1`, [id]);
    return r ? toQueueEntry(r) : null;
  }

  updateQueueEntry(
    id: number,
    patch: Partial<Omit<QueueEntry, "id" | "blobId" | "createdAt">>,
  ): Promise<void> {
    return this.#write(queue.updateQueueEntry, { id, patch });
  }

  removeQueueEntry(id: number): Promise<void> {
    return this.#write(queue.removeQueueEntry, { id });
  }

  // --- JMAP Emails and Threads (reads/threads.ts) ---

  emailCopies(accountId: number, blobIds: number[]): Promise<EmailCopy[]> {
    return threads.emailCopies(this.#read, accountId, blobIds);
  }

  threadCopies(accountId: number, threadIds: number[]): Promise<EmailCopy[]> {
    return threads.threadCopies(this.#read, accountId, threadIds);
  }

  accountCopies(accountId: number): Promise<EmailCopy[]> {
    return threads.accountCopies(this.#read, accountId);
  }

  mailboxPage(q: MailboxPageQuery): Promise<{ blobIds: number[]; total: number | null }> {
    return threads.mailboxPage(this.#read, q);
  }

  // --- the change log (change_log.ts) ---

  changeLogHead(accountId: number, kind: ChangeKind): Promise<number> {
    return jmapReads.changeLogHead(this.#read, accountId, kind);
  }

  changeLogSince(
    accountId: number,
    kind: ChangeKind,
    after: number,
    limit: number,
  ): Promise<ChangeRecord[]> {
    return jmapReads.changeLogSince(this.#read, accountId, kind, after, limit);
  }

  // --- JMAP bearer tokens (writes/tokens.ts) and uploads (writes/uploads.ts) ---

  createApiToken(accountId: number, name: string, tokenHash: string): Promise<ApiToken> {
    return this.#write(tokens.createApiToken, { accountId, name, tokenHash });
  }

  findApiToken(tokenHash: string): Promise<ApiToken | null> {
    return jmapReads.findApiToken(this.#read, tokenHash);
  }

  listApiTokens(accountId: number): Promise<ApiToken[]> {
    return jmapReads.listApiTokens(this.#read, accountId);
  }

  revokeApiToken(id: number): Promise<boolean> {
    return this.#write(tokens.revokeApiToken, { id });
  }

  // --- small JMAP object sets (writes/jmap_records.ts) ---

  getJmapRecord(accountId: number, type: string): Promise<string | null> {
    return jmapReads.getJmapRecord(this.#read, accountId, type);
  }

  putJmapRecord(accountId: number, type: string, doc: string): Promise<void> {
    return this.#write(jmapRecords.putJmapRecord, { accountId, type, doc });
  }

  storeUpload(
    accountId: number,
    data: Uint8Array,
    opts: { type: string; maxAccountBytes: number },
  ): Promise<Upload> {
    return this.#write(uploads.storeUpload, { accountId, data, ...opts });
  }

  readUpload(accountId: number, id: number): Promise<{ upload: Upload; data: Uint8Array } | null> {
    return jmapReads.readUpload(this.#read, accountId, id);
  }

  expireUploads(before: number): Promise<number> {
    return this.#write(uploads.expireUploads, { before });
  }

  // --- plugin kv ---

  kvGet(ns: string, key: string): Promise<string | null> {
    return kvReads.kvGet(this.#read, ns, key);
  }

  kvGetMany(ns: string, keys: string[]): Promise<(string | null)[]> {
    return kvReads.kvGetMany(this.#read, ns, keys);
  }

  async kvSet(
    ns: string,
    key: string,
    value: string,
    ttlMs?: number,
    quota?: KvQuota,
  ): Promise<void> {
    throwIfRefused(await this.#write(kv.kvSet, { ns, key, value, ttlMs, quota }));
  }

  kvDelete(ns: string, key: string): Promise<void> {
    return this.#write(kv.kvDelete, { ns, key });
  }

  async kvIncr(
    ns: string,
    key: string,
    by: number,
    ttlMs?: number,
    quota?: KvQuota,
  ): Promise<number> {
    return throwIfRefused(await this.#write(kv.kvIncr, { ns, key, by, ttlMs, quota }));
  }

  /** In one transaction (Store.kvIncrMany). */
  kvIncrMany: Store["kvIncrMany"] = (ns, entries, ttlMs, quota) =>
    this.#write(kv.kvIncrMany, { ns, entries, ttlMs, quota });
}
