/**
 * TOML configuration -> typed, validated Config.
 *
 * Every key has a default; an unknown key, a wrong type or a bad value throws a
 * ConfigError whose message names the key (the CLI prints it and exits 2).
 *
 * @module
 */
import { type ClusterConfig, readCluster } from "./config_cluster.ts";
import { parse as parseToml } from "smol-toml";
import { dirname, isAbsolute, resolve } from "node:path";
import { parseNetwork } from "./auth/networks.ts";
import { type AcmeConfig, type MtaStsConfig, readAcme, readMtaSts } from "./config_internet.ts";
import {
  PLUGIN_LIMITS,
  type PluginConfig,
  type PluginPermissions,
} from "../plugins/engine/config.ts";

export { PLUGIN_LIMITS, type PluginConfig, type PluginPermissions };
export type { AcmeConfig, MtaStsConfig };

/** "host:port" parsed. */
export interface HostPort {
  host: string;
  port: number;
}

export type ListenerName =
  | "smtp"
  | "submission"
  | "submissions"
  | "imap"
  | "imaps"
  | "pop3"
  | "pop3s"
  | "managesieve"
  | "http"
  | "https";

export const LISTENER_NAMES: readonly ListenerName[] = [
  "smtp",
  "submission",
  "submissions",
  "imap",
  "imaps",
  "pop3",
  "pop3s",
  "managesieve",
  "http",
  "https",
];

export interface Config {
  hostname: string;
  /** Absolute path. */
  dataDir: string;
  /** Folder of the config file (or the cwd for the defaults); relative paths resolve here. */
  baseDir: string;
  storage: {
    backend: "sqlite" | "postgres";
    url: string | null;
    /** A database larger than this is not copied before migrating: the start is refused. */
    preMigrationBackupMaxBytes: number;
    /** `serve --skip-migration-backup` (not a config key). */
    skipMigrationBackup?: boolean;
    /** What the history pruner keeps (expunged_keep, change_log_keep, audit_keep). */
    retention: { expungedKeep: number; changeLogKeep: number; auditKeepMs: number };
    pruneIntervalMs: number;
  };
  tls: { cert: string | null; key: string | null };
  listeners: Record<ListenerName, HostPort | null>;
  limits: {
    maxMessageBytes: number;
    maxRecipients: number;
    maxConnections: number;
    maxConnectionsPerIp: number;
    /** RFC 5321 §4.5.3.2 timeouts, ms. */
    smtpCommandTimeoutMs: number;
    smtpDataTimeoutMs: number;
    /** RFC 9051 §5.4: at least 30 minutes. */
    imapIdleTimeoutMs: number;
    /** IMAP sessions one account may have logged in at once. */
    maxImapConnectionsPerUser: number;
    /** RFC 1939 §3: at least 10 minutes. */
    pop3TimeoutMs: number;
    maxBadCommands: number;
    /** A command line, once begun, must be complete within this (slow-client deadline). */
    commandLineTimeoutMs: number;
    /** Octets/s a transfer (DATA, BDAT, literal) must keep up, after commandLineTimeoutMs of slack. */
    minDataRate: number;
    /** Deadline of a TLS handshake (implicit TLS, STARTTLS, STLS). */
    tlsHandshakeTimeoutMs: number;
  };
  auth: {
    allowPlaintextLoopback: boolean;
    /** Failures from one address (IPv6: one /64) before it must wait (growing delay). */
    maxFailuresPerAddress: number;
    /** Failures on one account before each attempt on it is slowed down (never locked). */
    maxFailuresPerAccount: number;
    /** Longest wait of a throttled address, and how long failures are remembered. */
    banTimeMs: number;
    /** Networks never throttled (CIDR or single addresses). */
    throttleExempt: string[];
  };
  dns: { nameserver: HostPort | null; timeoutMs: number };
  delivery: {
    smtpPort: number;
    retryScheduleMs: number[];
    maxAgeMs: number;
    /** RFC 3464 action=delayed: warn the sender once a message has waited this long; 0 = off. */
    delayWarningMs: number;
    concurrency: number;
    perDomainConcurrency: number;
    /** Honour destinations' MTA-STS policies (RFC 8461). */
    mtaSts: boolean;
    /** Check TLSA records when the resolver sets the AD bit (RFC 7672). */
    dane: boolean;
    /** Extra PEM root(s) trusted for outbound TLS and MTA-STS fetches (absolute path). */
    tlsCaFile: string | null;
    /** The port MTA-STS policies are fetched from: 443 (another only for tests). */
    mtaStsHttpsPort: number;
  };
  /** Reports we send (RFC 8460 TLS-RPT, RFC 7489 §7.2 DMARC aggregate). */
  reports: {
    tlsRpt: boolean;
    dmarcAggregate: boolean;
    /** The reporting organization's name (org-name / org_name). */
    orgName: string;
    /** The From: address of the reports (a local address). */
    from: string;
  };
  plugins: PluginConfig[];
  submission: SubmissionConfig;
  /** This node among several on one database (README "Running several nodes"). */
  cluster: ClusterConfig;
  /** [acme]: certificates from an ACME CA (core/acme/); null without `directory`. */
  acme: AcmeConfig | null;
  /** [mta_sts]: the policy we publish (RFC 8461 §3.2). */
  mtaSts: MtaStsConfig;
  /** The file this was read from (absolute), or absent for the built-in defaults. */
  source?: string;
}

