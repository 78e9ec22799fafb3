/**
 * The Store: everything denomail remembers, behind one interface.
 *
 * Invariants every backend keeps (checked by `tests/lib/store_conformance.ts`):
 * - Every method that writes resolves only after its change is committed and synced to
 *   disk. A caller that got a resolved promise may tell a client "stored" (SMTP 250,
 *   IMAP OK).
 * - UIDs in a mailbox strictly increase and are never reused while its UIDVALIDITY stays.
 * - Every change to a message's flags, every new message and every expunge raises the
 *   mailbox's HIGHESTMODSEQ and stamps the message (or the expunge record) with it
 *   (RFC 7162 §3.1).
 * - Addresses and domain names are stored lower-case; lookups are case-insensitive.
 * - Message bytes are immutable once stored; several mailbox entries may share one blob.
 *
 * The storage layer owns this interface, the naming rules (`names.ts`), `open.ts` and the
 * backends (`sqlite/`, `postgres/`). It receives its settings from the caller (`openStore`) and may import
 * only `mime/`, `lib/`, npm and `node:` built-ins — never `core/` or anything above it.
 *
 * @module
 */

/** A local mail domain. */
export interface Domain {
  name: string;
  createdAt: number;
}

/** A user account. `email` is its login name everywhere (lower-case). */
export interface Account {
  id: number;
  email: string;
  /** Encoded password hash (argon2id/scrypt string from core/auth.ts); never plaintext. */
  passwordHash: string;
  /** Storage quota in bytes; null = unlimited. */
  quotaBytes: number | null;
  createdAt: number;
}

/** An alias: mail to `source` goes to every address in `targets`. `source` may be `@domain`. */
export interface Alias {
  source: string;
  targets: string[];
}

/** RFC 6154 special-use attributes. */
export type SpecialUse =
  | "\\Drafts"
  | "\\Sent"
  | "\\Trash"
  | "\\Junk"
  | "\\Archive"
  | "\\All"
  | "\\Flagged";

/** A mailbox (folder) of one account. Hierarchy delimiter is "/". */
export interface Mailbox {
  id: number;
  accountId: number;
  /** Full name, "/" separated, UTF-8. "INBOX" is always spelled in upper case. */
  name: string;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  specialUse: SpecialUse | null;
  subscribed: boolean;
}

/** Counters for STATUS / SELECT. */
export interface MailboxStatus {
  messages: number;
  unseen: number;
  /** Sum of message sizes in octets (RFC 8438 STATUS=SIZE). */
  size: number;
  uidNext: number;
  uidValidity: number;
  highestModseq: number;
  /** Sequence number (1-based) of the first unseen message, 0 if none. */
  firstUnseen: number;
}

/** One message as it sits in one mailbox. */
export interface MessageMeta {
  mailboxId: number;
  uid: number;
  modseq: number;
  /** System flags (\Seen, \Answered, \Flagged, \Deleted, \Draft) and keywords, as given. */
  flags: string[];
  /** Milliseconds since the epoch (IMAP INTERNALDATE). */
  internalDate: number;
  /** Octets of the stored message (RFC822.SIZE). */
  size: number;
  blobId: number;
}

/** One copy of an Email (RFC 8621 §4) with the thread its account gave it (§3). */
export interface EmailCopy extends MessageMeta {
  threadId: number;
}

/** One page of a mailbox's Emails in an indexed order (JMAP Email/query's fast path). */
export interface MailboxPageQuery {
  accountId: number;
  /** The mailbox (of `accountId`), or null for every mailbox of the account. */
  mailboxId: number | null;
  sort: "receivedAt" | "size";
  ascending: boolean;
  position: number;
  limit: number;
  /** Also count the mailbox's distinct Emails (threads when collapsing). */
  total: boolean;
  /** Only the first Email of each thread (RFC 8621 §4.4.3). */
  collapseThreads?: boolean;
}

/** Where one delivered copy goes. */
export interface DeliveryTarget {
  accountId: number;
  /** Mailbox name; a missing mailbox falls back to INBOX. */
  mailbox: string;
  flags?: string[];
  /** Create the mailbox when it does not exist (a Sieve `fileinto :create`), else INBOX. */
  create?: boolean;
}

/** Result of one placed copy. */
export interface Placed {
  accountId: number;
  mailboxId: number;
  uid: number;
  uidValidity: number;
}

/** How a flags update applies (IMAP STORE FLAGS / +FLAGS / -FLAGS). */
export type FlagOp = "set" | "add" | "remove";

