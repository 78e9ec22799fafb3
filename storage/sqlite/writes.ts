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
 * The functions live in `writes/`, one file per thing they change (accounts, mailboxes,
 * messages, flags, queue, kv; `writes/context.ts` holds the shared row helpers); this file is
 * the registry the batch runner dispatches on.
 *
 * @module
 */
import {
  addDomain,
  createAccount,
  removeAccount,
  removeAlias,
  removeDomain,
  setAlias,
  setPasswordHash,
  setQuota,
} from "./writes/accounts.ts";
import {
  createMailbox,
  deleteMailbox,
  renameMailbox,
  setSpecialUse,
  setSubscribed,
} from "./writes/mailboxes.ts";
import { append, copyMessages, deliver, expunge, moveMessages } from "./writes/messages.ts";
import { updateFlags } from "./writes/flags.ts";
import { enqueue, removeQueueEntry, updateQueueEntry } from "./writes/queue.ts";
import { kvDelete, kvIncr, kvIncrMany, kvSet } from "./writes/kv.ts";
import { indexPending } from "./fts.ts";
import { TOKEN_WRITES } from "./tokens.ts";
import { UPLOAD_WRITES } from "./uploads.ts";
import { ADMIN_WRITES } from "./admin.ts";
import { JMAP_RECORD_WRITES } from "./jmap_records.ts";
import { pruneHistory } from "./retention.ts";

export type { WriteContext } from "./writes/context.ts";

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
  setSpecialUse,
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
  kvIncrMany,
  indexPending, // fts.ts: the full-text index's background step
  pruneHistory, // retention.ts: expunge records, change log, audit past their limits
  ...TOKEN_WRITES, // tokens.ts: JMAP bearer tokens
  ...UPLOAD_WRITES, // uploads.ts: JMAP uploads
  ...ADMIN_WRITES, // admin.ts: admin role and audit log
  ...JMAP_RECORD_WRITES, // jmap_records.ts: Identity, EmailSubmission, … documents
} as const;

/** The name of a write operation. */
export type WriteOp = keyof typeof WRITES;
/** The argument object of a write operation. */
export type WriteArgs<K extends WriteOp> = Parameters<(typeof WRITES)[K]>[1];
/** The result of a write operation. */
export type WriteResult<K extends WriteOp> = ReturnType<(typeof WRITES)[K]>;