/**
 * Who may send as whom on the submission listeners (MAIL FROM, and the From: and Sender:
 * header fields; core/identity.ts). Every account may use its own address, its +tag
 * forms and the aliases that resolve to it; these keys add more.
 */
export interface SubmissionConfig {
  /** Accounts (lower-case addresses) that may send as any address. */
  admins: string[];
  /** Account -> extra identities: addresses ("team@d") or whole domains ("@d"), lower-case. */
  allowedIdentities: Map<string, string[]>;
}

/** A config problem; `message` is the one line to print. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** "30s", "5m", "2h", "5d", "250ms" -> milliseconds. */
export function parseDuration(value: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]]);
}

/** "host:port" / "[::1]:port" -> HostPort, or null when malformed. */
export function parseHostPort(value: string): HostPort | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s\[\]]+)):(\d{1,5})$/.exec(value);
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 0 || port > 65535) return null;
  return { host: m[1] ?? m[2], port };
}

export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(":") ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

type Table = Record<string, unknown>;

/** Reads typed values out of one TOML table, remembering which keys were used. */
class TableReader {
  #used = new Set<string>();
  constructor(readonly data: Table, readonly path: string) {}

  #key(k: string): string {
    return this.path ? `${this.path}.${k}` : k;
  }

  #get(k: string): unknown {
    this.#used.add(k);
    return this.data[k];
  }

  string(k: string, def: string): string {
    const v = this.#get(k);
    if (v === undefined) return def;
    if (typeof v !== "string") throw new ConfigError(`config: ${this.#key(k)} must be a string`);
    return v;
  }

  optString(k: string): string | null {
    const v = this.#get(k);
    if (v === undefined) return null;
    if (typeof v !== "string") throw new ConfigError(`config: ${this.#key(k)} must be a string`);
    return v;
  }

  bool(k: string, def: boolean): boolean {
    const v = this.#get(k);
    if (v === undefined) return def;
    if (typeof v !== "boolean") {
      throw new ConfigError(`config: ${this.#key(k)} must be true or false`);
    }
    return v;
  }

  int(k: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.#get(k);
    if (v === undefined) return def;
    const n = typeof v === "bigint" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(`config: ${this.#key(k)} must be an integer from ${min} to ${max}`);
    }
    return n;
  }

  duration(k: string, def: string): number {
    const v = this.#get(k) ?? def;
    const ms = typeof v === "string" ? parseDuration(v) : null;
    if (ms === null) {
      throw new ConfigError(
        `config: ${this.#key(k)} must be a duration like "30s", "5m", "2h" or "5d"`,
      );
    }
    return ms;
  }

  /** A duration that must not be zero (a deadline of 0 would refuse everyone). */
  positiveDuration(k: string, def: string): number {
    const ms = this.duration(k, def);
    if (ms <= 0) throw new ConfigError(`config: ${this.#key(k)} must be longer than 0s`);
    return ms;
  }

  durationList(k: string, def: string[]): number[] {
    const v = this.#get(k) ?? def;
    if (!Array.isArray(v) || v.length === 0) {
      throw new ConfigError(`config: ${this.#key(k)} must be a non-empty list of durations`);
    }
    return v.map((item, i) => {
      const ms = typeof item === "string" ? parseDuration(item) : null;
      if (ms === null) {
        throw new ConfigError(`config: ${this.#key(k)}[${i}] must be a duration like "5m"`);
      }
      return ms;
    });
  }

  hostPort(k: string, def: string): HostPort | null {
    const v = this.string(k, def);
    if (v === "") return null;
    const hp = parseHostPort(v);
    if (!hp) {
      throw new ConfigError(`config: ${this.#key(k)} must be "host:port" (got "${v}")`);
    }
    return hp;
  }

  stringList(k: string): string[] {
    const v = this.#get(k);
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
      throw new ConfigError(`config: ${this.#key(k)} must be a list of strings`);
    }
    return v as string[];
  }

  table(k: string): TableReader {
    const v = this.#get(k);
    if (v === undefined) return new TableReader({}, this.#key(k));
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw new ConfigError(`config: ${this.#key(k)} must be a table`);
    }
    return new TableReader(v as Table, this.#key(k));
  }

  raw(k: string): unknown {
    return this.#get(k);
  }

  /** Throws on the first key that was never read. */
  rejectUnknown(): void {
    for (const k of Object.keys(this.data)) {
      if (!this.#used.has(k)) throw new ConfigError(`config: unknown key ${this.#key(k)}`);
    }
  }
}

export const DEV_LISTENERS: Record<ListenerName, string> = {
  smtp: "127.0.0.1:2525",
  submission: "127.0.0.1:2587",
  submissions: "127.0.0.1:2465",
  imap: "127.0.0.1:2143",
  imaps: "127.0.0.1:2993",
  pop3: "127.0.0.1:2110",
  pop3s: "127.0.0.1:2995",
  managesieve: "127.0.0.1:24190",
  http: "127.0.0.1:8025",
  https: "127.0.0.1:8443",
};

const PERMISSION_KINDS = ["net", "read", "write", "env", "run", "ffi", "sys"] as const;

function readPlugin(r: TableReader, baseDir: string): PluginConfig {
  const name = r.string("name", "");
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/i.test(name)) {
    throw new ConfigError(`config: ${r.path}.name must be set (letters, digits, - and _)`);
  }
  let module = r.string("module", "");
  if (module === "") throw new ConfigError(`config: ${r.path}.module must be set`);
  if (!module.startsWith("builtin:") && !module.startsWith("file:")) {
    module = isAbsolute(module) ? module : resolve(baseDir, module);
  }
  const p = r.table("permissions");
  const permissions = {} as PluginPermissions;
  for (const kind of PERMISSION_KINDS) permissions[kind] = p.stringList(kind);
  p.rejectUnknown();
  const onError = r.string("on_error", "tempfail");
  if (onError !== "tempfail" && onError !== "continue") {
    throw new ConfigError(`config: ${r.path}.on_error must be "tempfail" or "continue"`);
  }
  const options = r.raw("options") ?? {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ConfigError(`config: ${r.path}.options must be a table`);
  }
  const cfg: PluginConfig = {
    name,
    module,
    permissions,
    timeoutMs: r.int("timeout_ms", 2000, 1, 600_000),
    memoryMb: r.int("memory_mb", 256, 16, 65536),
    onError,
    options: options as Record<string, unknown>,
    processes: r.int("processes", 1, 1, 16),
    kvMaxBytes: r.int("kv_max_bytes", PLUGIN_LIMITS.kvMaxBytes, 0, 2 ** 40),
    kvMaxKeys: r.int("kv_max_keys", PLUGIN_LIMITS.kvMaxKeys, 0, 1_000_000_000),
    kvMaxValueBytes: r.int("kv_max_value_bytes", PLUGIN_LIMITS.kvMaxValueBytes, 1, 2 ** 26),
    dnsMaxInFlight: r.int("dns_max_in_flight", PLUGIN_LIMITS.dnsMaxInFlight, 1, 4096),
  };
  const group = r.string("group", "");
  if (group !== "") {
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/i.test(group)) {
      throw new ConfigError(`config: ${r.path}.group must be letters, digits, - and _`);
    }
    cfg.group = group;
  }
  r.rejectUnknown();
  return cfg;
}