export interface FlagUpdate {
  mailboxId: number;
  uids: number[];
  op: FlagOp;
  flags: string[];
  /** RFC 7162 UNCHANGEDSINCE: messages whose modseq is greater are not changed. */
  unchangedSince?: number;
}

export interface FlagUpdateResult {
  /** Messages whose flags changed (with their new flags and modseq). */
  changed: MessageMeta[];
  /** UIDs skipped because of UNCHANGEDSINCE. */
  failed: number[];
}

/** Who claims queue entries, and for how long (ms). */
export interface QueueLease {
  node: string;
  ms: number;
}

/** An outbound queue record (one message, its remaining recipients). */
export interface QueueEntry {
  id: number;
  blobId: number;
  /** Envelope sender; "" for the null sender (bounces). */
  sender: string;
  recipients: QueueRecipient[];
  createdAt: number;
  nextAttemptAt: number;
  attempts: number;
  lastError: string | null;
  /** Free-form JSON for the delivery engine (DSN params, ENVID, RET, TLS result, ...). */
  meta: Record<string, unknown>;
}

export interface QueueRecipient {
  address: string;
  /** "pending" until delivered or failed for good. */
  status: "pending" | "delivered" | "failed";
  lastError?: string;
  /** RFC 3461 NOTIFY / ORCPT and anything else the delivery engine keeps. */
  dsn?: Record<string, unknown>;
}

/**
 * A full-text query (IMAP SEARCH): `value` as a case-insensitive substring of the decoded
 * header, body, or either (`text`), as `search_text.ts` defines these texts.
 */
export interface TextQuery {
  part: "header" | "body" | "text";
  value: string;
}

/** What changed in a mailbox; published after the change is committed. */
export type MailboxChange =
  | { kind: "append"; mailboxId: number; uids: number[]; highestModseq: number }
  | { kind: "flags"; mailboxId: number; uids: number[]; highestModseq: number }
  | { kind: "expunge"; mailboxId: number; uids: number[]; highestModseq: number }
  | { kind: "mailbox"; accountId: number };

/** A JMAP bearer token of one account; only its SHA-256 is stored, never the token. */
export interface ApiToken {
  id: number;
  accountId: number;
  /** A label the admin chose ("phone", "webmail"). */
  name: string;
  createdAt: number;
}

/** A JMAP upload (RFC 8620 §6.1): bytes of one account, referred to later by id. */
export interface Upload {
  id: number;
  accountId: number;
  /** The media type the client declared. */
  type: string;
  size: number;
  createdAt: number;
}

/** What an admin did (the admin API's audit log; the CLI writes there too). */
export interface AuditEntry {
  id: number;
  /** Milliseconds since the epoch. */
  at: number;
  /** Who: the admin's address, or "cli" for the command line. */
  actor: string;
  /** From which client address ("" when local, the CLI). */
  ip: string;
  /** What, as a verb: "user.add", "domain.remove", "queue.retry", ... */
  action: string;
  /** On what: an address, a domain, a queue id. */
  target: string;
  /** Extra facts as JSON text ("{}" when none); never a password. */
  detail: string;
}

/**
 * One change-log record (JMAP states, RFC 8620 §5.2): ids grow per store and are never
 * reused. Email records name the message copy; mailbox records have null mailboxId/uid.
 * `op`: c created, u updated, d destroyed (n: only a mailbox's counters moved, derived by
 * readers from email records, never stored).
 */
export interface ChangeRecord {
  id: number;
  /** The blob id (email) or the mailbox id (mailbox). */
  objectId: number;
  op: "c" | "u" | "d" | "n";
  mailboxId: number | null;
  uid: number | null;
}

/** What `Store.pruneHistory` keeps (0: everything of that kind). */
export interface RetentionLimits {
  /** Expunge records kept per mailbox (QRESYNC VANISHED history). */
  expungedKeep: number;
  /** Change-log records kept per account (JMAP states). */
  changeLogKeep: number;
  /** Audit entries older than this many ms go. */
  auditKeepMs: number;
}

/** Rows `Store.pruneHistory` removed. */
export interface PruneResult {
  expunged: number;
  changeLog: number;
  audit: number;
}

/** The kinds of object the change log follows. */
export type ChangeKind = "email" | "mailbox";

/** The storage interface every backend implements. */
export interface Store {
  /** Publishes a MailboxChange after every committed change to mailboxes or messages. */
  readonly changes: EventTarget;

