/**
 * One spam score for a message: list, authentication, header, envelope, content and block
 * list rules plus the Bayes band, summed. Used by the plugin (data hook) and by
 * `denomail spam classify`, so both score alike.
 *
 * @module
 */
import type { AuthSummary } from "../auth/results.ts";
import type { PluginDns } from "../../sdk.ts";
import { combine, tokenProbability } from "./bayes.ts";
import { foreignTokens } from "./foreign.ts";
import { listTokensLeftOut } from "./list_source.ts";
import { type BayesModel, GLOBAL, tokenHash, userScope } from "./model.ts";
import type { Lists, SpamOptions } from "./options.ts";
import { type ParsedMail, parseMail } from "./parse.ts";
import { authRules, fromAuthenticated } from "./rules/auth.ts";
import { contentRules } from "./rules/content.ts";
import { blocklistQueries, blocklistRules } from "./rules/dnsbl.ts";
import { type Envelope, envelopeRules, headerRules } from "./rules/headers.ts";
import { listRules } from "./rules/lists.ts";
import { senderRules } from "./rules/sender.ts";
import { subaddressRules } from "./rules/subaddress.ts";
import { phraseRules } from "./rules/phrases.ts";
import { forgedRules } from "./rules/forged.ts";
import { bayesRule, hit, linearHit, type RuleHit } from "./rules/table.ts";
import type { LinearModel } from "./linear.ts";
import { tokenize } from "./tokenize.ts";
import { type ListsKv, loadUserLists, mergeLists } from "./user_lists.ts";

/** A message to score. */
export interface ScanInput {
  raw: Uint8Array;
  /** The SMTP envelope and client, when known. */
  env?: Envelope;
  /** The auth plugin's results, when it ran. */
  auth?: AuthSummary | null;
  /** Score earlier plugins added (counts toward the verdict). */
  extraScore?: number;
}

/** What scoring needs. */
export interface ScanDeps {
  options: SpamOptions;
  /** The Bayes model, or null to leave Bayes out. */
  model: BayesModel | null;
  /** The linear model, or null/absent to leave it out. */
  linear?: LinearModel | null;
  /** DNS for block lists, or null to skip them (the CLI). */
  dns?: PluginDns | null;
  /** The kv holding the users' own lists (user_lists.ts), or absent to use the config's only. */
  listsKv?: ListsKv | null;
  now?: number;
}

/** The outcome. */
export interface ScanResult {
  /** Total: this plugin's rules plus `extraScore`. */
  score: number;
  /** This plugin's rules only. */
  own: number;
  hits: RuleHit[];
  /** Bayes spam probability, or null when Bayes was not used. */
  bayes: number | null;
  /** The linear model's spam probability, or null when it was not used. */
  linear: number | null;
  /** The score from which this message is junk (`junk_score`, or more: requiredScore). */
  required: number;
  verdict: "ham" | "junk" | "reject";
}

/** The Bayes scopes for a message: global, plus the recipient's when there is exactly one. */
export function scopesFor(recipients: string[] | undefined): string[] {
  const user = recipients && recipients.length === 1 ? userScope(recipients[0]) : null;
  return user ? [GLOBAL, user] : [GLOBAL];
}

/** The token hashes of a parsed message (deduplicated). */
export function tokenHashes(m: ParsedMail): string[] {
  return hashesOf([...tokenize(m)]);
}

/** The token hashes of a prepared scan (its tokens, else the message tokenized again). */
export function preparedHashes(p: PreparedScan): string[] {
  return p.tokens?.length > 0 ? hashesOf(p.tokens) : tokenHashes(p.m);
}

function hashesOf(tokens: string[]): string[] {
  return [...new Set(tokens.map(tokenHash))];
}

/** What Bayes said, and which tokens both models leave out (see `bayesProbability`). */
export interface BayesOutcome {
  p: number | null;
  /** Words of a language no learned ham had (foreign.ts). */
  foreign: Set<string>;
  /** The list identity and path of a list no learned ham came through (list_source.ts). */
  path: Set<string>;
  listNew: boolean;
}

