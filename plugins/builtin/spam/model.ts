/**
 * The Bayes model in the plugin's key-value area (namespace `plugin:spam`), shared by the
 * plugin and `denomail spam train|classify`.
 *
 * Key layout (one key per token, both counts packed into one integer so that learning is
 * one atomic `incr` per token, and classifying one `get` per token):
 *
 * | key                      | value                                              |
 * | ------------------------ | -------------------------------------------------- |
 * | `t:<scope>:<tokenhash>`  | spam × 2^26 + ham: messages of each class with it  |
 * | `n:<scope>`              | spam × 2^26 + ham: messages learned                |
 * | `gen:<scope>`            | bumped after every learning: cache invalidation    |
 * | `l:<scope>:<msghash>`    | "s1" / "h1": learned as spam / ham, tokenizer v1   |
 *
 * `<scope>` is `g` (global) or `u:<address>` (one user's mail). A message is scored with
 * the sum of the global counts and its recipient's. Token hashes are 53-bit (cyrb53,
 * base 36), so keys are short and the store never holds the words themselves.
 *
 * The database stays bounded: a token seen in one learned message only (a hapax, most
 * tokens) is stored with an expiry of {@link HAPAX_TTL_MS}; when a second message brings
 * it, it is kept for good. Tokens of one-off campaigns fade by themselves, and learning
 * that would pass the plugin's `kv_max_keys` skips new tokens instead of failing.
 *
 * Invariants:
 * - A message is counted at most once per scope; learning it as the other class moves it.
 * - Readers cache token counts per scope and drop them when `gen:<scope>` changes, so one
 *   `get` per scope per message is the steady-state cost of a warm cache.
 *
 * @module
 */
import { TOKENIZER_VERSION } from "./tokenize.ts";
import { splitMailbox } from "../../../mime/address.ts";

/** The kv operations the model needs (the plugin's `ctx.kv`, or the store in the CLI). */
export interface Kv {
  get(key: string): Promise<string | null>;
  /** Many keys in one round trip (the plugin's kv has it; the CLI's store does not need it). */
  getMany?(keys: string[]): Promise<(string | null)[]>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  incr(key: string, by?: number, ttlMs?: number): Promise<number>;
  /**
   * Many `incr`s in one round trip (sdk.ts `PluginKv`, `Store.kvIncrMany`); null for a new
   * key a full kv area refused.
   */
  incrMany(entries: Array<[string, number]>, ttlMs?: number): Promise<(number | null)[]>;
  delete(key: string): Promise<void>;
}

/** Spam and ham message counts. */
export interface ClassCounts {
  spam: number;
  ham: number;
}

const SHIFT = 2 ** 26;

/** How long a token seen in only one learned message is kept (120 days). */
export const HAPAX_TTL_MS = 120 * 86_400_000;

/** Packs counts into one safe integer (ham < 2^26, spam < 2^27). */
export function pack(c: ClassCounts): number {
  return c.spam * SHIFT + c.ham;
}

/** Unpacks a stored value ("" / null / garbage read as zero). */
export function unpack(v: string | number | null): ClassCounts {
  const n = typeof v === "number" ? v : v === null ? 0 : Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) return { spam: 0, ham: 0 };
  return { spam: Math.floor(n / SHIFT), ham: n % SHIFT };
}

