/**
 * JMAP states and `*\/changes` (RFC 8620 §5.2) from the store's change log, the history
 * IMAP writes to as well: a flag set over IMAP is an Email update here, and a JMAP write is
 * seen by IMAP through the MODSEQs of the same transaction.
 *
 * A state is `s<N>`: the id of the account's last change-log record of that kind (for
 * Mailbox, of either kind: its counters move with email records). Changes
 * since N are classified by whether the object existed at N and exists at the new state,
 * which the copies' `c`/`d` records decide (a copy with no `c` record after N was already
 * there). Anything that is not such a state, or is ahead of the log, is
 * cannotCalculateChanges, and so is a state older than the pruned part of the log
 * (`Store.changeLogFloor`, `[storage] change_log_keep`).
 *
 * Invariant: states only move forward; the same state means nothing changed.
 *
 * @module
 */
import type { ChangeKind, ChangeRecord, Store } from "../../../storage/mod.ts";
import { loadEmailsByBlob } from "./account_view.ts";
import { MethodError } from "./errors.ts";

/** How many records one /changes call reads at most (bounded memory). */
const MAX_RECORDS = 200_000;

/** Mailbox properties that only counters changes touch (RFC 8621 §2.2 updatedProperties). */
export const COUNT_PROPERTIES = ["totalEmails", "unreadEmails", "totalThreads", "unreadThreads"];

/**
 * The log position a state of `kind` stands for. Mailbox counters move with email records,
 * so the Mailbox state is the later of the two heads.
 */
async function headOf(store: Store, accountId: number, kind: ChangeKind): Promise<number> {
  const email = await store.changeLogHead(accountId, "email");
  return kind === "email" ? email : Math.max(email, await store.changeLogHead(accountId, kind));
}

/** The current state of the account's objects of `kind`. */
export async function stateOf(store: Store, accountId: number, kind: ChangeKind): Promise<string> {
  return `s${await headOf(store, accountId, kind)}`;
}

/** Records after `from`: email records, or for mailboxes their own plus counter moves. */
async function loadRecords(
  store: Store,
  accountId: number,
  kind: ChangeKind,
  from: number,
): Promise<ChangeRecord[]> {
  const email = await store.changeLogSince(accountId, "email", from, MAX_RECORDS);
  if (email.length === MAX_RECORDS) {
    throw new MethodError("cannotCalculateChanges", "too many changes since that state");
  }
  if (kind === "email") return email;
  const own = await store.changeLogSince(accountId, "mailbox", from, MAX_RECORDS);
  if (own.length === MAX_RECORDS) {
    throw new MethodError("cannotCalculateChanges", "too many changes since that state");
  }
  // A copy placed, removed or flagged moves its mailbox's counters.
  const counters = email.map((r): ChangeRecord => ({
    id: r.id,
    objectId: r.mailboxId!,
    op: "n",
    mailboxId: null,
    uid: null,
  }));
  return [...own, ...counters].sort((x, y) => x.id - y.id);
}

function parseState(state: string): number | null {
  if (!/^s(0|[1-9][0-9]{0,15})$/.test(state)) return null;
  return Number(state.slice(1));
}

export interface Changes {
  newState: string;
  hasMoreChanges: boolean;
  created: number[];
  updated: number[];
  destroyed: number[];
  /** Mailbox only: true when every update moved counters only. */
  countsOnly: boolean;
}

