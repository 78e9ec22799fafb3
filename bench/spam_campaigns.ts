/**
 * "Campaigns held out" (issue 21): the spam of a later period belongs to campaigns the filter
 * never learned, while the time splits still share campaigns between what is learned and
 * what is classified. So the development spam is grouped into campaigns — connected
 * components of messages that share any key: the normalised Subject (digits, case, reply
 * prefixes, list tags and random tails gone), the organisational domain of From or
 * Return-Path or of a link — each only when no ham has it (free mail, mailing lists that
 * relay spam and the sites everybody links to tie different campaigns together) — and whole
 * campaigns are held out, k-fold: each fold learns the
 * other folds' spam and the older 70 % of the ham, and classifies its own campaigns plus
 * every k-th of the newer 30 % of the ham, so each message is classified exactly once.
 *
 * @module
 */
import { parseMail } from "../plugins/builtin/spam/parse.ts";
import { FREEMAIL_FIRST_LIST, orgDomain } from "../plugins/builtin/spam/rules/headers.ts";
import { urlHost } from "../plugins/builtin/spam/parse.ts";
import { byDate, NEWER_FRACTION, type Sample, type Split } from "./spam_splits.ts";

/**
 * Folds of the campaign protocol. Three: each fold then learns about as much spam as the
 * time split does (333 against 350), so what differs is only that the campaigns classified
 * were never learned. (Two folds miss more — 71 of 500 on main — but learn only half the
 * spam, which mixes in a second effect.)
 */
export const CAMPAIGN_FOLDS = 3;

/** Subject with what changes inside one campaign taken out ("" when too little is left). */
export function normalSubject(subject: string): string {
  // A tag after a run of blanks defeats checksums ("Don't wait!            ccaxc").
  let s = subject.replace(/\s{3,}\S+\s*$/, "").toLowerCase()
    // Reply prefixes and mailing list tags ("Re: [ILUG] ...").
    .replace(/^(\s*((re|fw|fwd|aw)\s*(\[\d+\])?\s*:|\[[^\]]{1,30}\])\s*)+/g, "")
    // Random tails and tags: "... 8234", "[abc12]", "(#4ff3a)", "- xyzzq".
    .replace(/[\[(#]\s*[a-z0-9]*\d[a-z0-9]*\s*[\])]?/g, " ")
    .replace(/\d+/g, " ")
    .replace(/[^a-z]+/g, " ")
    .trim();
  // A trailing run of letters that reads like a random tag ("... jjkdsa", "qzxw").
  s = s.replace(/\s+[b-df-hj-np-tv-z]{4,}$/g, "").trim();
  return s.length >= 6 ? s : "";
}

/**
 * Free mail domains left out of the campaign keys: the plugin's list as it was when the
 * protocol was written, so that the folds stay the same when the plugin's list grows and
 * rounds can be compared.
 */
const FREEMAIL = new Set(FREEMAIL_FIRST_LIST);

function freemail(address: string): boolean {
  const d = domainOf(address);
  return d !== null && FREEMAIL.has(orgDomain(d));
}

function domainOf(address: string): string | null {
  const at = address.lastIndexOf("@");
  if (at < 0) return null;
  const d = address.slice(at + 1).replace(/[>\s].*$/, "").toLowerCase();
  return d.includes(".") ? d : null;
}

/** The campaign keys of one message. */
export function campaignKeys(raw: Uint8Array, hamDomains: Set<string>): string[] {
  const keys: string[] = [];
  const { subject, domains } = describe(raw);
  if (subject) keys.push(`s:${subject}`);
  for (const d of domains) if (!hamDomains.has(d)) keys.push(`d:${d}`);
  return [...new Set(keys)];
}

/** Normalised subject and the org domains of From, Return-Path and links (free mail left out). */
function describe(raw: Uint8Array): { subject: string; domains: string[] } {
  const m = parseMail(raw, 65536);
  const domains: string[] = [];
  const rp = /<?([^<>\s]*@[^<>\s]*)>?/.exec(m.header("return-path") ?? "")?.[1] ?? "";
  for (const address of [m.fromAddress, rp]) {
    const d = domainOf(address);
    if (d && !freemail(address)) domains.push(orgDomain(d));
  }
  for (const u of m.urls) {
    const h = urlHost(u);
    if (h) domains.push(orgDomain(h));
  }
  return { subject: normalSubject(m.subject), domains };
}

/** Organisational domains the ham is sent from or links to (not campaign-specific). */
export async function hamDomains(ham: Sample[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const s of ham) for (const d of describe(await Deno.readFile(s.path)).domains) out.add(d);
  return out;
}

/** Connected components of the messages over shared keys (union-find). */
export function components(keys: string[][]): number[][] {
  const parent = keys.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  const owner = new Map<string, number>();
  keys.forEach((ks, i) => {
    for (const k of ks) {
      const j = owner.get(k);
      if (j === undefined) owner.set(k, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, number[]>();
  keys.forEach((_, i) => {
    const r = find(i);
    const g = groups.get(r) ?? [];
    g.push(i);
    groups.set(r, g);
  });
  return [...groups.values()];
}

/** The campaign split: its folds, and how the spam fell into campaigns. */
export interface CampaignPlan {
  folds: Split[];
  campaigns: number;
  /** Messages in the largest campaigns, largest first. */
  largest: number[];
  /** Campaigns of one message. */
  singletons: number;
}

/**
 * Campaigns dealt into {@link CAMPAIGN_FOLDS} folds, largest first, each to the fold with the
 * fewest spam so far (so fold sizes stay close even with one big campaign).
 */
export async function campaignFolds(all: Sample[]): Promise<CampaignPlan> {
  const spam = all.filter((s) => s.spam);
  const ham = all.filter((s) => !s.spam);
  const common = await hamDomains(ham);
  const keys = await Promise.all(
    spam.map(async (s) => campaignKeys(await Deno.readFile(s.path), common)),
  );
  const groups = components(keys).sort((a, b) => b.length - a.length);
  const foldSpam: Sample[][] = Array.from({ length: CAMPAIGN_FOLDS }, () => []);
  for (const g of groups) {
    const f = foldSpam.reduce((best, x, i) => x.length < foldSpam[best].length ? i : best, 0);
    foldSpam[f].push(...g.map((i) => spam[i]));
  }
  // Ham: older 70 % of each ham folder learned, newer 30 % dealt round the folds.
  const olderHam: Sample[] = [];
  const newerHam: Sample[] = [];
  for (const source of new Set(ham.map((s) => s.source))) {
    const sorted = byDate(ham.filter((s) => s.source === source));
    const cut = Math.round(sorted.length * (1 - NEWER_FRACTION));
    olderHam.push(...sorted.slice(0, cut));
    newerHam.push(...sorted.slice(cut));
  }
  const folds = foldSpam.map((held, f) => ({
    name: `campaigns held out, fold ${f + 1}`,
    train: [...foldSpam.filter((_, g) => g !== f).flat(), ...olderHam],
    test: [...held, ...newerHam.filter((_, i) => i % CAMPAIGN_FOLDS === f)],
  }));
  return {
    folds,
    campaigns: groups.length,
    largest: groups.slice(0, 5).map((g) => g.length),
    singletons: groups.filter((g) => g.length === 1).length,
  };
}