/** cyrb53: a fast 53-bit string hash (public domain, bryc). */
export function hash53(s: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The short key part of a token. */
export function tokenHash(token: string): string {
  return hash53(token).toString(36);
}

/** The scope of a user's counts ("" or null: global only). */
export function userScope(user: string | null | undefined): string | null {
  if (!user) return null;
  const u = user.toLowerCase();
  // user+tag@domain delivers to user@domain (README.md, "The CLI"): one scope for both.
  const parts = splitMailbox(u);
  const plus = parts ? parts.local.indexOf("+") : -1;
  return `u:${parts && plus > 0 ? `${parts.local.slice(0, plus)}@${parts.domain}` : u}`;
}

/** The global scope. */
export const GLOBAL = "g";

/** Keys of the layout above. */
export const keys = {
  token: (scope: string, hash: string) => `t:${scope}:${hash}`,
  totals: (scope: string) => `n:${scope}`,
  gen: (scope: string) => `gen:${scope}`,
  learned: (scope: string, msg: string) => `l:${scope}:${msg}`,
};

const keys_ = keys;

/** What `learn` did. */
export type LearnOutcome = "learned" | "relearned" | "already";

interface ScopeCache {
  /** The generation the cache holds (undefined: never read). */
  gen: string | null | undefined;
  totals: ClassCounts | null;
  /** Packed counts by token (not hash). */
  tokens: Map<string, number>;
}

/** Token counts read through a per-scope cache checked against `gen:<scope>`. */
export class BayesModel {
  readonly kv: Kv;
  #maxCached: number;
  #scopes = new Map<string, ScopeCache>();

  /** `maxCached`: token counts kept in memory over all scopes (then the cache restarts). */
  constructor(kv: Kv, opts: { maxCached?: number } = {}) {
    this.kv = kv;
    this.#maxCached = opts.maxCached ?? 500_000;
  }

  #cached = 0;

  /** Reads keys: in batches of 1000 with `getMany`, else one `get` each, concurrently. */
  async #getMany(keys: string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return [];
    const kv = this.kv;
    if (!kv.getMany) return await Promise.all(keys.map((k) => kv.get(k)));
    const parts: Promise<(string | null)[]>[] = [];
    for (let i = 0; i < keys.length; i += 1000) parts.push(kv.getMany(keys.slice(i, i + 1000)));
    return (await Promise.all(parts)).flat();
  }

  /** Asks for the `tokens` a scope's cache lacks; returns where their values will be. */
  #misses(scope: string, c: ScopeCache, tokens: string[], keys: string[]): Array<[string, number]> {
    const at: Array<[string, number]> = [];
    for (const t of tokens) {
      if (c.tokens.has(t)) continue;
      at.push([t, keys.length]);
      keys.push(keys_.token(scope, tokenHash(t)));
    }
    return at;
  }

  #store(c: ScopeCache, at: Array<[string, number]>, values: (string | null)[]): void {
    for (const [h, i] of at) {
      const v = values[i];
      if (!c.tokens.has(h)) this.#cached++;
      c.tokens.set(h, v === null ? 0 : Math.max(0, Number(v) || 0));
    }
  }

  /**
   * Sums of the counts of `tokens` (and the totals) over `scopes`. Missing tokens count
   * zero; a scope that has learned nothing is not asked for tokens. The cache is keyed by
   * the token itself, so a cached token costs no hashing.
   *
   * In the steady state this is one kv round trip: the scopes' generations together with
   * the tokens the cache lacks. A scope whose generation moved (someone learned) has its
   * cache dropped and is read again.
   */
  async read(
    scopes: string[],
    tokens: string[],
  ): Promise<{ totals: ClassCounts; counts: ClassCounts[] }> {
    if (this.#cached > this.#maxCached) {
      for (const s of this.#scopes.values()) s.tokens.clear();
      this.#cached = 0;
    }
    const unique = [...new Set(tokens)];
    const caches = scopes.map((scope) => {
      let c = this.#scopes.get(scope);
      if (!c) this.#scopes.set(scope, c = { gen: undefined, totals: null, tokens: new Map() });
      return c;
    });
    // Round trip 1: generations, plus the misses of scopes whose cache looks usable.
    const keys: string[] = scopes.map((s) => keys_.gen(s));
    const plans = caches.map((c, i) =>
      c.gen !== undefined && c.totals && c.totals.spam + c.totals.ham > 0
        ? this.#misses(scopes[i], c, unique, keys)
        : null
    );
    const values = await this.#getMany(keys);
    const stale: number[] = [];
    caches.forEach((c, i) => {
      if (c.gen !== values[i] || c.totals === null) {
        this.#cached -= c.tokens.size;
        c.tokens.clear();
        c.gen = values[i];
        c.totals = null;
        stale.push(i);
      } else if (plans[i]) this.#store(c, plans[i]!, values);
    });
    if (stale.length > 0) {
      // Round trip 2 (after learning, or the first time): totals, then the tokens.
      const totals = await this.#getMany(stale.map((i) => keys_.totals(scopes[i])));
      const again: string[] = [];
      const plans2 = stale.map((i, k) => {
        const c = caches[i];
        c.totals = unpack(totals[k]);
        return c.totals.spam + c.totals.ham > 0 ? this.#misses(scopes[i], c, unique, again) : null;
      });
      const values2 = await this.#getMany(again);
      stale.forEach((i, k) => {
        if (plans2[k]) this.#store(caches[i], plans2[k]!, values2);
      });
    }
    const totals = { spam: 0, ham: 0 };
    const packed = new Array<number>(tokens.length).fill(0);
    for (const c of caches) {
      totals.spam += c.totals!.spam;
      totals.ham += c.totals!.ham;
      if (c.totals!.spam + c.totals!.ham === 0) continue;
      tokens.forEach((t, i) => packed[i] += c.tokens.get(t) ?? 0);
    }
    return { totals, counts: packed.map(unpack) };
  }

  /** How many messages of each class a scope has learned. */
  async totals(scope: string): Promise<ClassCounts> {
    return unpack(await this.kv.get(keys.totals(scope)));
  }

  /**
   * Learns one message (its token `hashes`, its identity `msg`) as spam or ham in `scope`.
   * A message already learned as the same class is left alone; one learned as the other
   * class is moved (its counts subtracted first).
   */
  learn(
    scope: string,
    msg: string,
    hashes: string[],
    spam: boolean,
  ): Promise<LearnOutcome> {
    // One at a time: learning reads a message's record, then writes counts, so two
    // concurrent learns of one message (a STORE $Junk and a MOVE to Junk of it, say) would
    // both see it unlearned and count it twice. Learning is rare; a queue costs nothing.
    const run = this.#learning.then(() => this.#learn(scope, msg, hashes, spam));
    this.#learning = run.catch(() => {});
    return run;
  }

  #learning: Promise<unknown> = Promise.resolve();

  async #learn(
    scope: string,
    msg: string,
    hashes: string[],
    spam: boolean,
  ): Promise<LearnOutcome> {
    const batch = new LearnBatch(this.kv);
    const outcome = await batch.add(scope, msg, hashes, spam);
    await batch.flush();
    this.#cached -= this.#scopes.get(scope)?.tokens.size ?? 0;
    this.#scopes.delete(scope);
    return outcome;
  }
}

