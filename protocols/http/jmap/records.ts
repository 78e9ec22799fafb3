/**
 * Small per-account JMAP object sets (Identity, EmailSubmission, VacationResponse,
 * PushSubscription) kept as one JSON document per account and type (the Store's
 * getJmapRecord/putJmapRecord; removed with the account), with a counter state and a short change log for the /changes methods (RFC 8620 §5.2).
 *
 * Invariants:
 * - The state is the number of the last change; a sinceState older than the log's first
 *   entry (the log keeps the last MAX_LOG changes) is cannotCalculateChanges.
 * - Writes of one account and type are serialized by `RecordLocks` (one per server, on
 *   the JMAP routes object), so concurrent requests of a user never lose an update.
 *
 * @module
 */
import type { Store } from "../../../storage/mod.ts";

/** Change log entries kept per document. */
const MAX_LOG = 500;
/** Objects per document (identities, submissions): old submissions are dropped first. */
export const MAX_OBJECTS = 1000;

export type ChangeKind = "c" | "u" | "d";

export interface RecordDoc {
  state: number;
  /** id -> object (JSON). */
  objects: Record<string, Record<string, unknown>>;
  /** [state, id, kind], oldest first. */
  log: Array<[number, string, ChangeKind]>;
  /** The next number for a server-assigned id. */
  next: number;
}

const key = (type: string, accountId: number) => `${type}:${accountId}`;

/** The document of `type` for the account (empty when none was written). */
export async function readDoc(store: Store, type: string, accountId: number): Promise<RecordDoc> {
  const raw = await store.getJmapRecord(accountId, type);
  if (raw === null) return { state: 0, objects: {}, log: [], next: 1 };
  return JSON.parse(raw) as RecordDoc;
}

/** Records one change in `doc` (in memory; `writeDoc` stores it). */
export function noteChange(doc: RecordDoc, id: string, kind: ChangeKind): void {
  doc.state++;
  doc.log.push([doc.state, id, kind]);
  if (doc.log.length > MAX_LOG) doc.log.splice(0, doc.log.length - MAX_LOG);
}

export async function writeDoc(
  store: Store,
  type: string,
  accountId: number,
  doc: RecordDoc,
): Promise<void> {
  await store.putJmapRecord(accountId, type, JSON.stringify(doc));
}

/** Serializes read-modify-write cycles per document. */
export class RecordLocks {
  #tails = new Map<string, Promise<unknown>>();

  async with<T>(type: string, accountId: number, fn: () => Promise<T>): Promise<T> {
    const k = key(type, accountId);
    const prev = this.#tails.get(k) ?? Promise.resolve();
    const run = prev.catch(() => {}).then(fn);
    this.#tails.set(k, run);
    try {
      return await run;
    } finally {
      if (this.#tails.get(k) === run) this.#tails.delete(k);
    }
  }
}

/** RFC 8620 §5.2: the changes since `since`, or null when they cannot be calculated. */
export function changesSince(
  doc: RecordDoc,
  since: string,
  maxChanges: number,
): {
  created: string[];
  updated: string[];
  destroyed: string[];
  newState: string;
  hasMoreChanges: boolean;
} | null {
  if (!/^[0-9]{1,15}$/.test(since)) return null;
  const from = Number(since);
  if (from > doc.state) return null;
  const first = doc.log.length > 0 ? doc.log[0][0] : doc.state + 1;
  if (from < doc.state && from + 1 < first) return null;
  const entries = doc.log.filter(([s]) => s > from);
  const taken = maxChanges > 0 ? entries.slice(0, maxChanges) : entries;
  const status = new Map<string, { first: ChangeKind; last: ChangeKind }>();
  for (const [, id, kind] of taken) {
    const s = status.get(id);
    if (s) s.last = kind;
    else status.set(id, { first: kind, last: kind });
  }
  const created: string[] = [];
  const updated: string[] = [];
  const destroyed: string[] = [];
  for (const [id, s] of status) {
    if (s.first === "c") {
      if (s.last !== "d") created.push(id);
    } else if (s.last === "d") destroyed.push(id);
    else updated.push(id);
  }
  const newState = taken.length < entries.length ? taken[taken.length - 1][0] : doc.state;
  return {
    created,
    updated,
    destroyed,
    newState: String(newState),
    hasMoreChanges: taken.length < entries.length,
  };
}
