/**
 * The plugin SDK: the only module a denomail plugin imports.
 *
 * ```ts
 * import { definePlugin, reject } from "../sdk.ts"; // or the file URL of plugins/sdk.ts
 * export default definePlugin({
 *   hooks: {
 *     rcpt(ctx) { if (ctx.rcpt.domain === "blocked.test") return reject(550, "5.7.1", "no"); },
 *     data(ctx) { /* return nothing: continue *\/ },
 *   },
 * });
 * ```
 *
 * Invariants:
 * - A plugin runs in its own child process with only the Deno permissions its config
 *   grants. Everything it gets is plain data in the hook context; the host services
 *   (`ctx.kv`, `ctx.dns`) are reached by message, not by permission.
 * - A hook that returns nothing (or `undefined`) means "continue". The first verdict that
 *   is not "continue", in configured plugin order, wins.
 * - This module has no imports and does no I/O, so it loads in any sandbox.
 *
 * @module
 */

/** The hooks a plugin may declare, in the order a message meets them. */
export const HOOK_NAMES = [
  "connect",
  "ehlo",
  "auth",
  "mail",
  "rcpt",
  "data",
  "deliver",
  "queue",
  "delivered",
  "bounced",
  "mailbox_move",
] as const;

/** One of {@link HOOK_NAMES}. */
export type HookName = typeof HOOK_NAMES[number];

/** What a verdict tells the server to do. */
export type Action =
  | "continue"
  | "accept"
  | "reject"
  | "tempfail"
  | "disconnect"
  | "discard"
  | "quarantine";

/** The verdict vocabulary, in the order of {@link Action}. */
export const ACTIONS: readonly Action[] = [
  "continue",
  "accept",
  "reject",
  "tempfail",
  "disconnect",
  "discard",
  "quarantine",
];

/** A header to add: [name, value]. */
export type HeaderField = [name: string, value: string];

/**
 * What a hook returns. Every field is optional; `{}` or `undefined` is "continue".
 * Verdict helpers ({@link reject} ...) build the verdict part; spread them to add more:
 * `return { ...quarantine("spam"), score: 7, addHeaders: [["X-Spam", "yes"]] }`.
 */
export interface HookResult {
  action?: Action;
  /** SMTP reply code for reject / tempfail / disconnect (e.g. 550, 451, 421). */
  code?: number;
  /** Enhanced status code (RFC 3463), e.g. "5.7.1". */
  enhanced?: string;
  /** Reply text (one line; CR and LF are removed by the host). */
  text?: string;
  /** data / deliver: header fields to prepend to the message. */
  addHeaders?: HeaderField[];
  /** data / deliver: the new message body (everything after the header block). */
  body?: string | Uint8Array;
  /**
   * data / deliver: the whole new message (header block and body) replacing the one seen;
   * `addHeaders` and `body` of the same result then apply to it.
   */
  message?: string | Uint8Array;
  /** data: added to the message's score (later plugins see the running total). */
  score?: number;
  /** data / deliver: the mailbox to file the message in (e.g. "Junk"); a missing one: INBOX. */
  mailbox?: string;
  /**
   * deliver (SMTP): store this account's copy in each of these mailboxes, each with its
   * flags (replaces `mailbox`; at most 32). A Sieve filter's fileinto / keep list.
   */
  copies?: DeliverCopy[];
  /**
   * deliver (SMTP): also send this account's copy, unchanged, on to these addresses (at
   * most 4) through the outbound queue, the envelope sender rewritten with SRS (bounces go
   * back to the original sender; the account when SRS cannot apply, <> stays <>). Works
   * with `discard` (forward only). A Sieve filter's redirect.
   */
  redirect?: string[];
  /**
   * deliver (SMTP): an automatic reply (a Sieve vacation) to the envelope sender of this
   * message — `to` must be that sender; the host refuses any other — sent through the queue
   * with the null envelope sender (RFC 3834), `message` the whole reply (at most 64 KiB).
   */
  reply?: { to: string; message: string };
  /** queue: deliver through this relay instead of the MX hosts ("host" or "host:port"). */
  relay?: string;
  /**
   * queue: TLS policy for this recipient: "require" (no TLS, no delivery: retried, then
   * bounced), "opportunistic" (the default: STARTTLS when offered), "none" (no STARTTLS).
   */
  tls?: "require" | "opportunistic" | "none";
  /** A short note for the log line and for later plugins. */
  note?: string;
}

