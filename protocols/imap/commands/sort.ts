/**
 * SORT and THREAD with their UID forms (RFC 5256 §3, §4; DISPLAYFROM/DISPLAYTO RFC 5957).
 * The search criteria are those of SEARCH; sorting and threading read only each matching
 * message's header.
 *
 * @module
 */
import { parseMime } from "../../../mime/mod.ts";
import type { MessageMeta, Store } from "../../../storage/mod.ts";
import { Code } from "../codes.ts";
import { enableCondstore } from "../condstore.ts";
import { command, type SessionContext } from "../context.ts";
import { ParseError } from "../errors.ts";
import type { ArgReader } from "../parser.ts";
import { untagged } from "../response.ts";
import { parseSearch, type SearchKey, usesModseq } from "../search.ts";
import { Pacer } from "../../../lib/yield.ts";
import {
  parseSortCriteria,
  type SortCriterion,
  type SortItem,
  sortItem,
  sortItems,
} from "../sort.ts";
import {
  formatThreads,
  THREAD_ALGORITHMS,
  type ThreadAlgorithm,
  threadOrderedSubject,
  threadReferences,
} from "../thread.ts";
import { checkCharset, type Match, searchSelected } from "./search.ts";

/** How much of a message is read first to find the end of its header. */
const HEADER_PROBE = 64 * 1024;

/** The header of a stored message: a prefix when the header ends in it, else the whole. */
async function headerBytes(store: Store, meta: MessageMeta): Promise<Uint8Array> {
  if (meta.size <= HEADER_PROBE) return await store.readBlob(meta.blobId);
  const head = await store.readBlobRange(meta.blobId, 0, HEADER_PROBE);
  for (let i = 0; i + 1 < head.length; i++) {
    if (
      head[i] === 0x0a && (head[i + 1] === 0x0a || (head[i + 1] === 0x0d && head[i + 2] === 0x0a))
    ) {
      return head.subarray(0, i + 1);
    }
  }
  return await store.readBlob(meta.blobId);
}

/** The SortItems of the messages that match `key`; messages gone meanwhile are counted. */
async function collect(
  ctx: SessionContext,
  charset: string,
  key: SearchKey,
): Promise<{ items: SortItem[]; missing: number; matches: Match[] }> {
  checkCharset(charset);
  // RFC 7162 §3.1.5: MODSEQ in the criteria enables CONDSTORE.
  if (usesModseq(key)) enableCondstore(ctx);
  const { found, missing } = await searchSelected(ctx, key);
  const items: SortItem[] = [];
  let gone = missing;
  const pace = new Pacer(); // synchronous reads: yield so other sessions run meanwhile
  for (const m of found) {
    await pace.tick();
    let header: Uint8Array;
    try {
      header = await headerBytes(ctx.deps.store, m.meta);
    } catch {
      gone++; // expunged by another session meanwhile
      continue;
    }
    items.push(sortItem(parseMime(header), {
      seq: m.seq,
      uid: m.uid,
      size: m.meta.size,
      internalDate: m.meta.internalDate,
    }));
  }
  return { items, missing: gone, matches: found };
}

/** charset SP search-criteria, as SORT and THREAD take them (RFC 5256 §5). */
function parseCharsetAndCriteria(r: ArgReader): { charset: string; key: SearchKey } {
  r.space();
  const charset = r.astring("a charset");
  const prog = parseSearch(r);
  if (prog.returns !== null || prog.charset !== null) {
    throw new ParseError("RETURN and CHARSET are not search keys");
  }
  return { charset, key: prog.key };
}

interface SortArgs {
  criteria: SortCriterion[];
  charset: string;
  key: SearchKey;
}

function expungedMeanwhile(missing: number, text: string) {
  return missing > 0
    ? { code: Code.EXPUNGEISSUED, text: "Some messages were expunged meanwhile" }
    : { text };
}

/** RFC 5256 §3: SORT (sort-criteria) charset search-criteria; `* SORT n...`. */
export const SORT = command({
  parse(r): SortArgs {
    r.space();
    const criteria = parseSortCriteria(r);
    return { criteria, ...parseCharsetAndCriteria(r) };
  },
  async run(ctx, { criteria, charset, key }, cmd) {
    const { items, missing, matches } = await collect(ctx, charset, key);
    const numbers = sortItems(items, criteria).map((it) => cmd.uid ? it.uid : it.seq);
    // RFC 7162 §3.1.5: with MODSEQ in the criteria, the highest modseq found.
    let mod = "";
    if (usesModseq(key) && matches.length > 0) {
      mod = ` (MODSEQ ${matches.reduce((n, m) => Math.max(n, m.meta.modseq), 0)})`;
    }
    ctx.send(untagged(`SORT${numbers.map((n) => " " + n).join("")}${mod}`));
    return expungedMeanwhile(missing, `${cmd.uid ? "UID SORT" : "SORT"} completed`);
  },
});

interface ThreadArgs {
  algorithm: ThreadAlgorithm;
  charset: string;
  key: SearchKey;
}

/** RFC 5256 §4: THREAD algorithm charset search-criteria; `* THREAD (...)...`. */
export const THREAD = command({
  parse(r): ThreadArgs {
    r.space();
    const name = r.atom("a thread algorithm").toUpperCase();
    if (!(THREAD_ALGORITHMS as readonly string[]).includes(name)) {
      throw new ParseError(`Unknown thread algorithm ${name}`);
    }
    return { algorithm: name as ThreadAlgorithm, ...parseCharsetAndCriteria(r) };
  },
  async run(ctx, { algorithm, charset, key }, cmd) {
    const { items, missing } = await collect(ctx, charset, key);
    const threads = algorithm === "REFERENCES"
      ? threadReferences(items)
      : threadOrderedSubject(items);
    const list = formatThreads(threads, (it) => cmd.uid ? it.uid : it.seq);
    ctx.send(untagged(list ? `THREAD ${list}` : "THREAD"));
    return expungedMeanwhile(missing, `${cmd.uid ? "UID THREAD" : "THREAD"} completed`);
  },
});