  close(): Promise<void>;

  // --- domains ---
  addDomain(name: string): Promise<void>;
  /** Removes the domain; fails if accounts still use it. */
  removeDomain(name: string): Promise<void>;
  listDomains(): Promise<Domain[]>;
  hasDomain(name: string): Promise<boolean>;

  // --- accounts ---
  /** Creates the account (and its domain, and INBOX, Drafts, Sent, Trash, Junk). */
  createAccount(email: string, passwordHash: string): Promise<Account>;
  setPasswordHash(email: string, passwordHash: string): Promise<void>;
  /** Removes the account with all its mailboxes and messages. */
  removeAccount(email: string): Promise<void>;
  getAccount(email: string): Promise<Account | null>;
  getAccountById(id: number): Promise<Account | null>;
  listAccounts(): Promise<Account[]>;
  setQuota(email: string, quotaBytes: number | null): Promise<void>;
  /** Gives or takes the admin role (the admin API is for admins only). */
  setAdmin(email: string, admin: boolean): Promise<void>;
  /** True when the account exists and has the admin role. */
  isAdmin(accountId: number): Promise<boolean>;
  /** Addresses of the admin accounts, sorted. */
  listAdmins(): Promise<string[]>;

  // --- aliases ---
  setAlias(source: string, targets: string[]): Promise<void>;
  removeAlias(source: string): Promise<void>;
  getAlias(source: string): Promise<string[] | null>;
  listAliases(): Promise<Alias[]>;

  // --- mailboxes ---
  listMailboxes(accountId: number): Promise<Mailbox[]>;
  getMailbox(accountId: number, name: string): Promise<Mailbox | null>;
  getMailboxById(mailboxId: number): Promise<Mailbox | null>;
  createMailbox(accountId: number, name: string, specialUse?: SpecialUse | null): Promise<Mailbox>;
  /** Deletes the mailbox and its messages. */
  deleteMailbox(mailboxId: number): Promise<void>;
  /** Renames the mailbox and its children (RFC 9051 §6.3.6). Renaming INBOX moves its messages. */
  renameMailbox(mailboxId: number, newName: string): Promise<void>;
  /** Sets or clears the mailbox's SPECIAL-USE attribute (the JMAP role). */
  setSpecialUse(mailboxId: number, specialUse: SpecialUse | null): Promise<void>;
  setSubscribed(accountId: number, name: string, subscribed: boolean): Promise<void>;
  /** Names subscribed by the account (may include names of mailboxes that do not exist). */
  listSubscriptions(accountId: number): Promise<string[]>;
  mailboxStatus(mailboxId: number): Promise<MailboxStatus>;
  /** Total octets stored for the account (QUOTA). */
  accountUsage(accountId: number): Promise<number>;