/** One stored copy a deliver hook asks for (see {@link HookResult.copies}). */
export interface DeliverCopy {
  mailbox: string;
  /** IMAP flags and keywords to set on the stored message ("\\Seen", "$Label1"). */
  flags?: string[];
  /** Create the mailbox when it does not exist (else a missing mailbox means INBOX). */
  create?: boolean;
}

/** One earlier plugin's result, as later plugins and the log line see it. */
export interface PluginResultSummary {
  plugin: string;
  hook: HookName;
  action: Action;
  score?: number;
  note?: string;
  /** Set when the plugin failed (timeout, crash, throw) instead of answering. */
  error?: string;
  /** Milliseconds the call took. */
  ms: number;
}

/** An email address split for convenience. `address` is "" for the null sender. */
export interface Address {
  address: string;
  local: string;
  domain: string;
}

/** What every hook sees about the SMTP session (or the delivery, for later hooks). */
export interface SessionInfo {
  /** A short id for the connection, the same in every hook of one session. */
  id: string;
  remoteIp: string;
  /**
   * "mx", "submission" or "submissions" for SMTP hooks (and deliver after SMTP); "imap" for
   * APPEND and mailbox_move; absent for the queue hooks (there `remoteIp`, `helo` and `user`
   * are those of the client that submitted the message).
   */
  role?: string;
  tls: boolean;
  /** The EHLO/HELO argument once given. */
  helo?: string;
  /** The authenticated user (full address) once authenticated. */
  user?: string;
}

/** A message as the data, deliver and queue hooks see it. */
export interface MessageView {
  /** Header fields in order, unfolded values. */
  headers: HeaderField[];
  /** The whole message as received (header block, blank line, body). */
  raw: Uint8Array;
  /** Octets. */
  size: number;
  /** The first value of a header field (case-insensitive), or undefined. */
  header(name: string): string | undefined;
  /** Every value of a header field (case-insensitive). */
  headerAll(name: string): string[];
  /** The body (after the blank line) as bytes. */
  body(): Uint8Array;
  /** The body decoded as UTF-8 (invalid bytes become U+FFFD). */
  bodyText(): string;
  /** The whole message decoded as UTF-8. */
  text(): string;
}

/** Key-value storage private to this plugin (the host namespaces it by plugin name). */
export interface PluginKv {
  get(key: string): Promise<string | null>;
  /** Several keys in one round trip (at most 1000): values in the order of `keys`. */
  getMany(keys: string[]): Promise<(string | null)[]>;
  /** ttlMs: the key disappears after that many milliseconds. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Atomically adds `by` (default 1) and returns the new value. */
  incr(key: string, by?: number, ttlMs?: number): Promise<number>;
  /**
   * `incr` of several keys in one round trip (at most 1000 `[key, by]` pairs, each atomic on
   * its own; `ttlMs` for all): the new values in order, null for a new key the plugin's full kv
   * area refused (`kv_max_keys` / `kv_max_bytes`; the others still count).
   */
  incrMany(entries: Array<[key: string, by: number]>, ttlMs?: number): Promise<(number | null)[]>;
  delete(key: string): Promise<void>;
}

/** DNS record types the host resolves for plugins. */
export type DnsType = "A" | "AAAA" | "MX" | "TXT" | "PTR" | "CNAME" | "NS";

/** DNS lookups through the server's resolver (its `[dns]` config applies). */
export interface PluginDns {
  /**
   * Records as plain data: A/AAAA/CNAME/NS/PTR -> strings, TXT -> strings (chunks joined),
   * MX -> {preference, exchange}. A name that does not exist resolves to [].
   */
  resolve(name: string, type: DnsType): Promise<unknown[]>;
}

/** What every hook gets. */
export interface BaseContext {
  hook: HookName;
  session: SessionInfo;
  /** The `options` table of this plugin's config. */
  options: Record<string, unknown>;
  /** Results of the plugins that ran before this one for this hook (and earlier hooks). */
  results: PluginResultSummary[];
  /** The plugin's name from the config. */
  plugin: string;
  kv: PluginKv;
  dns: PluginDns;
}

export type ConnectContext = BaseContext;

export interface EhloContext extends BaseContext {
  helo: string;
}

export interface AuthContext extends BaseContext {
  /** The user that just authenticated successfully. */
  user: string;
  mechanism: string;
}

export interface MailContext extends BaseContext {
  sender: Address;
  /** MAIL FROM parameters as parsed (size, body, smtputf8, ret, envid, requireTls ...). */
  params: Record<string, unknown>;
}

