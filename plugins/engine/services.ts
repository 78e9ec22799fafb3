/**
 * Host services plugins reach by message: a key-value area in the Store namespaced by
 * plugin name, and DNS lookups through the server's resolver. Arguments come from an
 * untrusted process, so each is checked here before it touches the Store or the network.
 *
 * Each is bounded per plugin (issue 13, item 13): the kv area by `kv_max_bytes`,
 * `kv_max_keys` (enforced by the Store, atomically) and `kv_max_value_bytes`; DNS by
 * `dns_max_in_flight` lookups at once, with up to DNS_MAX_QUEUED more waiting and the rest
 * refused; the lookup itself is injected (the server's resolver caches answers and shares
 * UDP sockets: core/plugin_dns.ts). A refusal is an error thrown in the plugin, never a failure of mail
 * (unless the plugin lets it escape its hook), and is logged.
 *
 * @module
 */
import { PLUGIN_LIMITS, type PluginConfig } from "./config.ts";
import { log } from "../../lib/log.ts";
import { type Store, StoreError } from "../../storage/mod.ts";
import type { SvcOp } from "./protocol.ts";
import type { ServiceHandler } from "./process.ts";

/** The part of the Store the kv service uses (an in-memory one serves `plugin test`). */
export type KvStore = Pick<
  Store,
  "kvGet" | "kvGetMany" | "kvSet" | "kvIncr" | "kvIncrMany" | "kvDelete"
>;

/**
 * A DNS lookup function: records as plain data, [] when the name or type has none. The
 * server gives the host its resolver (core/plugin_dns.ts); the engine has none of its own.
 */
export type DnsLookup = (name: string, type: string) => Promise<unknown[]>;

/** The lookup of a host given no resolver: every lookup fails (the plugin sees an error). */
export const noDnsLookup: DnsLookup = () =>
  Promise.reject(new Error("dns is not available here (no resolver given)"));

const MAX_KEY = 512;
/** DNS lookups of one plugin that may wait for a slot; more are refused. */
export const DNS_MAX_QUEUED = 1000;
/** At most one log line per plugin and kind of refusal in this many ms. */
const REFUSAL_LOG_MS = 10_000;
/** Keys of one kv.getMany. */
const MAX_MANY = 1000;
const DNS_TYPES = new Set(["A", "AAAA", "MX", "TXT", "PTR", "CNAME", "NS"]);

/** Namespace of a plugin's keys in the Store. */
export function kvNamespace(plugin: string): string {
  return `plugin:${plugin}`;
}

function key(v: unknown): string {
  if (typeof v !== "string" || v.length === 0 || v.length > MAX_KEY) {
    throw new Error(`kv key must be a string of 1..${MAX_KEY} characters`);
  }
  return v;
}

function ttl(v: unknown): number | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw new Error("kv ttlMs must be a positive number");
  }
  return Math.ceil(v);
}

/** Lookups of one plugin in flight, and those waiting for a slot. */
interface Gate {
  inFlight: number;
  waiting: Array<() => void>;
}

/** Runs `fn` when fewer than `max` of the gate's calls run; refuses past DNS_MAX_QUEUED. */
async function gated<T>(gate: Gate, max: number, fn: () => Promise<T>): Promise<T> {
  if (gate.inFlight >= max) {
    if (gate.waiting.length >= DNS_MAX_QUEUED) {
      throw new Error(
        `dns: too many lookups at once (dns_max_in_flight = ${max}, ${DNS_MAX_QUEUED} waiting)`,
      );
    }
    await new Promise<void>((resolve) => gate.waiting.push(resolve));
  } else gate.inFlight++;
  try {
    return await fn();
  } finally {
    // Hand the slot to the next waiting lookup, or give it back.
    const next = gate.waiting.shift();
    if (next) next();
    else gate.inFlight--;
  }
}

/** Bytes of `s` in UTF-8, encoding only when the length alone does not decide. */
function overBytes(s: string, max: number): boolean {
  if (s.length > max) return true;
  if (s.length * 3 <= max) return false;
  return new TextEncoder().encode(s).length > max;
}

/** Logs a refusal, at most once per plugin and kind every REFUSAL_LOG_MS. */
function refusalLogger(): (plugin: string, kind: string, reason: string) => void {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (plugin, kind, reason) => {
    const k = `${plugin}\0${kind}`;
    const now = Date.now();
    const seen = last.get(k);
    if (seen && now - seen.at < REFUSAL_LOG_MS) {
      seen.suppressed++;
      return;
    }
    last.set(k, { at: now, suppressed: 0 });
    log.warn("plugin", `plugin ${plugin}: ${kind} refused`, {
      reason,
      suppressed: seen?.suppressed ?? 0,
    });
  };
}

