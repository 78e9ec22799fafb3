/**
 * Push by EventSource (RFC 8620 §7.3): `GET eventSourceUrl?types=…&closeafter=state|no&ping=N`
 * answers a text/event-stream of `state` events (a StateChange object, §7.1) and `ping`
 * events.
 *
 * One PushHub per server (made by mod.ts) subscribes once to `deps.changeHub` while any
 * stream is open; a stream is a small record in a per-account Set. A store change is mapped
 * to its account, and the account's states are computed once per batch (a macrotask after
 * the change) with the same functions Mailbox/get and Email/get use (account_view.ts), then
 * written to every stream of that account that asked for a type whose state moved. So an
 * open stream costs a Set entry, a ReadableStream and (with ping) one timer — nothing is
 * read from storage for an account with no stream.
 *
 * Invariants:
 * - A stream sees only its own account's states.
 * - `stop()` ends every stream (a listener's graceful shutdown must not wait on them).
 *
 * @module
 */
import type { ServerDeps } from "../../../core/deps.ts";
import type { Account, MailboxChange } from "../../../storage/mod.ts";
import { log } from "../../../lib/log.ts";
import { stateOf } from "./state.ts";
import { accountIdOf } from "./ids.ts";
import { postPush, PUSHSUB_TYPE } from "./push_subscription.ts";
import { readDoc } from "./records.ts";

/**
 * Types this server pushes: the mail types, whose states follow store changes (RFC 8621
 * §1.5 EmailDelivery: a new Email arrived), and the record types, whose /set methods
 * report their new state (`recordChanged`).
 */
const MAIL_TYPES = ["Mailbox", "Email", "Thread", "EmailDelivery"] as const;
const RECORD_TYPES = ["Identity", "EmailSubmission", "VacationResponse"] as const;
const PUSH_TYPES = [...MAIL_TYPES, ...RECORD_TYPES] as const;
type PushType = typeof PUSH_TYPES[number];
export type RecordType = typeof RECORD_TYPES[number];
type States = Partial<Record<PushType, string>>;

/** Ping intervals accepted, in seconds (RFC 8620 §7.3: the server may pick another). */
const MIN_PING = 1;
const MAX_PING = 3600;

interface Stream {
  types: ReadonlySet<PushType>;
  closeAfterState: boolean;
  controller: ReadableStreamDefaultController<Uint8Array>;
  ping: ReturnType<typeof setInterval> | null;
  closed: boolean;
}

/** Parsed query parameters, or the reason they are bad. */
export function pushParams(
  url: URL,
): { types: Set<PushType>; closeAfterState: boolean; ping: number } | string {
  const types = url.searchParams.get("types") ?? "*";
  const closeafter = url.searchParams.get("closeafter") ?? "no";
  const ping = url.searchParams.get("ping") ?? "0";
  if (closeafter !== "state" && closeafter !== "no") return "closeafter must be state or no";
  if (!/^[0-9]{1,6}$/.test(ping)) return "ping must be a non-negative integer";
  const wanted = new Set<PushType>();
  for (const t of types.split(",")) {
    if (t === "*") PUSH_TYPES.forEach((p) => wanted.add(p));
    else if ((PUSH_TYPES as readonly string[]).includes(t)) wanted.add(t as PushType);
    // Unknown type names are ignored: the client may ask for types of other capabilities.
  }
  return { types: wanted, closeAfterState: closeafter === "state", ping: Number(ping) };
}

/**
 * How long an account's cached push subscriptions are used before they are read again: a
 * PushSubscription/set through another node (several nodes on one database) or an expiry is
 * seen within this.
 */
const SUBS_TTL_MS = 10_000;

export class PushHub {
  #deps: ServerDeps;
  #streams = new Map<number, Set<Stream>>();
  /** mailbox id -> account id (a mailbox never changes account). */
  #owner = new Map<number, number>();
  /** Last states sent per account with streams. */
  #last = new Map<number, States>();
  /**
   * Accounts whose first states are being read, and whether a change came meanwhile: that
   * read may already include the change, and taken as the baseline it would hide it from
   * every stream (the change's own push would find nothing moved).
   */
  #baseline = new Map<number, { changed: boolean }>();
  /** Accounts with changes not yet pushed, and whether one was a delivery. */
  #dirty = new Map<number, { delivery: boolean }>();
  #flush: ReturnType<typeof setTimeout> | null = null;
  #unsubscribe: (() => void) | null = null;
  #enc = new TextEncoder();
  /** Verified, unexpired push subscriptions per account (loaded on the first change). */
  #subs = new Map<number, Array<{ url: string; types: ReadonlySet<PushType> }>>();
  /** When each account's subscriptions were read (see SUBS_TTL_MS). */
  #subsAt = new Map<number, number>();
  #stopped = false;

