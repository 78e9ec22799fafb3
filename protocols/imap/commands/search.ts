/**
 * SEARCH and UID SEARCH (RFC 9051 §6.4.4, §6.4.9), with RETURN options and the ESEARCH
 * reply (RFC 4731, part of IMAP4rev2) and SAVE / `$` (RFC 5182).
 *
 * @module
 */
import { parseMime } from "../../../mime/mod.ts";
import type { MessageMeta } from "../../../storage/mod.ts";
import { Code } from "../codes.ts";
import { enableCondstore } from "../condstore.ts";
import { command, overLimit, type SessionContext } from "../context.ts";
import { Pacer } from "../../../lib/yield.ts";
import { no } from "../errors.ts";
import { compactSet, str, untagged } from "../response.ts";
import {
  countKeys,
  indexQueries,
  matches,
  matchesPaced,
  MAX_SEARCH_KEYS,
  MAX_SEARCH_TEXT_KEYS,
  needsContent,
  parseSearch,
  SearchContent,
  type SearchKey,
  type SearchTarget,
  usesModseq,
} from "../search.ts";

/** RFC 9051 §6.4.4: UTF-8 and US-ASCII must be supported; nothing else is. */
const CHARSETS = new Set(["UTF-8", "US-ASCII"]);

/** The parts of an AND that can be decided without the message's bytes. */
function cheapPart(key: SearchKey): SearchKey | null {
  if (!needsContent(key)) return key;
  if (key.op !== "and") return null;
  const cheap = key.keys.filter((k) => !needsContent(k));
  return cheap.length ? { op: "and", keys: cheap } : null;
}

/**
 * UIDs that may match the text conditions of `key`, from the store's full-text index (a
 * superset: each is still checked on the message); null when there is no index or it
 * cannot narrow these conditions (then every message is read).
 */
async function indexCandidates(ctx: SessionContext, key: SearchKey): Promise<Set<number> | null> {
  const store = ctx.deps.store;
  if (!store.searchText) return null;
  let out: Set<number> | undefined;
  for (const q of indexQueries(key)) {
    const uids = await store.searchText(ctx.selected!.mailbox.id, q);
    if (uids === null) continue;
    const prev = out;
    out = new Set(prev ? uids.filter((u) => prev.has(u)) : uids);
    if (out.size === 0) break;
  }
  return out ?? null;
}

/** A message of the selected mailbox that matched. */
export interface Match {
  seq: number;
  uid: number;
  meta: MessageMeta;
}

/** Rejects a charset RFC 9051 §6.4.4 does not require (NO [BADCHARSET]). */
export function checkCharset(charset: string | null): void {
  if (charset !== null && !CHARSETS.has(charset.toUpperCase())) {
    throw no("Unsupported charset", `${Code.BADCHARSET} (UTF-8 US-ASCII)`);
  }
}

/**
 * Evaluates search criteria over the selected mailbox (also for SORT and THREAD, RFC 5256):
 * the matches in sequence order, and how many messages vanished while being read. Refuses
 * criteria over the limits with NO [LIMIT]; yields to the event loop as it goes.
 */
export async function searchSelected(
  ctx: SessionContext,
  key: SearchKey,
): Promise<{ found: Match[]; missing: number }> {
  const count = countKeys(key);
  if (count.keys > MAX_SEARCH_KEYS || count.text > MAX_SEARCH_TEXT_KEYS) {
    throw overLimit(
      ctx,
      `search with ${count.keys} keys (${count.text} string keys), at most ` +
        `${MAX_SEARCH_KEYS} (${MAX_SEARCH_TEXT_KEYS})`,
    );
  }
  const view = ctx.selected!;
  const scope = {
    exists: view.exists,
    maxUid: view.maxUid,
    savedUids: new Set(view.savedSearch),
  };
  const withContent = needsContent(key);
  const cheap = withContent ? cheapPart(key) : null;
  const candidates = withContent ? await indexCandidates(ctx, key) : null;
  const found: Match[] = [];
  let missing = 0;
  const msgs = [...view.messages];
  // SQLite reads are synchronous: without real yields one SEARCH holds every session.
  const pace = new Pacer();
  for (let i = 0; i < msgs.length; i++) {
    await pace.tick();
    const meta = msgs[i];
    const target: SearchTarget = {
      seq: i + 1,
      uid: meta.uid,
      flags: meta.flags,
      size: meta.size,
      internalDate: meta.internalDate,
      recent: view.recent.has(meta.uid),
      modseq: meta.modseq,
      content: null,
    };
    if (withContent) {
      if (cheap && !matches(cheap, target, scope)) continue;
      if (candidates && !candidates.has(meta.uid)) continue;
      try {
        const bytes = await ctx.deps.store.readBlob(meta.blobId);
        target.content = new SearchContent(bytes, parseMime(bytes));
      } catch {
        missing++; // expunged by another session meanwhile
        continue;
      }
    }
    const hit = withContent
      ? await matchesPaced(key, target, scope, pace)
      : matches(key, target, scope);
    if (hit) found.push({ seq: target.seq, uid: target.uid, meta });
  }
  return { found, missing };
}