export interface RcptContext extends BaseContext {
  sender: Address;
  rcpt: Address;
  /** Recipients accepted so far in this transaction. */
  recipients: Address[];
}

export interface DataContext extends BaseContext {
  sender: Address;
  recipients: Address[];
  message: MessageView;
  /** Sum of the scores plugins have added so far. */
  score: number;
  /**
   * What this plugin's `prepare.data` returned for this message, when the host ran it
   * (see {@link Prepares}); undefined otherwise. The message may have gained header
   * fields from earlier plugins since.
   */
  prepared?: unknown;
}

/**
 * deliver: once per local account a message is about to be stored for, before it is
 * stored: by SMTP (after `data`), or by IMAP APPEND (`source: "append"`, e.g. a mail client
 * saving to Sent). A result may pick the mailbox, add header fields, or replace the message
 * (`message` or `body`); a plugin that changes the bytes changes only this account's copy.
 * `discard` drops this copy; `reject` / `tempfail` refuse the whole message (SMTP answers
 * once per message after DATA) or the APPEND.
 */
export interface DeliverContext extends BaseContext {
  /** "smtp": a received message for a local recipient; "append": IMAP APPEND. */
  source: "smtp" | "append";
  /** The envelope sender (APPEND: the account). */
  sender: Address;
  /** The address the message was sent to (after +tag/alias: as the client gave it). */
  recipient: Address;
  /** The account the copy is stored for (lower case): whose key to encrypt to. */
  account: string;
  /** The mailbox chosen so far: INBOX unless a plugin picked another; APPEND: its target. */
  mailbox: string;
  /** APPEND: the target mailbox's special use ("\\Sent", "\\Drafts", ...) or null. */
  specialUse?: string | null;
  /** APPEND: the flags the client gave. */
  flags?: string[];
  /** SMTP: the data hook's total score. */
  score?: number;
  /** The whole message as it would be stored (with Return-Path and Received for SMTP). */
  message: MessageView;
}

/**
 * queue: before each delivery attempt of a queued message, once per remote recipient
 * still pending. A result may `reject` (the recipient fails at once and the sender gets a
 * bounce), `tempfail` (this attempt is skipped; retried on the schedule), `discard` (dropped
 * silently), or choose `relay` and `tls`.
 */
export interface QueueContext extends BaseContext {
  sender: Address;
  recipient: Address;
  queueId: number;
  /** 1 for the first attempt. */
  attempt: number;
  /** The client asked for REQUIRETLS (RFC 8689) when it submitted the message. */
  requireTls: boolean;
  message: MessageView;
}

/** delivered (notification, its result is ignored): a remote server accepted the message. */
export interface DeliveredContext extends BaseContext {
  sender: Address;
  recipient: Address;
  queueId: number;
  /** The remote server (MX host or relay) that accepted it. */
  remoteMta?: string;
}

/**
 * bounced (notification, its result is ignored): the message failed for good for this
 * recipient (a permanent refusal, or too old to retry).
 */
export interface BouncedContext extends BaseContext {
  sender: Address;
  recipient: Address;
  queueId: number;
  /** RFC 3463 status, e.g. "5.1.1". */
  status: string;
  /** The remote reply or our reason, e.g. "550 5.1.1 No such user". */
  error: string;
  remoteMta?: string;
}

/**
 * mailbox_move (notification, its result is ignored): a user moved or copied a message
 * into the Junk mailbox ("junk": learn it as spam) or out of it into any mailbox other
 * than Trash ("ham": learn it as not spam), by IMAP COPY or MOVE; or marked it with
 * STORE, newly setting the keyword $Junk or Junk ("junk") or $NotJunk or NonJunk ("ham"),
 * where `from` and `to` are both the message's mailbox. One call per message.
 */
export interface MailboxMoveContext extends BaseContext {
  /** The account (lower case). */
  user: string;
  /** Source and destination mailbox names. */
  from: string;
  to: string;
  kind: "junk" | "ham";
  /** COPY, MOVE or STORE (a $Junk / $NotJunk keyword). */
  command: "copy" | "move" | "store";
  /** The message's UID in the destination mailbox (for STORE, in its mailbox). */
  uid: number;
  message: MessageView;
}

/** The context each hook receives. */
export interface HookContexts {
  connect: ConnectContext;
  ehlo: EhloContext;
  auth: AuthContext;
  mail: MailContext;
  rcpt: RcptContext;
  data: DataContext;
  deliver: DeliverContext;
  queue: QueueContext;
  delivered: DeliveredContext;
  bounced: BouncedContext;
  mailbox_move: MailboxMoveContext;
}