/**
 * Learning many messages at once (the CLI): counts are summed in memory and written as one
 * `incr` per distinct token at `flush()`, issued together so the store commits them in
 * large groups.
 */
export class LearnBatch {
  readonly kv: Kv;
  #deltas = new Map<string, number>();
  #records = new Map<string, string>();
  #scopes = new Set<string>();

  constructor(kv: Kv) {
    this.kv = kv;
  }

  /** Distinct keys waiting to be written. */
  get size(): number {
    return this.#deltas.size;
  }

  #add(key: string, by: number): void {
    const v = (this.#deltas.get(key) ?? 0) + by;
    if (v === 0) this.#deltas.delete(key);
    else this.#deltas.set(key, v);
  }

  /** Messages' new tokens left out because the kv area was full. */
  skipped = 0;

  /** From one message to two, a token is kept for good (a set without expiry). */
  async #keepSecond(key: string, v: number, by: number): Promise<void> {
    const total = (n: number) => {
      const c = unpack(n);
      return c.spam + c.ham;
    };
    if (total(v) >= 2 && total(v - by) < 2) await this.kv.set(key, String(v));
  }

  /**
   * Adds the counts, MANY keys a round trip (a learned message has hundreds of distinct
   * tokens). A token key is a hapax (expiring) until a second message has it.
   */
  async #count(entries: Array<[string, number]>): Promise<void> {
    const MANY = 1000;
    const tokens = entries.filter(([k]) => k.startsWith("t:"));
    const others = entries.filter(([k]) => !k.startsWith("t:"));
    const calls: Promise<void>[] = [];
    for (let i = 0; i < others.length; i += MANY) {
      calls.push(this.kv.incrMany(others.slice(i, i + MANY)).then(() => {}));
    }
    for (let i = 0; i < tokens.length; i += MANY) {
      const part = tokens.slice(i, i + MANY);
      calls.push(
        this.kv.incrMany(part, HAPAX_TTL_MS).then(async (values) => {
          const kept: Promise<void>[] = [];
          values.forEach((v, j) => {
            // A full kv area refuses new keys only: the message's known tokens still count.
            if (v === null) this.skipped++;
            else kept.push(this.#keepSecond(part[j][0], v, part[j][1]));
          });
          await Promise.all(kept);
        }),
      );
    }
    await Promise.all(calls);
  }

  /** Adds one message; see {@link BayesModel.learn}. */
  async add(scope: string, msg: string, hashes: string[], spam: boolean): Promise<LearnOutcome> {
    const recordKey = keys.learned(scope, msg);
    const record = this.#records.get(recordKey) ?? await this.kv.get(recordKey);
    const want = `${spam ? "s" : "h"}${TOKENIZER_VERSION}`;
    if (record === want) return "already";
    const one = pack(spam ? { spam: 1, ham: 0 } : { spam: 0, ham: 1 });
    let outcome: LearnOutcome = "learned";
    let delta = one;
    if (record !== null && record !== "") {
      outcome = "relearned";
      const was = pack(record[0] === "s" ? { spam: 1, ham: 0 } : { spam: 0, ham: 1 });
      // Undo the old class in the totals; its token counts too if they came from the same
      // tokenizer (else they stay: better a little noise than counts below zero).
      this.#add(keys.totals(scope), -was);
      if (record.slice(1) === String(TOKENIZER_VERSION)) delta = one - was;
    }
    for (const h of hashes) this.#add(keys.token(scope, h), delta);
    this.#add(keys.totals(scope), one);
    this.#records.set(recordKey, want);
    this.#scopes.add(scope);
    return outcome;
  }

  /** Writes everything added so far, then bumps each touched scope's generation. */
  async flush(): Promise<void> {
    const entries = [...this.#deltas];
    this.#deltas = new Map();
    const CHUNK = 4096;
    for (let i = 0; i < entries.length; i += CHUNK) await this.#count(entries.slice(i, i + CHUNK));
    const records = [...this.#records];
    this.#records = new Map();
    for (let i = 0; i < records.length; i += CHUNK) {
      await Promise.all(records.slice(i, i + CHUNK).map(([k, v]) => this.kv.set(k, v)));
    }
    const scopes = [...this.#scopes];
    this.#scopes.clear();
    await Promise.all(scopes.map((s) => this.kv.incr(keys.gen(s), 1)));
  }
}

/** A message's identity for learned records: its Message-ID and body, hashed. */
export async function messageKey(raw: Uint8Array): Promise<string> {
  // Headers this server (or a filter) adds must not change the identity, so only the
  // Message-ID field and the body count.
  let split = raw.length;
  for (let i = 0; i + 1 < raw.length; i++) {
    if (raw[i] === 10 && (raw[i + 1] === 10 || (raw[i + 1] === 13 && raw[i + 2] === 10))) {
      split = i + 1;
      break;
    }
  }
  const head = new TextDecoder().decode(raw.subarray(0, split));
  const mid = /^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(head)?.[1]?.trim() ?? "";
  const body = raw.subarray(split, Math.min(raw.length, split + 256 * 1024));
  const input = new Uint8Array(mid.length * 3 + 1 + body.length);
  const m = new TextEncoder().encodeInto(mid + "\n", input);
  input.set(body, m.written);
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", input.subarray(0, m.written + body.length)),
  );
  let hex = "";
  for (const b of digest.subarray(0, 12)) hex += b.toString(16).padStart(2, "0");
  return hex;
}
