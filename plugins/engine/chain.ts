/**
 * One hook's run through its plugins, as data: what each plugin's answer (or failure) does
 * to what the next plugin sees and to the outcome. Both sides use it: the host, to build
 * the outcome from the answers, and a runner that hosts a `group` of plugins, to run
 * several of them in one call (runner_core.ts) exactly as the host would. Pure: no I/O.
 *
 * Rules (plugins/engine/host.ts has them as invariants):
 * - The first verdict that is not "continue" ends the run and decides.
 * - A failure (timeout, crash, throw, bad answer) under `on_error = "tempfail"` ends the run
 *   with 451 4.3.0; under "continue" the plugin is skipped.
 * - Scores add up; a mailbox, relay or TLS policy picked by one plugin is what later
 *   plugins see; header fields and a replaced body or message are applied to the message
 *   before the next plugin sees it.
 *
 * @module
 */
import type { Action, DeliverCopy, HeaderField, HookName, PluginResultSummary } from "../sdk.ts";
import type { CheckedResult } from "./verdict.ts";
import { rewriteMessage } from "./message.ts";

/** The reply for a plugin failure under on_error = "tempfail". */
export const PLUGIN_FAILURE = {
  code: 451,
  enhanced: "4.3.0",
  text: "Temporary local problem, try again later",
} as const;

/** A run of one hook through its plugins. */
export class ChainState {
  action: Action = "continue";
  code?: number;
  enhanced?: string;
  text?: string;
  /** The plugin whose verdict (or failure) decided. */
  decidedBy?: string;
  score: number;
  mailbox?: string;
  /** deliver: the copies the last plugin that gave them asked for. */
  copies?: DeliverCopy[];
  /** deliver: the addresses the last plugin that gave them forwards the copy to. */
  redirect?: string[];
  /** deliver: an automatic reply to the sender. */
  reply?: { to: string; message: string };
  relay?: string;
  tls?: "require" | "opportunistic" | "none";
  /** Header fields added by every plugin so far, in order. */
  addHeaders: HeaderField[] = [];
  /** One entry per plugin asked so far. */
  results: PluginResultSummary[] = [];
  /** The message as the next plugin sees it. */
  message: Uint8Array | undefined;
  /** Some plugin changed the message. */
  changed = false;
  /** Some plugin replaced the message or its body (prepared values no longer apply). */
  replaced = false;
  /** The run is over: a verdict or a tempfail failure decided. */
  done = false;

  constructor(message: Uint8Array | undefined, score = 0) {
    this.message = message;
    this.score = score;
  }

  /** Applies one plugin's checked answer; returns true when it ended the run. */
  answer(plugin: string, hook: HookName, r: CheckedResult, ms: number): boolean {
    this.results.push({
      plugin,
      hook,
      action: r.action,
      ms,
      ...(r.score ? { score: r.score } : {}),
      ...(r.note ? { note: r.note } : {}),
    });
    this.score += r.score;
    if (r.mailbox) this.mailbox = r.mailbox;
    if (r.copies) this.copies = r.copies;
    if (r.redirect) this.redirect = r.redirect;
    if (r.reply) this.reply = r.reply;
    if (r.relay) this.relay = r.relay;
    if (r.tls) this.tls = r.tls;
    if (this.message && r.message) {
      // A whole replacement message (encrypt): later changes of this answer apply to it.
      this.message = r.message;
      this.changed = this.replaced = true;
    }
    if (r.body) this.replaced = true;
    if (this.message && (r.addHeaders.length || r.body)) {
      this.message = rewriteMessage(this.message, { addHeaders: r.addHeaders, body: r.body });
      this.changed = true;
    }
    this.addHeaders.push(...r.addHeaders);
    if (r.action === "continue") return false;
    this.action = r.action;
    this.code = r.code;
    this.enhanced = r.enhanced;
    this.text = r.text;
    this.decidedBy = plugin;
    return this.done = true;
  }

  /** Applies one plugin's failure; returns true when it ended the run (tempfail). */
  failure(
    plugin: string,
    hook: HookName,
    error: string,
    onError: "tempfail" | "continue",
    ms: number,
  ): boolean {
    const tempfail = onError === "tempfail";
    this.results.push({ plugin, hook, action: tempfail ? "tempfail" : "continue", error, ms });
    if (!tempfail) return false;
    Object.assign(this, { action: "tempfail", ...PLUGIN_FAILURE, decidedBy: plugin });
    return this.done = true;
  }
}