/** What a hook may return. */
export type HookReturn = HookResult | void | undefined;

/** A hook function. */
export type Hook<C> = (ctx: C) => HookReturn | Promise<HookReturn>;

/** The hooks of a plugin; declare only those you use: the host calls only those. */
export type Hooks = { [K in HookName]?: Hook<HookContexts[K]> };

/**
 * What a `prepare` function sees: the hook's context as the first plugin of the chain gets
 * it (the message as received), without `results` and `score`, which are not known yet.
 */
export type PrepareContext<C> = Omit<C, "results" | "score" | "prepared">;

/**
 * Work a hook can start before the plugins ahead of it have answered: the host calls
 * `prepare[hook]` when the chain starts, in parallel with the earlier plugins, and hands
 * its value to the hook as `ctx.prepared` when the plugin's turn comes. An optimization
 * only: the host may not call it (the message was replaced by an earlier plugin, the
 * plugin is first in the chain), and then `ctx.prepared` is undefined and the hook does
 * the work itself. Only `data` can be prepared.
 */
export type Prepares = {
  data?: (ctx: PrepareContext<DataContext>) => unknown;
};

/**
 * How much of the message a plugin reads (issue 23): the host sends only that much.
 * - "envelope": nothing of the message (sender, recipients, session; `ctx.message.size`
 *   only — every other part of `ctx.message` throws);
 * - "headers": the header block, not the body (`headers`, `header()`, `headerAll()` and
 *   `size` work; `raw`, `body()`, `bodyText()` and `text()` throw);
 * - "message": all of it (the default, as before `reads` existed).
 * The body is never sent to a plugin that did not declare "message", so it cannot be had
 * any other way either.
 */
export type Reads = "envelope" | "headers" | "message";

/**
 * `early: true` (issue 23): the host may ask this plugin's `data` hook ahead of its turn —
 * in parallel with the plugins ahead of it in the chain, and, for a plugin that reads only
 * the envelope, as soon as DATA is accepted, while the message is still arriving — and
 * applies the answer in its turn, in config order, exactly where it would have applied it.
 * What the plugin agrees to by declaring it:
 * - it may be asked for a message that then goes nowhere: refused by a plugin ahead of it
 *   or by the server (too big, say), or abandoned by the client mid-DATA. That answer is dropped. Declare `early` only for a
 *   hook whose side effects (kv writes, counters, notifications) are fine for such a message.
 * - it sees `ctx.score` and `ctx.results` as they were when the data stage began: the plain
 *   "continue" of a plugin ahead of it is not in its `ctx.results`. Whenever a plugin ahead
 *   of it changed something it reads — the score, a result with a note, score or error, the
 *   header fields or message (for a plugin that reads them), or the message size it was
 *   told — the host drops the early answer and asks it again in its turn, with the real
 *   context.
 * Only in a plugin's own process (or pool): a `group`'s members are asked together in one
 * call already.
 */
export type Early = boolean;

/** The values of {@link Reads}, least first. */
export const READS: readonly Reads[] = ["envelope", "headers", "message"];

/** The hooks whose context carries a message (where `reads` matters). */
export const MESSAGE_HOOKS = ["data", "deliver", "queue", "mailbox_move"] as const;

/** One of {@link MESSAGE_HOOKS}. */
export type MessageHook = typeof MESSAGE_HOOKS[number];

/** `reads`: one value for every message hook, or one per hook (unnamed hooks: "message"). */
export type ReadsDecl = Reads | { [K in MessageHook]?: Reads };

/**
 * Checks a `reads` declaration and returns it per message hook; throws a TypeError naming
 * the key (`reads`, `reads.data`) when a value is not one of {@link READS}.
 */
export function readsPerHook(decl: unknown): Record<MessageHook, Reads> {
  const ok = (v: unknown): v is Reads => (READS as readonly unknown[]).includes(v);
  const bad = (key: string, v: unknown) =>
    new TypeError(
      `${key} must be "envelope", "headers" or "message" (got ${
        typeof v === "string" ? JSON.stringify(v.slice(0, 40)) : typeof v
      })`,
    );
  const out = {
    data: "message",
    deliver: "message",
    queue: "message",
    mailbox_move: "message",
  } as Record<MessageHook, Reads>;
  if (decl === undefined) return out;
  if (typeof decl === "string") {
    if (!ok(decl)) throw bad("reads", decl);
    for (const h of MESSAGE_HOOKS) out[h] = decl;
    return out;
  }
  if (typeof decl !== "object" || decl === null || Array.isArray(decl)) throw bad("reads", decl);
  for (const [k, v] of Object.entries(decl)) {
    if (!(MESSAGE_HOOKS as readonly string[]).includes(k)) {
      throw new TypeError(`reads.${k}: not a hook with a message (${MESSAGE_HOOKS.join(", ")})`);
    }
    if (!ok(v)) throw bad(`reads.${k}`, v);
    out[k as MessageHook] = v;
  }
  return out;
}