/**
 * Plugins of one group run in one process, so they must ask for the same sandbox: the same
 * permissions, memory_mb and processes (a plugin must never get a grant by sharing a
 * process).
 */
function checkGroups(plugins: PluginConfig[]): void {
  const first = new Map<string, PluginConfig>();
  for (const [i, p] of plugins.entries()) {
    if (!p.group) continue;
    const f = first.get(p.group);
    if (!f) {
      first.set(p.group, p);
      continue;
    }
    const same = (a: string[], b: string[]) =>
      a.length === b.length && [...a].sort().every((v, j) => v === [...b].sort()[j]);
    const kind = PERMISSION_KINDS.find((k) => !same(p.permissions[k], f.permissions[k]));
    const differs = kind
      ? `permissions.${kind}`
      : p.memoryMb !== f.memoryMb
      ? "memory_mb"
      : p.processes !== f.processes
      ? "processes"
      : null;
    if (differs) {
      throw new ConfigError(
        `config: plugins[${i}].group "${p.group}": ${differs} must be the same as plugin "${f.name}" of that group`,
      );
    }
  }
}

/** Builds a Config from a parsed TOML document. */
export function configFromObject(doc: Table, baseDir: string): Config {
  const r = new TableReader(doc, "");
  const hostname = r.string("hostname", "localhost");
  if (!/^[a-z0-9.-]+$/i.test(hostname)) {
    throw new ConfigError(`config: hostname must be a DNS name (got "${hostname}")`);
  }
  const dataDirRaw = r.string("data_dir", "./data");
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(baseDir, dataDirRaw);

  const s = r.table("storage");
  const backend = s.string("backend", "sqlite");
  if (backend !== "sqlite" && backend !== "postgres") {
    throw new ConfigError(`config: storage.backend must be "sqlite" or "postgres"`);
  }
  // The URL may hold a password: $DENOMAIL_DATABASE_URL keeps it out of the config file.
  const url = s.optString("url") ??
    (backend === "postgres" ? Deno.env.get("DENOMAIL_DATABASE_URL") || null : null);
  if (backend === "postgres" && !url) {
    throw new ConfigError(
      `config: storage.url (or $DENOMAIL_DATABASE_URL) is required when storage.backend = "postgres"`,
    );
  }
  if (url !== null) checkDatabaseUrl(url);
  const preMigrationBackupMaxBytes = s.int("pre_migration_backup_max_bytes", 10 * 1024 ** 3);
  const retention = {
    expungedKeep: s.int("expunged_keep", 50_000),
    changeLogKeep: s.int("change_log_keep", 200_000),
    auditKeepMs: s.duration("audit_keep", "365d"),
  };
  const pruneIntervalMs = s.positiveDuration("prune_interval", "1h");
  s.rejectUnknown();

  const t = r.table("tls");
  const resolvePath = (p: string | null) => p === null ? null : resolve(baseDir, p);
  const tls = { cert: resolvePath(t.optString("cert")), key: resolvePath(t.optString("key")) };
  if ((tls.cert === null) !== (tls.key === null)) {
    throw new ConfigError(`config: tls.cert and tls.key must be set together`);
  }
  t.rejectUnknown();

  const l = r.table("listeners");
  const listeners = {} as Record<ListenerName, HostPort | null>;
  for (const name of LISTENER_NAMES) listeners[name] = l.hostPort(name, DEV_LISTENERS[name]);
  l.rejectUnknown();

  const lim = r.table("limits");
  const limits = {
    maxMessageBytes: lim.int("max_message_bytes", 52_428_800, 1024),
    maxRecipients: lim.int("max_recipients", 100, 1, 100_000),
    maxConnections: lim.int("max_connections", 2000, 1),
    maxConnectionsPerIp: lim.int("max_connections_per_ip", 100, 1),
    smtpCommandTimeoutMs: lim.duration("smtp_command_timeout", "5m"),
    smtpDataTimeoutMs: lim.duration("smtp_data_timeout", "10m"),
    imapIdleTimeoutMs: lim.duration("imap_idle_timeout", "30m"),
    maxImapConnectionsPerUser: lim.int("max_imap_connections_per_user", 50, 1),
    pop3TimeoutMs: lim.duration("pop3_timeout", "10m"),
    maxBadCommands: lim.int("max_bad_commands", 20, 1),
    commandLineTimeoutMs: lim.positiveDuration("command_line_timeout", "60s"),
    minDataRate: lim.int("min_data_rate", 1024, 0),
    tlsHandshakeTimeoutMs: lim.positiveDuration("tls_handshake_timeout", "10s"),
  };
  lim.rejectUnknown();

  const a = r.table("auth");
  const auth = {
    allowPlaintextLoopback: a.bool("allow_plaintext_loopback", true),
    maxFailuresPerAddress: a.int("max_failures_per_address", 10, 1, 1_000_000),
    maxFailuresPerAccount: a.int("max_failures_per_account", 20, 1, 1_000_000),
    banTimeMs: a.duration("ban_time", "15m"),
    throttleExempt: a.raw("throttle_exempt") === undefined
      ? ["127.0.0.0/8", "::1"]
      : a.stringList("throttle_exempt"),
  };
  if (auth.banTimeMs < 1000) throw new ConfigError(`config: auth.ban_time must be at least "1s"`);
  for (const [i, net] of auth.throttleExempt.entries()) {
    if (!parseNetwork(net)) {
      throw new ConfigError(
        `config: auth.throttle_exempt[${i}] must be an address or network like "10.0.0.0/8" (got "${net}")`,
      );
    }
  }
  a.rejectUnknown();

  const d = r.table("dns");
  const ns = d.optString("nameserver");
  const nameserver = ns === null ? null : parseHostPort(ns);
  if (ns !== null && !nameserver) {
    throw new ConfigError(`config: dns.nameserver must be "host:port" (got "${ns}")`);
  }
  const dns = { nameserver, timeoutMs: d.duration("timeout", "5s") };
  d.rejectUnknown();

  const dl = r.table("delivery");
  const delivery = {
    smtpPort: dl.int("smtp_port", 25, 1, 65535),
    retryScheduleMs: dl.durationList("retry_schedule", [
      "1m",
      "5m",
      "15m",
      "1h",
      "2h",
      "4h",
      "8h",
    ]),
    maxAgeMs: dl.duration("max_age", "5d"),
    // "" (or "0s") turns delay warnings off.
    delayWarningMs: dl.string("delay_warning", "4h") === ""
      ? 0
      : dl.duration("delay_warning", "4h"),
    concurrency: dl.int("concurrency", 20, 1, 1000),
    perDomainConcurrency: dl.int("per_domain_concurrency", 4, 1, 100),
    mtaSts: dl.bool("mta_sts", true),
    dane: dl.bool("dane", true),
    tlsCaFile: resolvePath(dl.optString("tls_ca_file")),
    mtaStsHttpsPort: dl.int("mta_sts_https_port", 443, 1, 65535),
  };
  dl.rejectUnknown();
  if (delivery.tlsCaFile !== null) {
    try {
      Deno.statSync(delivery.tlsCaFile);
    } catch (e) {
      throw new ConfigError(
        `config: delivery.tls_ca_file: cannot read ${delivery.tlsCaFile} (${(e as Error).name})`,
      );
    }
  }

  const rp = r.table("reports");
  const reports = {
    tlsRpt: rp.bool("tls_rpt", false),
    dmarcAggregate: rp.bool("dmarc_aggregate", false),
    orgName: rp.string("org_name", hostname),
    from: rp.string("from", `postmaster@${hostname}`),
  };
  if (!ADDRESS.test(reports.from)) {
    throw new ConfigError(`config: reports.from must be an address (got "${reports.from}")`);
  }
  rp.rejectUnknown();

  const rawPlugins = r.raw("plugins") ?? [];
  if (!Array.isArray(rawPlugins)) {
    throw new ConfigError(`config: plugins must be an array of tables ([[plugins]])`);
  }
  const plugins = rawPlugins.map((p, i) => {
    if (typeof p !== "object" || p === null || Array.isArray(p)) {
      throw new ConfigError(`config: plugins[${i}] must be a table`);
    }
    return readPlugin(new TableReader(p as Table, `plugins[${i}]`), baseDir);
  });
  const names = new Set<string>();
  for (const p of plugins) {
    if (names.has(p.name)) throw new ConfigError(`config: plugin name "${p.name}" is used twice`);
    names.add(p.name);
  }
  checkGroups(plugins);

  const submission = readSubmission(r.table("submission"));
  const cluster = readCluster(r.table("cluster"), (m) => {
    throw new ConfigError(m);
  });
  const fail = (message: string): never => {
    throw new ConfigError(message);
  };
  const acme = readAcme(r.table("acme"), { hostname, tlsSet: tls.cert !== null, baseDir }, fail);
  const mtaSts = readMtaSts(r.table("mta_sts"), fail);
  const challengeListener = acme?.challenge === "tls-alpn-01" ? "https" : "http";
  if (acme && !listeners[challengeListener]) {
    throw new ConfigError(
      `config: acme.challenge "${acme.challenge}" needs listeners.${challengeListener}`,
    );
  }
  r.rejectUnknown();

  return {
    hostname,
    dataDir,
    baseDir,
    storage: { backend, url, preMigrationBackupMaxBytes, retention, pruneIntervalMs },
    tls,
    listeners,
    limits,
    auth,
    dns,
    delivery,
    reports,
    plugins,
    submission,
    cluster,
    acme,
    mtaSts,
  };
}