  // --- messages ---
  /**
   * Stores one message once and places it in every target mailbox, atomically and durably.
   * Concurrent calls are committed together (group commit).
   */
  deliver(
    message: Uint8Array,
    targets: DeliveryTarget[],
    opts?: { internalDate?: number },
  ): Promise<Placed[]>;
  /** IMAP APPEND into a mailbox by id. */
  append(
    mailboxId: number,
    message: Uint8Array,
    opts?: { flags?: string[]; internalDate?: number },
  ): Promise<Placed>;
  /** All messages of a mailbox in UID order (what a SELECT needs). */
  listMessages(mailboxId: number): Promise<MessageMeta[]>;
  /** The given UIDs that exist, in UID order. */
  getMessages(mailboxId: number, uids: number[]): Promise<MessageMeta[]>;
  /** Messages changed since a modseq (CONDSTORE FETCH CHANGEDSINCE). */
  changedSince(mailboxId: number, modseq: number): Promise<MessageMeta[]>;
  /** UIDs expunged since a modseq (QRESYNC VANISHED (EARLIER)). */
  expungedSince(mailboxId: number, modseq: number): Promise<number[]>;
  /**
   * Optional full-text index. UIDs of the mailbox's messages that may match `query`: a
   * superset of the true matches (the caller confirms each on the message), in UID order;
   * null when the index cannot narrow this query (then the caller scans).
   */
  searchText?(mailboxId: number, query: TextQuery): Promise<number[] | null>;
  /** Optional: resolves once every stored message is in the full-text index. */
  flushTextIndex?(): Promise<void>;
  /** Optional: how many stored messages wait to enter the full-text index. */
  textIndexBacklog?(): Promise<number>;
  /**
   * Prunes the expunge records (per mailbox), the change log (per account) and the
   * audit log past their limits (0 keeps all), remembering where each was cut, so that
   * `expungedSince` and `changeLogFloor` still answer correctly (sqlite/retention.ts).
   */
  pruneHistory(limits: RetentionLimits): Promise<PruneResult>;
  /**
   * The highest change-log id pruned for the account (0: none).
   * A state before it may miss records: JMAP answers such a state cannotCalculateChanges.
   */
  changeLogFloor(accountId: number): Promise<number>;
  /** The id of the account's last change-log record of `kind` (0 when there is none). */
  changeLogHead(accountId: number, kind: ChangeKind): Promise<number>;
  /** The account's change-log records of `kind` after id `after`, in id order, at most `limit`. */
  changeLogSince(
    accountId: number,
    kind: ChangeKind,
    after: number,
    limit: number,
  ): Promise<ChangeRecord[]>;
  readBlob(blobId: number): Promise<Uint8Array>;
  /** Bytes [offset, offset+length) of a stored message, clipped to its end. */
  readBlobRange(blobId: number, offset: number, length: number): Promise<Uint8Array>;
  updateFlags(update: FlagUpdate): Promise<FlagUpdateResult>;
  /** Removes the given UIDs (all of them, whatever their flags). Returns those removed. */
  expunge(mailboxId: number, uids: number[]): Promise<number[]>;
  /** Copies messages; returns [sourceUid, destUid] pairs (UIDPLUS COPYUID). */
  copyMessages(
    fromMailboxId: number,
    uids: number[],
    toMailboxId: number,
  ): Promise<Array<[number, number]>>;
  /** Copy + expunge in one commit (RFC 6851). */
  moveMessages(
    fromMailboxId: number,
    uids: number[],
    toMailboxId: number,
  ): Promise<Array<[number, number]>>;

  // --- outbound queue ---
  /** Stores the message bytes and the queue record in one durable commit. */
  enqueue(
    message: Uint8Array,
    entry: Omit<QueueEntry, "id" | "blobId" | "attempts" | "lastError" | "createdAt">,
  ): Promise<QueueEntry>;
  listQueue(): Promise<QueueEntry[]>;
  /** Entries whose nextAttemptAt <= now. */
  dueQueue(now: number, limit: number): Promise<QueueEntry[]>;
  /**
   * Due entries this node may deliver now, claimed for `lease.node` until `now + lease.ms`
   * (several nodes on one database: an entry claimed and not released is offered to no other
   * node until its lease runs out, so a node that dies mid-delivery hands it on). SQLite is
   * one process per data dir: its claim is `dueQueue` (the runner tracks what it delivers).
   * Any `updateQueueEntry` that sets `nextAttemptAt`, and `removeQueueEntry`, end the claim.
   */
  claimQueue(now: number, limit: number, lease: QueueLease): Promise<QueueEntry[]>;
  /** Extends the claims `lease.node` still holds on `ids` to `now + lease.ms`. */
  renewQueueLeases(ids: number[], now: number, lease: QueueLease): Promise<void>;

  // --- named leases: locks that hold across nodes (the POP3 maildrop lock) ---
  /**
   * Takes the lease `name` for `holder` until `until` (ms), unless another holder's lease
   * has not run out at `now`; true when taken. A node that dies stops renewing, and its
   * leases end by themselves. One process per SQLite data dir: those are kept in memory.
   */
  tryLease(name: string, holder: string, now: number, until: number): Promise<boolean>;
  /** Extends the leases `holder` still holds among `names` to `until`. */
  renewLeases(names: string[], holder: string, until: number): Promise<void>;
  /** Ends `holder`'s lease on `name` (no-op when it is not theirs any more). */
  releaseLease(name: string, holder: string): Promise<void>;
  getQueueEntry(id: number): Promise<QueueEntry | null>;
  updateQueueEntry(
    id: number,
    patch: Partial<Omit<QueueEntry, "id" | "blobId" | "createdAt">>,
  ): Promise<void>;
  removeQueueEntry(id: number): Promise<void>;

  // --- JMAP bearer tokens ---
  /** Stores a token by its SHA-256 (64 lower-case hex digits). */
  createApiToken(accountId: number, name: string, tokenHash: string): Promise<ApiToken>;
  /** The token with this SHA-256, or null. */
  findApiToken(tokenHash: string): Promise<ApiToken | null>;
  listApiTokens(accountId: number): Promise<ApiToken[]>;
  /** Removes the token; false when there was none with this id. */
  revokeApiToken(id: number): Promise<boolean>;