/**
 * The service handler the plugin processes use. `limits` maps a plugin's name to its
 * config (the host keeps it current across reloads); a name not there gets PLUGIN_LIMITS.
 */
export function hostServices(
  store: KvStore | null,
  dns: DnsLookup,
  limits: ReadonlyMap<string, PluginConfig> = new Map(),
): ServiceHandler {
  const gates = new Map<string, Gate>();
  const refused = refusalLogger();
  const limit = (plugin: string, k: keyof typeof PLUGIN_LIMITS): number =>
    limits.get(plugin)?.[k] ?? PLUGIN_LIMITS[k];
  const quota = (plugin: string) => ({
    maxBytes: limit(plugin, "kvMaxBytes"),
    maxKeys: limit(plugin, "kvMaxKeys"),
  });
  /** A Store quota refusal is logged, and reaches the plugin as its error. */
  const write = async <T>(plugin: string, w: Promise<T>): Promise<T> => {
    try {
      return await w;
    } catch (e) {
      if (e instanceof StoreError && e.code === "quota") refused(plugin, "kv write", e.message);
      throw e;
    }
  };
  return async (plugin: string, op: SvcOp, args: unknown[]) => {
    const ns = kvNamespace(plugin);
    const needStore = (): KvStore => {
      if (!store) throw new Error("kv is not available here (no store)");
      return store;
    };
    switch (op) {
      case "kv.get":
        return await needStore().kvGet(ns, key(args[0]));
      case "kv.getMany": {
        // Many reads, one message each way (a classifier reads hundreds of keys a message).
        const keys = args[0];
        if (!Array.isArray(keys) || keys.length > MAX_MANY) {
          throw new Error(`kv getMany takes a list of at most ${MAX_MANY} keys`);
        }
        const s = needStore();
        for (const k of keys) key(k);
        if (s.kvGetMany) return await s.kvGetMany(ns, keys);
        const out: (string | null)[] = [];
        for (const k of keys) out.push(await s.kvGet(ns, k));
        return out;
      }
      case "kv.set": {
        const value = args[1];
        if (typeof value !== "string") throw new Error("kv value must be a string");
        const max = limit(plugin, "kvMaxValueBytes");
        if (overBytes(value, max)) {
          const reason = `kv value is over kv_max_value_bytes (${max} bytes)`;
          refused(plugin, "kv value", reason);
          throw new Error(reason);
        }
        const s = needStore();
        await write(plugin, s.kvSet(ns, key(args[0]), value, ttl(args[2]), quota(plugin)));
        return null;
      }
      case "kv.incr": {
        const by = args[1] ?? 1;
        if (typeof by !== "number" || !Number.isSafeInteger(by)) {
          throw new Error("kv incr amount must be an integer");
        }
        const s = needStore();
        return await write(plugin, s.kvIncr(ns, key(args[0]), by, ttl(args[2]), quota(plugin)));
      }
      case "kv.incrMany": {
        // Many counts, one message each way (learning adds one per distinct token).
        const entries = args[0];
        if (!Array.isArray(entries) || entries.length > MAX_MANY) {
          throw new Error(`kv incrMany takes a list of at most ${MAX_MANY} [key, by] pairs`);
        }
        for (const e of entries) {
          if (!Array.isArray(e) || !Number.isSafeInteger(e[1])) {
            throw new Error("kv incrMany takes [key, by] pairs with integer amounts");
          }
          key(e[0]);
        }
        // One transaction for all (Store.kvIncrMany); null where the quota refused a key.
        const out = await needStore().kvIncrMany(ns, entries, ttl(args[1]), quota(plugin));
        const n = out.filter((v) => v === null).length;
        if (n > 0) refused(plugin, "kv write", `kv area full: ${n} new keys refused`);
        return out;
      }
      case "kv.delete":
        await needStore().kvDelete(ns, key(args[0]));
        return null;
      case "dns.resolve": {
        const [name, type] = args;
        if (typeof name !== "string" || name.length > 253 || typeof type !== "string") {
          throw new Error("dns.resolve(name, type) needs a name and a type");
        }
        const t = type.toUpperCase();
        if (!DNS_TYPES.has(t)) throw new Error(`dns type ${type} is not supported`);
        let gate = gates.get(plugin);
        if (!gate) gates.set(plugin, gate = { inFlight: 0, waiting: [] });
        try {
          return await gated(gate, limit(plugin, "dnsMaxInFlight"), () => dns(name, t));
        } catch (e) {
          if (/^dns: too many/.test((e as Error).message)) {
            refused(plugin, "dns lookup", (e as Error).message);
          }
          throw e;
        }
      }
    }
  };
}