/** RFC 9051 §6.4.4: SEARCH [RETURN (...)] [CHARSET x] criteria. */
export const SEARCH = command({
  parse: parseSearch,
  async run(ctx, prog, cmd) {
    checkCharset(prog.charset);
    const view = ctx.selected!;
    // RFC 7162 §3.1.5: SEARCH MODSEQ is a CONDSTORE enabling command.
    const modseqKey = usesModseq(prog.key);
    if (modseqKey) enableCondstore(ctx);
    const { found, missing } = await searchSelected(ctx, prog.key);
    const numbers = found.map((f) => cmd.uid ? f.uid : f.seq);
    const returns = prog.returns;
    // RFC 7162 §3.1.5: with MODSEQ in the criteria, the highest modseq of what was
    // found — RFC 4731 §3.2: of the messages returned when only MIN and/or MAX are.
    let reported = found;
    if (returns && !returns.has("ALL") && !returns.has("COUNT") && found.length > 0) {
      const byNumber = [...found].sort((a, b) => (cmd.uid ? a.uid - b.uid : a.seq - b.seq));
      reported = [];
      if (returns.has("MIN")) reported.push(byNumber[0]);
      if (returns.has("MAX")) reported.push(byNumber[byNumber.length - 1]);
    }
    const highest = modseqKey && reported.length > 0
      ? reported.reduce((n, f) => Math.max(n, f.meta.modseq), 0)
      : 0;
    // RFC 5182 §2.1: SAVE keeps the result (as UIDs) for "$".
    if (returns?.has("SAVE")) view.savedSearch = found.map((f) => f.uid);
    if (returns === null && !ctx.rev2) {
      // RFC 3501 §7.2.5: the IMAP4rev1 SEARCH response.
      const mod = highest ? ` (MODSEQ ${highest})` : "";
      ctx.send(untagged(`SEARCH${numbers.map((n) => " " + n).join("")}${mod}`));
    } else {
      const opts = returns ?? new Set(["ALL"]);
      // RFC 5182 §2.4: SAVE alone produces no ESEARCH response.
      if (!(opts.size === 1 && opts.has("SAVE"))) {
        // RFC 4731 §3.1 / RFC 9051 §7.3.4: ESEARCH (TAG "t") [UID] results.
        let line = `ESEARCH (TAG ${str(cmd.tag)})${cmd.uid ? " UID" : ""}`;
        // reduce, not Math.min(...): a spread of 100,000+ numbers overflows the stack.
        if (opts.has("MIN") && numbers.length) {
          line += ` MIN ${numbers.reduce((a, b) => a < b ? a : b)}`;
        }
        if (opts.has("MAX") && numbers.length) {
          line += ` MAX ${numbers.reduce((a, b) => a > b ? a : b)}`;
        }
        if (opts.has("ALL") && numbers.length) {
          line += ` ALL ${compactSet([...numbers].sort((a, b) => a - b))}`;
        }
        if (opts.has("COUNT")) line += ` COUNT ${numbers.length}`;
        // RFC 7162 §3.1.5 / RFC 4731 §3.2: the MODSEQ search return data.
        if (highest) line += ` MODSEQ ${highest}`;
        ctx.send(untagged(line));
      }
    }
    if (missing > 0) {
      return { code: Code.EXPUNGEISSUED, text: "Some messages were expunged meanwhile" };
    }
    return { text: `${cmd.uid ? "UID SEARCH" : "SEARCH"} completed` };
  },
});
