/**
 * What the protocols' hook adapters remember between hooks, per session: the plugin
 * results of an SMTP session (connect, ehlo, auth) and of each transaction (mail, rcpt,
 * data), so later plugins can read earlier results and a message's log line lists every
 * verdict; and the session id plugins see for an IMAP connection. Keyed by the session,
 * transaction or connection object and dropped with it (WeakMaps). One per server,
 * created by app/server.ts and reached as `deps.hookState`.
 *
 * @module
 */
import type { PluginResultSummary } from "../plugins/sdk.ts";

export class HookState {
  /** Results of session-level hooks, by SMTP session. */
  readonly sessionResults = new WeakMap<object, PluginResultSummary[]>();
  /** Results of per-message hooks, by SMTP transaction (envelope). */
  readonly envelopeResults = new WeakMap<object, PluginResultSummary[]>();
  /** The id plugins see for an IMAP session, by connection. */
  readonly sessionIds = new WeakMap<object, string>();
}
