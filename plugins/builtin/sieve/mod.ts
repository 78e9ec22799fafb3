/**
 * builtin:sieve — runs each account's active Sieve script (RFC 5228 and extensions, see
 * compile.ts EXTENSIONS) at delivery, in the plugin sandbox, after the data hook (so the
 * spam plugin's score feeds `spamtest`).
 *
 * ```toml
 * [[plugins]]
 * name = "sieve"
 * module = "builtin:sieve"
 * options = { spam_plugin = "spam", spamtest_max = 10 }
 * ```
 *
 * Scripts are kept in this plugin's kv area (scripts.ts), written by `denomail sieve put`
 * and `sieve activate`. The deliver hook answers with `copies` (fileinto / keep with their
 * flags; `:create` makes the mailbox), `redirect`, a vacation `reply` (once per sender and
 * period: vacation.ts), `discard`, or `reject` (which refuses the whole
 * message, for every recipient: SMTP answers once after DATA). A script that fails at run
 * time keeps the message (RFC 5228 §2.10.6). Only SMTP deliveries are filtered, not APPEND.
 *
 * Invariant: compiled scripts are cached per plugin instance by source text, at most
 * {@link CACHE_SIZE} of them.
 *
 * @module
 */
import { definePlugin, type DeliverContext, type HookResult } from "../../sdk.ts";
import { compile } from "./compile.ts";
import { evaluate } from "./eval.ts";
import { inputFromBytes } from "./message.ts";
import { activeScript } from "./scripts.ts";
import type { Script } from "./tree.ts";
import { verdictOf } from "./verdict.ts";
import { firstInPeriod, vacationMessage } from "./vacation.ts";

const CACHE_SIZE = 256;

/** The spam score the data hook's spam plugin gave, if it ran. */
function spamOf(ctx: DeliverContext): { score: number; max: number } | undefined {
  const name = typeof ctx.options.spam_plugin === "string" ? ctx.options.spam_plugin : "spam";
  const max = typeof ctx.options.spamtest_max === "number" && ctx.options.spamtest_max > 0
    ? ctx.options.spamtest_max
    : 10;
  const ran = ctx.results.filter((r) => r.plugin === name && r.hook === "data" && !r.error);
  if (ran.length === 0) return undefined;
  return { score: ran.reduce((s, r) => s + (r.score ?? 0), 0), max };
}

/** A plugin instance with its own compiled-script cache. */
export function sievePlugin() {
  const cache = new Map<string, Script>();
  const compiled = (source: string): Script => {
    let s = cache.get(source);
    if (!s) {
      s = compile(source);
      if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(source, s);
    }
    return s;
  };
  return definePlugin({
    // The interpreter parses the raw message (inputFromBytes).
    reads: "message",
    hooks: {
      async deliver(ctx): Promise<HookResult | undefined> {
        if (ctx.source !== "smtp") return undefined;
        const active = await activeScript(ctx.kv, ctx.account);
        if (!active) return undefined;
        let script: Script;
        try {
          script = compiled(active.source);
        } catch (e) {
          return { note: `sieve ${active.name}: ${(e as Error).message}`.slice(0, 200) };
        }
        const input = inputFromBytes(
          ctx.message.raw,
          { from: ctx.sender.address, to: ctx.recipient.address },
          spamOf(ctx),
        );
        const out = evaluate(script, input);
        const verdict = verdictOf(out, ctx.mailbox);
        const vacation = out.actions.find((a) => a.type === "vacation");
        if (vacation && verdict.action !== "reject") {
          if (await firstInPeriod(ctx.kv, ctx.account, vacation)) {
            verdict.reply = { to: vacation.to, message: vacationMessage(vacation, ctx.account) };
          } else verdict.note = `${verdict.note ?? ""}; vacation already sent`.slice(0, 200);
        }
        return verdict;
      },
    },
  });
}

export default sievePlugin();