const ADDRESS = /^[^@\s]+@[^@\s]+$/;
const DOMAIN_IDENTITY = /^@[^@\s]+$/;

/** [submission]: admins = [...], allowed_identities = { "user@d" = ["x@d", "@d2"] }. */
function readSubmission(t: TableReader): SubmissionConfig {
  const admins = t.stringList("admins").map((a, i) => {
    if (!ADDRESS.test(a)) {
      throw new ConfigError(`config: submission.admins[${i}] must be an address (got "${a}")`);
    }
    return a.toLowerCase();
  });
  const raw = t.raw("allowed_identities") ?? {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(
      `config: submission.allowed_identities must be a table of address = [identities]`,
    );
  }
  const allowedIdentities = new Map<string, string[]>();
  for (const [account, list] of Object.entries(raw as Table)) {
    const key = `submission.allowed_identities."${account}"`;
    if (!ADDRESS.test(account)) throw new ConfigError(`config: ${key} must be an address`);
    if (!Array.isArray(list)) throw new ConfigError(`config: ${key} must be a list of strings`);
    const ids = list.map((id, i) => {
      if (typeof id !== "string" || !(ADDRESS.test(id) || DOMAIN_IDENTITY.test(id))) {
        throw new ConfigError(`config: ${key}[${i}] must be an address or "@domain"`);
      }
      return id.toLowerCase();
    });
    const lower = account.toLowerCase();
    allowedIdentities.set(lower, [...(allowedIdentities.get(lower) ?? []), ...ids]);
  }
  t.rejectUnknown();
  return { admins, allowedIdentities };
}

