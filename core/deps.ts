/**
 * What a protocol session is given: everything it may reach, nothing global. Built once by
 * app/server.ts; the registries on it are per server, so several servers in one process
 * (tests) never share state.
 *
 * @module
 */
import type { Config } from "./config.ts";
import type { Store } from "../storage/mod.ts";
import type { TlsProvider } from "./tls.ts";
import type { Authenticator } from "./auth.ts";
import type { Router } from "./router.ts";
import type { Connection } from "./connection.ts";
import type { PluginHost } from "../plugins/engine/host.ts";
import type { ChangeHub } from "./change_hub.ts";
import type { UserSessions } from "./user_sessions.ts";
import type { MaildropLocks } from "./maildrop_lock.ts";
import type { RecentTracker } from "./recent.ts";
import type { HookState } from "./hook_state.ts";
import type { MailboxKeywords } from "./mailbox_keywords.ts";
import type { AcmeManager } from "./acme/manager.ts";
import type { ActivityLog } from "./activity.ts";

export interface ServerDeps {
  config: Config;
  store: Store;
  tls: TlsProvider;
  auth: Authenticator;
  router: Router;
  /** Milliseconds since the epoch; tests may replace it. */
  now(): number;
  /** The plugin host, when plugins are configured (plugins/engine/host.ts). */
  plugins?: PluginHost;
  /** Certificates by ACME, when [acme] is configured (core/acme/manager.ts). */
  acme?: AcmeManager;
  /** Aborted once the process is shutting down (SIGINT/SIGTERM received). */
  shutdown: AbortSignal;
  // Registries that live as long as the server (one each, made by app/server.ts):
  /** The store's change events, fanned out to sessions (IMAP IDLE/NOTIFY, JMAP push). */
  changeHub: ChangeHub;
  /** Logged-in IMAP sessions per account (the per-user connection limit). */
  userSessions: UserSessions;
  /** POP3 maildrop locks (one session per account). */
  maildropLocks: MaildropLocks;
  /** IMAP4rev1 \Recent: which UIDs no session has claimed yet. */
  recent: RecentTracker;
  /** Keywords each mailbox has had (IMAP FLAGS never drops one). */
  mailboxKeywords: MailboxKeywords;
  /** What the hook adapters remember per session. */
  hookState: HookState;
  /**
   * Re-reads the config and reloads the TLS certificate and the plugins, as SIGHUP does;
   * set by `serve` (which knows the config file), absent otherwise.
   */
  reload?: () => Promise<{ ok: boolean; error?: string }>;
  /** Recent deliveries, refusals, failed logins (the admin console's Activity). */
  activity?: ActivityLog;
}

/** What a protocol module gives the listener for each accepted connection. */
export interface ProtocolHandler {
  /** Runs a whole session; returns when it ends. The listener closes the connection. */
  handle(conn: Connection): Promise<void>;
  /** Says "too busy" in the protocol's own words (a limit was hit), then returns. */
  refuse(conn: Connection, reason: "total" | "per_ip"): Promise<void>;
}
