/**
 * "Sources held out" (issue 21, round 7): the ham counterpart of campaigns held out. The
 * reserved set loses ham that no development protocol does, and the likely kind is ham from
 * a source the filter never learned — a mailing list, a newsletter, a feed or a
 * correspondent that only appears later. Every development protocol learns some of every
 * source it classifies, so the development ham is grouped by source and whole sources are
 * held out, k-fold: each fold learns the older 70 % of the spam and the ham of the other
 * folds' sources, and classifies its own sources' ham with a 1/k share of the newer 30 % of
 * the spam (so F1 means something), the two spread through one stream as they would arrive
 * (spam_splits.ts `interleaved`). Each ham and each newer spam is classified exactly once.
 *
 * A message's source is, in order: its mailing list (List-Id, RFC 2919; else the list
 * address of an ezmlm / Yahoo Groups `Mailing-List` field; else the address of List-Post,
 * RFC 2369), else who sent it — the From address's organisational domain, or the address
 * itself at a free mail service (each user there is a correspondent of their own), or, for
 * an address that writes under many display names (a feed gateway that mails each feed's
 * items under the feed's name), the display name.
 *
 * @module
 */
import { parseMail } from "../plugins/builtin/spam/parse.ts";
import { FREEMAIL_FIRST_LIST, orgDomain } from "../plugins/builtin/spam/rules/headers.ts";
import { splitMailbox } from "../mime/address.ts";
import { listIdOf } from "../plugins/builtin/spam/list_source.ts";
import { byDate, interleaved, NEWER_FRACTION, type Sample, type Split } from "./spam_splits.ts";

/** Folds of the source protocol: each fold learns about 4/5 of the ham. */
export const SOURCE_FOLDS = 5;

/**
 * An address seen under at least this many display names is a gateway, keyed by name. The
 * development feed gateway mails 15 feeds under one address; a publisher with several
 * newsletters (Lockergnome: 5 names) stays one source.
 */
export const GATEWAY_NAMES = 10;

/** Free mail services: the frozen list of the campaign protocol, so folds do not move. */
const FREEMAIL = new Set(FREEMAIL_FIRST_LIST);

/** What the source key is made from, per message. */
export interface SourceFacts {
  /** The list it came through ("" when none). */
  list: string;
  /** The From address, lower case ("" when none). */
  from: string;
  /** The From display name, lower case, blanks collapsed. */
  name: string;
}

/**
 * The list a message came through: the plugin's reading of it (List-Id, Mailing-List),
 * else the address of List-Post (RFC 2369 §3.4).
 */
export function listOf(header: (name: string) => string | undefined): string {
  const id = listIdOf(header);
  if (id) return id;
  const post = /<mailto:([^<>?\s]+)/i.exec(header("list-post") ?? "")?.[1];
  return post ? post.toLowerCase() : "";
}

/** The facts of one raw message. */
export function sourceFacts(raw: Uint8Array): SourceFacts {
  const m = parseMail(raw, 65536);
  return {
    list: listOf((n) => m.header(n)),
    from: m.fromAddress.toLowerCase(),
    name: m.fromName.toLowerCase().replace(/\s+/g, " ").trim(),
  };
}

/** The source key of each message of a set (gateways are told by the whole set). */
export function sourceKeys(facts: SourceFacts[]): string[] {
  const names = new Map<string, Set<string>>();
  for (const f of facts) {
    if (f.list || !f.from) continue;
    const set = names.get(f.from) ?? new Set();
    set.add(f.name);
    names.set(f.from, set);
  }
  return facts.map((f) => {
    if (f.list) return `list:${f.list}`;
    if (!f.from) return "none";
    if ((names.get(f.from)?.size ?? 0) >= GATEWAY_NAMES) return `name:${f.from}:${f.name}`;
    const domain = splitMailbox(f.from)?.domain;
    if (!domain) return `addr:${f.from}`;
    const org = orgDomain(domain);
    return FREEMAIL.has(org) ? `addr:${f.from}` : `org:${org}`;
  });
}

/** The source split: its folds, and how the ham fell into sources. */
export interface SourcePlan {
  folds: Split[];
  sources: number;
  /** The largest sources: key and ham messages, largest first. */
  largest: Array<[string, number]>;
  /** Sources of one message. */
  singletons: number;
}

/**
 * Whole sources dealt into `k` folds, largest first, each to the fold with the fewest ham
 * so far; `keys[i]` is the source of `all[i]` (only ham keys are used).
 */
export function foldsBySource(all: Sample[], keys: string[], k = SOURCE_FOLDS): SourcePlan {
  const groups = new Map<string, Sample[]>();
  all.forEach((s, i) => {
    if (s.spam) return;
    const g = groups.get(keys[i]) ?? [];
    g.push(s);
    groups.set(keys[i], g);
  });
  // Largest first; equal sizes by key, so the folds do not depend on the order read.
  const ordered = [...groups].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
  const foldHam: Sample[][] = Array.from({ length: k }, () => []);
  for (const [, g] of ordered) {
    const f = foldHam.reduce((best, x, i) => x.length < foldHam[best].length ? i : best, 0);
    foldHam[f].push(...g);
  }
  const spam = byDate(all.filter((s) => s.spam));
  const cut = Math.round(spam.length * (1 - NEWER_FRACTION));
  const older = spam.slice(0, cut);
  const newer = spam.slice(cut);
  const folds = foldHam.map((held, f) => ({
    name: `sources held out, fold ${f + 1}`,
    train: [...older, ...foldHam.filter((_, g) => g !== f).flat()],
    test: interleaved([newer.filter((_, i) => i % k === f), held]),
  }));
  return {
    folds,
    sources: groups.size,
    largest: ordered.slice(0, 6).map(([key, g]) => [key, g.length]),
    singletons: ordered.filter(([, g]) => g.length === 1).length,
  };
}

/** The folds of the development split, reading each ham message's header. */
export async function sourceFolds(all: Sample[]): Promise<SourcePlan> {
  const facts = await Promise.all(
    all.map(async (s) =>
      s.spam ? { list: "", from: "", name: "" } : sourceFacts(await Deno.readFile(s.path))
    ),
  );
  return foldsBySource(all, sourceKeys(facts));
}