  constructor(deps: ServerDeps) {
    this.#deps = deps;
    // Subscriptions outlive connections, so the hub listens for as long as the server runs.
    this.#unsubscribe = deps.changeHub.subscribeChanges((c) => this.#onChange(c));
  }

  /** A record type's state moved (Identity/set, …): tell the account's streams now. */
  recordChanged(accountId: number, type: RecordType, state: string): void {
    const event = (types: ReadonlySet<PushType>) =>
      types.has(type)
        ? { "@type": "StateChange", changed: { [accountIdOf(accountId)]: { [type]: state } } }
        : null;
    this.#send(accountId, event);
    if (!this.#haveSubs(accountId)) {
      this.#loadSubs(accountId).then(() => this.#post(accountId, event)).catch(() => {});
    } else this.#post(accountId, event);
  }

  /** Whether the account's cached subscriptions may be used (read, and recently). */
  #haveSubs(accountId: number): boolean {
    const at = this.#subsAt.get(accountId);
    return this.#subs.has(accountId) && at !== undefined && this.#deps.now() - at < SUBS_TTL_MS;
  }

  /** Drops the cached subscriptions of an account (after PushSubscription/set). */
  forget(accountId: number): void {
    this.#subs.delete(accountId);
  }

  async #loadSubs(accountId: number): Promise<void> {
    const doc = await readDoc(this.#deps.store, PUSHSUB_TYPE, accountId);
    const now = this.#deps.now();
    const list = Object.values(doc.objects).filter((o) =>
      o.verificationCode !== null && Date.parse(o.expires as string) > now
    ).map((o) => ({
      url: o.url as string,
      types: new Set(
        Array.isArray(o.types)
          ? PUSH_TYPES.filter((t) => (o.types as string[]).includes(t))
          : PUSH_TYPES,
      ),
    }));
    this.#subs.set(accountId, list);
    this.#subsAt.set(accountId, this.#deps.now());
  }

  /** Number of open streams (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const s of this.#streams.values()) n += s.size;
    return n;
  }

  /** Opens a stream for `account`. */
  open(account: Account, p: Exclude<ReturnType<typeof pushParams>, string>): Response {
    const accountId = account.id;
    let stream: Stream;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        stream = { ...p, controller, ping: null, closed: false };
        let set = this.#streams.get(accountId);
        if (!set) this.#streams.set(accountId, set = new Set());
        set.add(stream);
        if (!this.#last.has(accountId)) {
          this.#last.set(accountId, {});
          const reading = { changed: false };
          this.#baseline.set(accountId, reading);
          this.#states(accountId, new Set(MAIL_TYPES)).then((s) => {
            // A change during the read: no baseline, so its push reports every state.
            const last = reading.changed ? null : this.#last.get(accountId);
            if (last) Object.assign(last, s, { ...last });
          }).catch(() => {}).finally(() => {
            if (this.#baseline.get(accountId) === reading) this.#baseline.delete(accountId);
          });
        }
        if (p.ping > 0) {
          const interval = Math.min(MAX_PING, Math.max(MIN_PING, p.ping));
          const data = this.#enc.encode(`event: ping\ndata: {"interval":${interval}}\n\n`);
          stream.ping = setInterval(() => this.#write(accountId, stream, data), interval * 1000);
        }
        // A comment line at once, so clients and proxies see the stream open.
        controller.enqueue(this.#enc.encode(": denomail push\n\n"));
      },
      cancel: () => this.#close(accountId, stream),
    });
    return new Response(body, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "x-accel-buffering": "no" },
    });
  }

  /** Ends every stream. */
  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    for (const [accountId, set] of [...this.#streams]) {
      for (const s of [...set]) this.#close(accountId, s, true);
    }
    if (this.#flush !== null) clearTimeout(this.#flush);
    this.#flush = null;
  }

  #close(accountId: number, s: Stream, end = false): void {
    if (s.closed) return;
    s.closed = true;
    if (s.ping !== null) clearInterval(s.ping);
    if (end) {
      try {
        s.controller.close();
      } catch { /* already closed by the client */ }
    }
    const set = this.#streams.get(accountId);
    set?.delete(s);
    if (set && set.size === 0) {
      this.#streams.delete(accountId);
      if (!this.#subs.get(accountId)?.length) this.#last.delete(accountId);
    }
  }

  #write(accountId: number, s: Stream, data: Uint8Array): void {
    if (s.closed) return;
    try {
      s.controller.enqueue(data);
    } catch {
      this.#close(accountId, s);
    }
  }

  /** Records the change; runs synchronously inside the store's event (no I/O here). */
  #onChange(c: MailboxChange): void {
    // Before any await: a first-states read running now may include this change.
    const owner = c.kind === "mailbox" ? c.accountId : this.#owner.get(c.mailboxId);
    if (owner === undefined) this.#baseline.forEach((b) => b.changed = true);
    else if (this.#baseline.has(owner)) this.#baseline.get(owner)!.changed = true;
    if (c.kind === "mailbox") return this.#mark(c.accountId, false);
    if (owner !== undefined) return this.#mark(owner, c.kind === "append");
    this.#deps.store.getMailboxById(c.mailboxId).then((m) => {
      if (!m) return;
      this.#owner.set(m.id, m.accountId);
      this.#mark(m.accountId, c.kind === "append");
    }).catch(() => {});
  }

  #mark(accountId: number, delivery: boolean): void {
    if (this.#stopped) return;
    if (!this.#haveSubs(accountId)) {
      this.#loadSubs(accountId).then(() => this.#mark(accountId, delivery)).catch(() => {});
      return;
    }
    if (!this.#streams.has(accountId) && this.#subs.get(accountId)!.length === 0) return;
    const d = this.#dirty.get(accountId);
    if (d) d.delivery ||= delivery;
    else this.#dirty.set(accountId, { delivery });
    this.#flush ??= setTimeout(() => {
      this.#flush = null;
      this.#push().catch((e) => log.error("jmap", `push failed: ${(e as Error).message}`));
    }, 0);
  }

  /** The account's current states of `types` (the functions the get methods use). */
  async #states(accountId: number, types: ReadonlySet<PushType>): Promise<States> {
    const store = this.#deps.store;
    const out: States = {};
    if (types.has("Mailbox")) out.Mailbox = await stateOf(store, accountId, "mailbox");
    if (types.has("Email") || types.has("Thread") || types.has("EmailDelivery")) {
      const email = await stateOf(store, accountId, "email");
      out.Email = out.Thread = out.EmailDelivery = email;
    }
    return out;
  }

  async #push(): Promise<void> {
    const dirty = [...this.#dirty];
    this.#dirty.clear();
    for (const [accountId, { delivery }] of dirty) {
      const set = this.#streams.get(accountId) ?? new Set<Stream>();
      const subs = this.#subs.get(accountId) ?? [];
      if (set.size === 0 && subs.length === 0) continue;
      let last = this.#last.get(accountId);
      if (!last) this.#last.set(accountId, last = {});
      const wanted = new Set<PushType>();
      const mail = (t: PushType) => (MAIL_TYPES as readonly string[]).includes(t);
      for (const s of set) s.types.forEach((t) => mail(t) && wanted.add(t));
      for (const s of subs) s.types.forEach((t) => mail(t) && wanted.add(t));
      const now = await this.#states(accountId, wanted);
      const moved = new Set<PushType>();
      for (const t of wanted) {
        if (t === "EmailDelivery" ? delivery : now[t] !== last[t]) moved.add(t);
      }
      Object.assign(last, now);
      if (moved.size === 0) continue;
      const changeFor = (types: ReadonlySet<PushType>) => {
        const changed: Record<string, string> = {};
        for (const t of types) if (moved.has(t)) changed[t] = now[t]!;
        if (Object.keys(changed).length === 0) return null;
        return { "@type": "StateChange", changed: { [accountIdOf(accountId)]: changed } };
      };
      this.#send(accountId, changeFor);
      this.#post(accountId, changeFor);
    }
  }

  /** Writes the event `eventFor` gives each stream of the account (null: none for it). */
  #send(accountId: number, eventFor: (types: ReadonlySet<PushType>) => unknown | null): void {
    for (const s of [...this.#streams.get(accountId) ?? []]) {
      const event = eventFor(s.types);
      if (!event) continue;
      this.#write(
        accountId,
        s,
        this.#enc.encode(`event: state\ndata: ${JSON.stringify(event)}\n\n`),
      );
      // RFC 8620 §7.3 closeafter=state: end the response after one state event.
      if (s.closeAfterState) this.#close(accountId, s, true);
    }
  }

  /** RFC 8620 §7.2: verified subscriptions get the StateChange POSTed (not awaited). */
  #post(accountId: number, eventFor: (types: ReadonlySet<PushType>) => unknown | null): void {
    for (const sub of this.#subs.get(accountId) ?? []) {
      const event = eventFor(sub.types);
      if (event) postPush(sub.url, event).catch(() => {});
    }
  }
}
