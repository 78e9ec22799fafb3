/**
 * What a protocol session is given: everything it may reach, nothing global.
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
}

/** What a protocol module gives the listener for each accepted connection. */
export interface ProtocolHandler {
  /** Runs a whole session; returns when it ends. The listener closes the connection. */
  handle(conn: Connection): Promise<void>;
  /** Says "too busy" in the protocol's own words (a limit was hit), then returns. */
  refuse(conn: Connection, reason: "total" | "per_ip"): Promise<void>;
}