/** Bayes not used (off, or too little learned): nothing said, nothing left out. */
function noBayes(): BayesOutcome {
  return { p: null, foreign: new Set(), path: new Set(), listNew: false };
}

/**
 * The Bayes probability of a message, or null when the scopes have not learned enough
 * (fewer than `minLearned` messages of either class); and the tokens it left out because
 * they only name a language the learned ham never had (foreign.ts), and the list identity
 * and path of a list no learned ham came through (list_source.ts), which the linear model
 * leaves out too.
 */
export async function bayesProbability(
  model: BayesModel,
  scopes: string[],
  tokens: string[],
  minLearned: number,
): Promise<BayesOutcome> {
  const { totals, counts } = await model.read(scopes, tokens);
  if (totals.spam < minLearned || totals.ham < minLearned) return noBayes();
  const foreign = foreignTokens(tokens, counts);
  const { out: path, unlearned: listNew } = listTokensLeftOut(tokens, counts);
  // A token no learned message had says nothing (and is not pulled toward x).
  const probs = counts
    .filter((c, i) => c.spam + c.ham > 0 && !foreign.has(tokens[i]) && !path.has(tokens[i]))
    .map((c) => tokenProbability(c.spam, c.ham, totals.spam, totals.ham));
  return { p: combine(probs), foreign, path, listNew };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/**
 * The part of a scan that does not depend on the auth plugin's results or on earlier
 * plugins' scores: the parse, the header, envelope and content rules, the block lists and
 * Bayes. The plugin starts it before the auth plugin has answered (sdk.ts `Prepares`).
 */
export interface PreparedScan {
  m: ParsedMail;
  /** Header, envelope, content and block list hits, in that order. */
  hits: RuleHit[];
  bayes: number | null;
  linear: number | null;
  /** Octets of the message scanned. */
  size: number;
  /** The message's tokens ([] when neither model is used): autolearn learns them. */
  tokens: string[];
  /** Tokens both models left out: a language no learned ham had (foreign.ts). */
  foreign: number;
  /** The message came through a list no learned ham came through (list_source.ts). */
  listNotLearned: boolean;
  /** The recipients' lists stored in kv (user_lists.ts), by lower-case address. */
  storedLists?: Map<string, Lists>;
}

/** Everything of a scan but the auth-dependent rules; see {@link PreparedScan}. */
export async function prepareScan(
  input: Omit<ScanInput, "auth" | "extraScore">,
  deps: ScanDeps,
): Promise<PreparedScan> {
  const o = deps.options;
  const m = parseMail(input.raw, o.maxScanBytes);
  const env = input.env ?? {};
  const recipients = env.recipients ?? [];
  const hits: RuleHit[] = [];
  hits.push(...headerRules(m, o.scores, deps.now ?? Date.now()));
  hits.push(...envelopeRules(m, env, o.scores));
  hits.push(...contentRules(m, o.scores));
  hits.push(...phraseRules(m, o.scores));
  hits.push(...forgedRules(m, o.scores));
  hits.push(...senderRules(m, env.sender, o.scores));
  hits.push(...subaddressRules(m, env.recipients, o.scores));
  // DNS and the model are reached concurrently: the message waits for the slower one.
  const dnsWork = deps.dns
    ? blocklistRules(
      deps.dns,
      blocklistQueries(env.ip, m.urls, o.dnsbl, o.uribl, {
        checkPrivateIps: o.checkPrivateIps,
        scores: o.scores,
      }),
      o.dnsTimeoutMs,
    )
    : Promise.resolve([]);
  const tokens = deps.model || deps.linear ? [...tokenize(m)] : [];
  const bayesWork = deps.model && o.bayes
    ? bayesProbability(deps.model, scopesFor(recipients), tokens, o.bayesMinLearned)
    : Promise.resolve(noBayes());
  // The linear model waits for Bayes's counts: they say which words to leave out (foreign.ts).
  const linearWork = deps.linear && o.linear
    ? bayesWork.then(({ foreign, path }) =>
      deps.linear!.probability(hashesOf(tokens.filter((t) => !foreign.has(t) && !path.has(t))))
    )
    : Promise.resolve(null);
  const listsWork = deps.listsKv
    ? loadUserLists(deps.listsKv, recipients)
    : Promise.resolve(undefined);
  const [dnsHits, { p: bayes, foreign, listNew }, linear, storedLists] = await Promise.all([
    dnsWork,
    bayesWork,
    linearWork,
    listsWork,
  ]);
  hits.push(...dnsHits);
  return {
    m,
    hits,
    bayes,
    linear,
    size: input.raw.length,
    tokens,
    foreign: foreign.size,
    listNotLearned: listNew,
    storedLists,
  };
}

/** Adds the list and auth rules to a prepared scan and sums up. Pure. */
export function finishScan(
  p: PreparedScan,
  input: Omit<ScanInput, "raw">,
  options: SpamOptions,
): ScanResult {
  const o = options;
  const env = input.env ?? {};
  const recipients = env.recipients ?? [];
  const hits: RuleHit[] = [];
  // A user's lists are the config's and their own (kv) together.
  const userLists = recipients
    .map((r) => r.toLowerCase())
    .map((r) => mergeLists(o.userLists.get(r), p.storedLists?.get(r)))
    .filter((l) => l !== undefined);
  hits.push(...listRules(o.lists, {
    from: p.m.fromAddress,
    sender: env.sender,
    fromTrusted: input.auth === undefined || input.auth === null || fromAuthenticated(input.auth),
    userLists,
    recipients: recipients.length,
  }, o.scores));
  hits.push(...authRules(input.auth ?? null, o.scores));
  hits.push(...p.hits);
  if (p.bayes !== null) hits.push(hit(bayesRule(p.bayes), o.scores));
  // Scores nothing: says why the models left the message's words out (report, --json).
  if (p.foreign > 0) hits.push(hit("LANG_NOT_LEARNED", o.scores));
  if (p.listNotLearned) hits.push(hit("LIST_NOT_LEARNED", o.scores));
  if (p.linear !== null) hits.push(linearHit(p.linear, o.scores));
  const own = round1(hits.reduce((n, h) => n + h.score, 0));
  const score = round1(own + (input.extraScore ?? 0));
  const required = requiredScore(hits, input.extraScore ?? 0, o);
  if (required > o.junkScore && score >= o.junkScore) hits.push({ name: "MODELS_ALONE", score: 0 });
  return {
    score,
    own,
    hits,
    bayes: p.bayes,
    linear: p.linear,
    required,
    verdict: score >= o.rejectScore ? "reject" : score >= required ? "junk" : "ham",
  };
}

/**
 * The score from which a message is junk. The learned models read the same words, and on
 * mail unlike any they learned they can both be sure and wrong together; so when they point
 * toward spam and nothing else does — no other rule scored above 0, nor did an earlier
 * plugin — the message needs `junk_score + models_alone_margin` (options.ts
 * MODELS_ALONE_MARGIN). Rules of ham evidence (negative) do not make a message "models
 * alone": a bulk sender with its own bounce handling that also hides text is still judged
 * from `junk_score`.
 */
function requiredScore(hits: RuleHit[], extraScore: number, o: SpamOptions): number {
  let models = 0, other = Math.max(0, extraScore);
  for (const h of hits) {
    if (h.name === "LINEAR" || h.name.startsWith("BAYES_")) models += h.score;
    else if (h.score > 0) other += h.score;
  }
  return models > 0 && other === 0 ? o.junkScore + o.modelsAloneMargin : o.junkScore;
}

/** Scores one message. Never throws on message content; DNS trouble scores nothing. */
export async function scanMessage(input: ScanInput, deps: ScanDeps): Promise<ScanResult> {
  return finishScan(await prepareScan(input, deps), input, deps.options);
}
