/**
 * Turns a Sieve outcome into the SDK's deliver verdict: stored copies (mailbox, flags,
 * create) for keep and fileinto, `redirect` addresses (the host forwards through the
 * queue), `discard` when nothing is stored, or `reject`.
 *
 * @module
 */
import { type DeliverCopy, discard, type HookResult, reject } from "../../sdk.ts";
import type { Outcome } from "./eval.ts";

// The host refuses a verdict with a flag that is not an IMAP atom (RFC 9051 §9 flag-keyword).
// deno-lint-ignore no-control-regex
const FLAG = /^\\?[^\s()\{%*"\\\]\x00-\x1f\x7f]{1,100}$/;

/** `mailbox`: where a keep goes (the mailbox chosen so far: INBOX, or Junk after spam). */
export function verdictOf(out: Outcome, mailbox: string): HookResult {
  const notes: string[] = [];
  if (out.error) notes.push(`error: ${out.error}`);
  const copies: DeliverCopy[] = [];
  const redirect: string[] = [];
  for (const a of out.actions) {
    if (a.type === "reject") {
      return {
        ...reject(550, "5.7.1", a.reason.split(/\r?\n/)[0] || "Rejected"),
        note: "sieve reject",
      };
    }
    if (a.type === "redirect") redirect.push(a.address);
    if (a.type === "vacation") notes.push(`vacation to ${a.to}`);
    if (a.type !== "keep" && a.type !== "fileinto") continue;
    const flags = a.flags.filter((f) => FLAG.test(f));
    copies.push({
      mailbox: a.type === "keep" ? mailbox : a.mailbox,
      ...(flags.length ? { flags } : {}),
      ...(a.type === "fileinto" && a.create ? { create: true } : {}),
    });
  }
  const fwd = redirect.length ? { redirect: redirect.slice(0, 4) } : {};
  const note = [
    `sieve: ${copies.map((c) => c.mailbox).join(",") || "discard"}`,
    ...redirect.map((r) => `redirect ${r}`),
    ...notes,
  ].join("; ").slice(0, 200);
  if (copies.length === 0) return { ...discard(note), ...fwd };
  return { copies: copies.slice(0, 32), ...fwd, note };
}