/** A plugin definition as a module's default export. */
export interface PluginDefinition {
  readonly hooks: Hooks;
  /** See {@link Prepares}. */
  readonly prepare?: Prepares;
  /** See {@link Reads}; unset: "message" for every hook. */
  readonly reads?: ReadsDecl;
  /** See {@link Early}; unset: false. */
  readonly early?: Early;
  /** Marks the object as made by definePlugin (the runner checks it). */
  readonly denomailPlugin: 1;
}

/** Hooks that can be prepared (see {@link Prepares}). */
export const PREPARABLE_HOOKS: readonly HookName[] = ["data"];

/** Declares a plugin. Throws on an unknown hook name or a hook that is not a function. */
export function definePlugin(
  def: { hooks: Hooks; prepare?: Prepares; reads?: ReadsDecl; early?: Early },
): PluginDefinition {
  if (typeof def !== "object" || def === null || typeof def.hooks !== "object") {
    throw new TypeError("definePlugin: expected { hooks: { ... } }");
  }
  try {
    readsPerHook(def.reads);
  } catch (e) {
    throw new TypeError(`definePlugin: ${(e as Error).message}`);
  }
  if (def.early !== undefined && typeof def.early !== "boolean") {
    throw new TypeError(`definePlugin: early must be true or false (got ${typeof def.early})`);
  }
  for (const [name, fn] of Object.entries(def.hooks)) {
    if (!(HOOK_NAMES as readonly string[]).includes(name)) {
      throw new TypeError(`definePlugin: unknown hook "${name}" (hooks: ${HOOK_NAMES.join(", ")})`);
    }
    if (typeof fn !== "function") {
      throw new TypeError(`definePlugin: hook "${name}" is not a function`);
    }
  }
  for (const [name, fn] of Object.entries(def.prepare ?? {})) {
    if (!PREPARABLE_HOOKS.includes(name as HookName) || !(name in def.hooks)) {
      throw new TypeError(
        `definePlugin: prepare "${name}" needs a hook "${name}" that can be prepared`,
      );
    }
    if (typeof fn !== "function") {
      throw new TypeError(`definePlugin: prepare "${name}" is not a function`);
    }
  }
  return Object.freeze({
    hooks: { ...def.hooks },
    ...(def.prepare ? { prepare: { ...def.prepare } } : {}),
    ...(def.reads !== undefined
      ? { reads: typeof def.reads === "string" ? def.reads : { ...def.reads } }
      : {}),
    ...(def.early ? { early: true } : {}),
    denomailPlugin: 1 as const,
  });
}

/** Continue: the same as returning nothing. */
export function next(): HookResult {
  return { action: "continue" };
}

/** Accept now: later plugins are not asked for this hook. */
export function accept(note?: string): HookResult {
  return { action: "accept", note };
}

/** Reject permanently (5xx). */
export function reject(code = 550, enhanced = "5.7.1", text = "Rejected by policy"): HookResult {
  return { action: "reject", code, enhanced, text };
}

/** Reject temporarily (4xx): the client retries later. */
export function tempfail(
  code = 451,
  enhanced = "4.7.1",
  text = "Try again later",
): HookResult {
  return { action: "tempfail", code, enhanced, text };
}

/** Answer and close the connection. */
export function disconnect(
  code = 421,
  enhanced = "4.7.0",
  text = "Closing connection",
): HookResult {
  return { action: "disconnect", code, enhanced, text };
}

/** Accept the message but drop it silently. */
export function discard(note?: string): HookResult {
  return { action: "discard", note };
}

/** Accept the message and file it in the recipient's Junk mailbox. */
export function quarantine(note?: string): HookResult {
  return { action: "quarantine", note, mailbox: "Junk" };
}

/** data / deliver: a result that only adds header fields. */
export function addHeader(name: string, value: string): HookResult {
  return { addHeaders: [[name, value]] };
}