/** The records after `since`, cut so that at most `maxChanges` objects change. */
async function recordsSince(
  store: Store,
  accountId: number,
  kind: ChangeKind,
  since: string,
  maxChanges: number | null,
): Promise<{ from: number; to: number; rows: ChangeRecord[]; objects: number[]; more: boolean }> {
  const from = parseState(since);
  const head = await headOf(store, accountId, kind);
  if (from === null || from > head) throw new MethodError("cannotCalculateChanges");
  // Records before the floor were pruned ([storage] change_log_keep).
  if (from < await store.changeLogFloor(accountId)) {
    throw new MethodError("cannotCalculateChanges", "that state is older than the kept history");
  }
  const rows = await loadRecords(store, accountId, kind, from);
  const objects: number[] = [];
  const seen = new Set<number>();
  // Every record up to `head` is in `rows`; a later one (written meanwhile) may be too.
  let to = Math.max(head, rows.length ? rows[rows.length - 1].id : from);
  let more = false;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (seen.has(r.objectId)) continue;
    if (maxChanges !== null && objects.length >= maxChanges) {
      to = rows[i - 1].id;
      more = true;
      break;
    }
    seen.add(r.objectId);
    objects.push(r.objectId);
  }
  return { from, to, rows, objects, more };
}

/** Sorts objects into created/updated/destroyed by their existence at `from` and `to`. */
function classify(
  objects: readonly number[],
  existed: (id: number, at: number) => boolean,
  from: number,
  to: number,
): Pick<Changes, "created" | "updated" | "destroyed"> {
  const out = { created: [] as number[], updated: [] as number[], destroyed: [] as number[] };
  for (const id of objects) {
    const before = existed(id, from);
    const after = existed(id, to);
    if (before && after) out.updated.push(id);
    else if (after) out.created.push(id);
    else if (before) out.destroyed.push(id);
  }
  return out;
}

/** Email changes: objects are blob ids (Email `e<blob>`, Thread `t<blob>`). */
export async function emailChanges(
  store: Store,
  accountId: number,
  since: string,
  maxChanges: number | null,
): Promise<Changes> {
  const { from, to, rows, objects, more } = await recordsSince(
    store,
    accountId,
    "email",
    since,
    maxChanges,
  );
  // Each copy's creation and removal record; a current copy without `c` was there before.
  const copies = new Map<number, Map<string, { c?: number; d?: number }>>();
  const copy = (blob: number, key: string) => {
    let byKey = copies.get(blob);
    if (!byKey) copies.set(blob, byKey = new Map());
    let c = byKey.get(key);
    if (!c) byKey.set(key, c = {});
    return c;
  };
  for (const r of rows) {
    const c = copy(r.objectId, `${r.mailboxId}:${r.uid}`);
    if (r.op === "c") c.c ??= r.id;
    if (r.op === "d") c.d = r.id;
  }
  if (objects.length > 0) {
    const emails = await loadEmailsByBlob(store, accountId, objects);
    for (const id of objects) {
      for (const [mb, uid] of emails.get(id)?.copies ?? []) copy(id, `${mb}:${uid}`);
    }
  }
  const existed = (blob: number, at: number) =>
    [...copies.get(blob)?.values() ?? []].some((c) =>
      (c.c === undefined || c.c <= at) && (c.d === undefined || c.d > at)
    );
  return {
    newState: `s${to}`,
    hasMoreChanges: more,
    ...classify(objects, existed, from, to),
    countsOnly: false,
  };
}

/** Mailbox changes: objects are mailbox ids. */
export async function mailboxChanges(
  store: Store,
  accountId: number,
  since: string,
  maxChanges: number | null,
): Promise<Changes> {
  const { from, to, rows, objects, more } = await recordsSince(
    store,
    accountId,
    "mailbox",
    since,
    maxChanges,
  );
  const life = new Map<number, { c?: number; d?: number }>();
  let countsOnly = true;
  for (const r of rows) {
    if (r.id > to) break;
    const l = life.get(r.objectId) ?? {};
    if (r.op === "c") l.c ??= r.id;
    if (r.op === "d") l.d = r.id;
    if (r.op !== "n") countsOnly = false;
    life.set(r.objectId, l);
  }
  const existed = (id: number, at: number) => {
    const l = life.get(id) ?? {};
    return (l.c === undefined || l.c <= at) && (l.d === undefined || l.d > at);
  };
  const sorted = classify(objects, existed, from, to);
  return {
    newState: `s${to}`,
    hasMoreChanges: more,
    ...sorted,
    countsOnly: countsOnly && sorted.created.length === 0 && sorted.destroyed.length === 0,
  };
}