/**
 * Checks `storage.url`: `postgres://USER[:PASS]@HOST[:PORT]/DB` (or `postgresql://`), query
 * options such as `?sslmode=require` allowed. The message never repeats the password.
 */
function checkDatabaseUrl(url: string): void {
  let u: URL | null = null;
  try {
    u = new URL(url);
  } catch { /* reported below */ }
  const ok = u !== null && (u.protocol === "postgres:" || u.protocol === "postgresql:") &&
    u.hostname !== "" && u.username !== "" && /^\/[^/]+$/.test(u.pathname);
  if (!ok) {
    const shown = u ? (u.password ? url.replace(`:${u.password}@`, ":***@") : url) : "not a URL";
    throw new ConfigError(
      `config: storage.url must be postgres://USER[:PASS]@HOST[:PORT]/DB (got ${
        JSON.stringify(shown)
      })`,
    );
  }
}

/** Parses TOML text; syntax errors become a one-line ConfigError. */
export function parseConfig(text: string, baseDir: string, source = "config"): Config {
  let doc: Table;
  try {
    doc = parseToml(text) as Table;
  } catch (e) {
    // smol-toml's TomlError carries the position; its message's first line does not.
    const err = e as Error & { line?: number; column?: number };
    const first = String(err.message).split("\n")[0].replace(/^Invalid TOML document: /, "");
    const at = typeof err.line === "number" ? `:${err.line}:${err.column ?? 0}` : "";
    throw new ConfigError(`${source}${at}: invalid TOML: ${first}`);
  }
  return configFromObject(doc, baseDir);
}

/**
 * Loads the config: an explicit path, else $DENOMAIL_CONFIG, else ./denomail.toml if
 * present, else the dev defaults.
 */
export async function loadConfig(explicitPath?: string | null): Promise<Config> {
  const path = explicitPath ?? Deno.env.get("DENOMAIL_CONFIG") ?? null;
  if (path !== null) {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      throw new ConfigError(`--config: cannot read ${path}: ${(e as Error).message}`);
    }
    return { ...parseConfig(text, dirname(resolve(path)), path), source: resolve(path) };
  }
  try {
    const text = await Deno.readTextFile("denomail.toml");
    return { ...parseConfig(text, Deno.cwd(), "denomail.toml"), source: resolve("denomail.toml") };
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return configFromObject({}, Deno.cwd());
}
