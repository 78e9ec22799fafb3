/**
 * Host services plugins reach by message: a key-value area in the Store namespaced by
 * plugin name, and DNS lookups through the server's resolver. Arguments come from an
 * untrusted process, so each is checked here before it touches the Store or the network.
 *
 * @module
 */
import type { Config } from "../core/config.ts";
import { createResolver, DnsError } from "../core/dns.ts";
import type { Store } from "../storage/mod.ts";
import type { SvcOp } from "./protocol.ts";
import type { ServiceHandler } from "./process.ts";

/** The part of the Store the kv service uses (an in-memory one serves `plugin test`). */
export type KvStore = Pick<Store, "kvGet" | "kvGetMany" | "kvSet" | "kvIncr" | "kvDelete">;

/** A DNS lookup function: records as plain data, [] when the name or type has none. */
export type DnsLookup = (name: string, type: string) => Promise<unknown[]>;

const MAX_KEY = 512;
const MAX_VALUE = 1024 * 1024;
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

/**
 * DNS for plugins: A, AAAA, MX and TXT through core/dns.ts (so `[dns] nameserver` applies,
 * as it does for delivery); PTR, CNAME and NS through Deno.resolveDns with the same
 * nameserver and timeout.
 */
export function defaultDnsLookup(config: Config): DnsLookup {
  const resolver = createResolver(config.dns);
  return async (name, type) => {
    try {
      switch (type) {
        case "A":
          return await resolver.a(name);
        case "AAAA":
          return await resolver.aaaa(name);
        case "MX":
          return await resolver.mx(name);
        case "TXT":
          return await resolver.txt(name);
      }
    } catch (e) {
      if (e instanceof DnsError && e.permanent) return [];
      throw e;
    }
    const ns = config.dns.nameserver;
    const opts: Deno.ResolveDnsOptions = { signal: AbortSignal.timeout(config.dns.timeoutMs) };
    if (ns) opts.nameServer = { ipAddr: ns.host, port: ns.port };
    try {
      return await Deno.resolveDns(name, type as "PTR", opts);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
  };
}

/** The service handler the plugin processes use. */
export function hostServices(store: KvStore | null, dns: DnsLookup): ServiceHandler {
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
        if (typeof value !== "string" || value.length > MAX_VALUE) {
          throw new Error(`kv value must be a string of at most ${MAX_VALUE} characters`);
        }
        await needStore().kvSet(ns, key(args[0]), value, ttl(args[2]));
        return null;
      }
      case "kv.incr": {
        const by = args[1] ?? 1;
        if (typeof by !== "number" || !Number.isSafeInteger(by)) {
          throw new Error("kv incr amount must be an integer");
        }
        return await needStore().kvIncr(ns, key(args[0]), by, ttl(args[2]));
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
        return await dns(name, t);
      }
    }
  };
}
