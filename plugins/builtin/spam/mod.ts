/**
 * builtin:spam — one spam score per message from allow/block lists, the auth plugin's
 * SPF/DKIM/DMARC results, header, envelope and content rules, DNS block lists (IP and
 * URI), and a Bayesian classifier (global and per user) that learns when users move
 * messages into or out of Junk.
 *
 * ```toml
 * [[plugins]]                # after builtin:auth, whose results it reads
 * name = "spam"
 * module = "builtin:spam"
 * options = { junk_score = 5, reject_score = 15,
 *             dnsbl = ["zen.spamhaus.org"], uribl = [{ zone = "multi.surbl.org", score = 4 }],
 *             allow = ["boss@example.com"], block = ["@spam.example"],
 *             user_lists = { "alice@example.com" = { allow = ["@family.example"], block = [] } },
 *             scores = { HTML_ONLY = 1.0 } }
 * ```
 *
 * Users keep their own allow/block lists in the kv too (`lists:<address>`, user_lists.ts;
 * the webmail edits them): read with one `getMany` while the message is prepared and united
 * with the config's `user_lists`.
 *
 * Verdicts (data hook): below `junk_score` the message gets `X-Spam-Score`,
 * `X-Spam-Status` and `X-Spam-Report` (status.ts) and goes on; from `junk_score` it is also filed in Junk; from
 * `reject_score` it is refused with 550 5.7.1. The verdict stays "continue" for the first
 * two so that later plugins still run.
 *
 * Learning (mailbox_move hook): into Junk learns spam, out of Junk learns ham, for the
 * user's own counts (and the global ones with `learn_global = true`). `denomail spam
 * train` learns into the same kv area (namespace `plugin:spam`).
 *
 * Needs no permissions: DNS and kv are host services.
 *
 * @module
 */
import { parseAuthNote } from "../auth/results.ts";
import { cachedDns } from "../auth/resolver.ts";
import {
  type DataContext,
  definePlugin,
  type HookResult,
  type MailboxMoveContext,
  type PluginDns,
  type PluginKv,
  type PrepareContext,
  reject,
} from "../../sdk.ts";
import { BayesModel, GLOBAL, keys, LearnBatch, messageKey, userScope } from "./model.ts";
import { autolearnClass, AutoLearner } from "./autolearn.ts";
import { LinearModel } from "./linear.ts";
import { readSpamOptions, type SpamOptions } from "./options.ts";
import { parseMail } from "./parse.ts";
import {
  finishScan,
  preparedHashes,
  type PreparedScan,
  prepareScan,
  tokenHashes,
} from "./score.ts";
import { formatScore, ruleList, spamHeaders } from "./status.ts";

// The runner hands every call the same `options` and `kv` objects: parse and build once.
const parsedOptions = new WeakMap<object, SpamOptions>();
let model: { kv: PluginKv; model: BayesModel; linear: LinearModel } | null = null;
let autolearner: { kv: PluginKv; batch: number; learner: AutoLearner } | null = null;

function learnerFor(kv: PluginKv, batch: number): AutoLearner {
  if (autolearner?.kv !== kv || autolearner.batch !== batch) {
    autolearner = { kv, batch, learner: new AutoLearner(kv, batch) };
  }
  return autolearner.learner;
}

/**
 * Queues a message the filter is sure of for the global counts (autolearn.ts). The write
 * is not waited for: the verdict does not depend on it, and a batch costs a kv write per
 * token. A failed write loses only what it would have learned.
 */
async function autolearn(ctx: DataContext, p: PreparedScan, spam: boolean, o: SpamOptions) {
  const hashes = preparedHashes(p);
  const msg = await messageKey(ctx.message.raw);
  learnerFor(ctx.kv, o.autolearnBatch).add(msg, hashes, spam).catch((e) =>
    console.error(`spam: autolearn failed: ${(e as Error).message}`)
  );
}

function options(o: Record<string, unknown>): SpamOptions {
  let p = parsedOptions.get(o);
  if (!p) parsedOptions.set(o, p = readSpamOptions(o));
  return p;
}

// Block list answers are reused for a while: the same client networks and link domains
// come back message after message, and each lookup is a round trip to the server.
let dnsCache: { dns: PluginDns; ttl: number; cached: PluginDns } | null = null;

function dnsFor(dns: PluginDns, ttl: number): PluginDns {
  if (dnsCache?.dns !== dns || dnsCache.ttl !== ttl) {
    dnsCache = { dns, ttl, cached: cachedDns(dns, ttl) };
  }
  return dnsCache.cached;
}

function modelsFor(kv: PluginKv): { model: BayesModel; linear: LinearModel } {
  if (model?.kv !== kv) model = { kv, model: new BayesModel(kv), linear: new LinearModel(kv) };
  return model;
}

