/**
 * Where accepted mail meets the reports (called by core/commit_message.ts and the SMTP data
 * hook, after the fact, never delaying a reply): the auth plugin's DMARC results counted
 * for our aggregate reports (`[reports] dmarc_aggregate`), and DMARC reports addressed to
 * postmaster@<one of our domains> read into the view. Never throws.
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { Store } from "../../storage/mod.ts";
import type { PluginResultSummary, SessionInfo } from "../../plugins/sdk.ts";
import { parseAuthNote } from "../../plugins/builtin/auth/results.ts";
import { log } from "../../lib/log.ts";
import { observeDmarc } from "./dmarc_aggregate.ts";
import { ingestDmarcReports } from "./dmarc_ingest.ts";

export interface ObservedMessage {
  session: SessionInfo;
  sender: string;
  message: Uint8Array;
  results?: PluginResultSummary[];
  /** Recipients of local copies as the client gave them. */
  localRecipients: string[];
  now: number;
}

/** After an accepted message: count its DMARC results; read reports sent to postmaster. */
export async function observeAccepted(
  deps: { config: Config; store: Store },
  m: ObservedMessage,
  rejected = false,
): Promise<void> {
  try {
    // Mail from our own authenticated users is not DMARC-evaluated (the plugin skips it).
    if (deps.config.reports.dmarcAggregate && !m.session.user && m.results?.length) {
      await observeDmarc(deps.store, {
        ip: m.session.remoteIp,
        sender: m.sender,
        helo: m.session.helo,
        message: m.message,
        results: m.results,
        rejected,
      }, m.now);
    }
    if (!rejected && m.localRecipients.some((r) => /^postmaster@/i.test(r))) {
      const ours = new Set((await deps.store.listDomains()).map((d) => d.name.toLowerCase()));
      await ingestDmarcReports(deps.store, m.message, ours);
    }
  } catch (e) {
    log.warn("reports", "message not counted for reports", { error: (e as Error).message });
  }
}

/** True when the auth plugin refused the message (DMARC reject, RFC 7489 §6.6.2). */
export function rejectedByDmarc(results: PluginResultSummary[]): boolean {
  return results.some((r) => r.action === "reject" && parseAuthNote(r.note)?.dmarc === "fail");
}