  // --- small JMAP object sets (Identity, EmailSubmission, VacationResponse, PushSubscription) ---
  /** The JSON document of `type` ([a-z]{1,32}) for the account, or null. */
  getJmapRecord(accountId: number, type: string): Promise<string | null>;
  /**
   * Stores (replaces) the document. StoreError("not_found") without such an account,
   * "invalid" for a bad type or a document over 4 MB. Removed with the account.
   */
  putJmapRecord(accountId: number, type: string, doc: string): Promise<void>;
  // --- JMAP Emails and Threads (RFC 8621 §3, §4) ---
  /** Every copy of the given blobs in the account's mailboxes (any order). */
  emailCopies(accountId: number, blobIds: number[]): Promise<EmailCopy[]>;
  /** Every copy of the Emails of the given threads in the account's mailboxes. */
  threadCopies(accountId: number, threadIds: number[]): Promise<EmailCopy[]>;
  /** Every copy in the account's mailboxes. */
  accountCopies(accountId: number): Promise<EmailCopy[]>;
  /** Blob ids of one page of a mailbox or account; copies of one blob count once. */
  mailboxPage(q: MailboxPageQuery): Promise<{ blobIds: number[]; total: number | null }>;

  // --- JMAP uploads ---
  /**
   * Stores an upload of the account. Fails with StoreError("quota") when the account's
   * uploads would then take more than `maxAccountBytes`.
   */
  storeUpload(
    accountId: number,
    data: Uint8Array,
    opts: { type: string; maxAccountBytes: number },
  ): Promise<Upload>;
  /** The upload and its bytes, only if it belongs to `accountId`; else null. */
  readUpload(accountId: number, id: number): Promise<{ upload: Upload; data: Uint8Array } | null>;
  /** Removes uploads created before `before` (ms since the epoch); returns how many. */
  expireUploads(before: number): Promise<number>;

  // --- audit log (admin changes) ---
  /** Appends one entry; `at` is the store's clock. Fields are cut to bounded lengths. */
  addAuditEntry(entry: Omit<AuditEntry, "id" | "at">): Promise<AuditEntry>;
  /** Entries newest first: at most `limit`, with id < `before` when given (paging). */
  listAudit(opts: { limit: number; before?: number }): Promise<AuditEntry[]>;

  // --- plugin key-value area (namespaced per plugin) ---
  kvGet(ns: string, key: string): Promise<string | null>;
  /** Optional: many keys in one query; values in the order of `keys` (null when missing). */
  kvGetMany?(ns: string, keys: string[]): Promise<(string | null)[]>;
  /**
   * ttlMs: the key disappears after that many milliseconds. With `quota`, a write that would
   * take the namespace past it fails with StoreError("quota") (plugins' kv areas).
   */
  kvSet(ns: string, key: string, value: string, ttlMs?: number, quota?: KvQuota): Promise<void>;
  kvDelete(ns: string, key: string): Promise<void>;
  /** Atomically adds `by` to an integer value (missing = 0); returns the new value. */
  kvIncr(ns: string, key: string, by: number, ttlMs?: number, quota?: KvQuota): Promise<number>;
  /**
   * `kvIncr` of many keys in one transaction, in order (a key may repeat): the new
   * values, null where `quota` refused a new key (the others still count).
   */
  kvIncrMany(
    ns: string,
    entries: Array<[string, number]>,
    ttlMs?: number,
    quota?: KvQuota,
  ): Promise<Array<number | null>>;
}

/** Limits of one kv namespace (a plugin's `kv_max_keys`, `kv_max_bytes`: key + value, UTF-8). */
export interface KvQuota {
  maxKeys: number;
  maxBytes: number;
}

/** Thrown for a domain rule a caller broke (duplicate, missing, not empty). */
export class StoreError extends Error {
  constructor(
    readonly code: "exists" | "not_found" | "in_use" | "invalid" | "quota",
    message: string,
  ) {
    super(message);
    this.name = "StoreError";
  }
}

/** The mailboxes every new account gets, with their special-use attribute. */
export const DEFAULT_MAILBOXES: ReadonlyArray<[string, SpecialUse | null]> = [
  ["INBOX", null],
  ["Drafts", "\\Drafts"],
  ["Sent", "\\Sent"],
  ["Trash", "\\Trash"],
  ["Junk", "\\Junk"],
];