function envelope(ctx: PrepareContext<DataContext>) {
  return {
    sender: ctx.sender.address,
    recipients: ctx.recipients.map((a) => a.address),
    ip: ctx.session.remoteIp,
    helo: ctx.session.helo,
  };
}

/**
 * Everything but the auth-dependent rules, started while the auth plugin still runs
 * (sdk.ts `Prepares`); null when the message is not scored.
 */
function prepare(ctx: PrepareContext<DataContext>): Promise<PreparedScan> | null {
  const o = options(ctx.options);
  // Mail from our own authenticated users is not scored unless asked.
  if (ctx.session.user && !o.scanAuthenticated) return null;
  return prepareScan({ raw: ctx.message.raw, env: envelope(ctx) }, {
    options: o,
    ...modelsFor(ctx.kv),
    dns: dnsFor(ctx.dns, o.dnsCacheMs),
    listsKv: ctx.kv,
  });
}

/**
 * A prepared scan still holds for the message now seen when only header fields were put
 * in front of it (the auth plugin's): those are not tokenized or ruled on, and the parse
 * of the rest is the same, unless the message is cut at `max_scan_bytes`, where the added
 * bytes move the cut.
 */
function stillValid(p: unknown, raw: Uint8Array, o: SpamOptions): p is PreparedScan {
  const prep = p as PreparedScan | null | undefined;
  if (!prep || typeof prep !== "object" || !prep.m) return false;
  return prep.size === raw.length || raw.length <= o.maxScanBytes;
}

async function data(ctx: DataContext): Promise<HookResult | undefined> {
  const o = options(ctx.options);
  // Mail from our own authenticated users is not scored unless asked.
  if (ctx.session.user && !o.scanAuthenticated) return;
  const authResult = ctx.results.find((r) => r.plugin === o.authPlugin && r.hook === "data");
  const prepared = stillValid(ctx.prepared, ctx.message.raw, o) ? ctx.prepared : await prepare(ctx);
  const r = finishScan(prepared!, {
    env: envelope(ctx),
    auth: parseAuthNote(authResult?.note),
    extraScore: ctx.score,
  }, o);
  const auto = autolearnClass(r, o);
  if (auto !== null) await autolearn(ctx, prepared!, auto, o);
  const note = `score=${formatScore(r.score)} tests=${ruleList(r.hits)}` +
    (auto === null ? "" : ` autolearn=${auto ? "spam" : "ham"}`);
  if (r.verdict === "reject") {
    // RFC 5321 §4.2.5: refused at the end of DATA, so nothing is stored and the sender
    // (not us) owns the failure notice.
    return {
      ...reject(550, "5.7.1", `Message refused as spam (score ${formatScore(r.score)})`),
      score: r.own,
      note,
    };
  }
  const result: HookResult = {
    addHeaders: spamHeaders(r.score, r.required, r.hits, r.bayes, r.linear, auto),
    score: r.own,
    note,
  };
  if (r.verdict === "junk") result.mailbox = "Junk";
  return result;
}

async function mailboxMove(ctx: MailboxMoveContext): Promise<HookResult | undefined> {
  const o = options(ctx.options);
  const user = userScope(ctx.user);
  const hashes = tokenHashes(parseMail(ctx.message.raw, o.maxScanBytes));
  const msg = await messageKey(ctx.message.raw);
  const spam = ctx.kind === "junk";
  // A message the global counts learned as the other class (autolearn, or `spam train`)
  // is moved there too: the user has just said that learning was wrong.
  const global = o.learnGlobal || !user ||
    isOtherClass(await ctx.kv.get(keys.learned(GLOBAL, msg)), spam);
  const scopes = [...(user ? [user] : []), ...(global ? [GLOBAL] : [])];
  const batch = new LearnBatch(ctx.kv);
  const outcomes: string[] = [];
  for (const scope of scopes) outcomes.push(await batch.add(scope, msg, hashes, spam));
  await batch.flush();
  // The linear model is global: it learns when the global counts do, and only a message
  // that was new to them (a message moved back and forth would count twice).
  const g = scopes.indexOf(GLOBAL);
  if (g >= 0 && outcomes[g] !== "already") {
    await modelsFor(ctx.kv).linear.learn({ hashes, spam });
  }
  return { note: `learned ${spam ? "spam" : "ham"} (${outcomes.join(",")})` };
}

/** A learned record ("s5", "h5") of the class other than `spam`. */
function isOtherClass(record: string | null, spam: boolean): boolean {
  return record !== null && record !== "" && (record[0] === "s") !== spam;
}

export default definePlugin({
  // Scores and learns the body too.
  reads: "message",
  hooks: { data, mailbox_move: mailboxMove },
  prepare: { data: prepare },
});
