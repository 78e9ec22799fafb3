/**
 * builtin:sieve — runs each account's active Sieve script (RFC 5228 and extensions, see
 * compile.ts EXTENSIONS) at delivery, in the plugin sandbox, after the data hook (so the
 * spam plugin's score feeds `spamtest`).
 *
 * ```toml
 * [[plugins]]
 * name = "sieve"
 * module = "builtin:sieve"
 * options = { spam_plugin = "spam", spamtest_max = 10, virus_plugin = "clamav",
 *             global_dir = "/etc/denomail/sieve" }
 * permissions = { read = ["/etc/denomail/sieve"] }   # only for global_dir
 * ```
 *
 * `include :global "name"` (RFC 6609) reads `<global_dir>/<name>.sieve`; `include
 * :personal` another of the account's stored scripts. Every included script is fetched
 * and compiled before the run (includes.ts), so the evaluator stays synchronous.
 * `virustest` (RFC 3685) reads the data-hook verdict of `virus_plugin`: a reject,
 * quarantine or discard is 5 (infected), any other answer 1 (clean), no answer 0.
 * A script that edits the header (editheader) makes the stored copy the edited message
 * (the `message` verdict); a redirect sends the message as received.
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
import { evaluate, type Outcome } from "./eval.ts";
import { inputFromBytes } from "./message.ts";
import { activeKey, getScript } from "./scripts.ts";
import { jmapVacationKey, parseJmapVacation, vacationRule } from "./jmap_vacation.ts";
import { vacationAction } from "./vacation_rules.ts";
import type { Script } from "./tree.ts";
import { verdictOf } from "./verdict.ts";
import { loadIncludes } from "./includes.ts";
import { rebuildMessage } from "./headers.ts";
import { MAX_FIELDS } from "../../../mime/types.ts";
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

/** RFC 3685 §3 virustest value from the antivirus plugin's data verdict, if it ran. */
function virusOf(ctx: DeliverContext): number | undefined {
  const name = typeof ctx.options.virus_plugin === "string" ? ctx.options.virus_plugin : null;
  if (name === null) return undefined;
  const ran = ctx.results.filter((r) => r.plugin === name && r.hook === "data" && !r.error);
  if (ran.length === 0) return undefined;
  return ran.some((r) => ["reject", "quarantine", "discard"].includes(r.action)) ? 5 : 1;
}

/** A global script's source from `global_dir`, or null when there is none. */
async function globalSource(ctx: DeliverContext, name: string): Promise<string | null> {
  const dir = ctx.options.global_dir;
  if (typeof dir !== "string" || dir === "") return null;
  try {
    return await Deno.readTextFile(`${dir.replace(/\/+$/, "")}/${name}.sieve`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** A plugin instance with its own compiled-script cache. */
export function sievePlugin() {
  const cache = new Map<string, Script>();
  const compiled = (source: string): Script => {
    // A cached script is shared by every run: never mutated after compile.
    let s = cache.get(source);
    if (!s) {
      s = compile(source);
      if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(source, s);
    }
    return s;
  };
  return definePlugin({
    hooks: {
      async deliver(ctx): Promise<HookResult | undefined> {
        if (ctx.source !== "smtp") return undefined;
        // One kv round trip: the active script and the JMAP VacationResponse.
        const [activeRaw, jmapRaw] = await ctx.kv.getMany([
          activeKey(ctx.account),
          jmapVacationKey(ctx.account),
        ]);
        const active = activeRaw ? JSON.parse(activeRaw) as { name: string; source: string } : null;
        const rule = vacationRule(parseJmapVacation(jmapRaw), Date.now());
        if (!active && !rule) return undefined;
        let script: Script | null = null;
        try {
          if (active) script = compiled(active.source);
        } catch (e) {
          if (!rule) {
            return { note: `sieve ${active!.name}: ${(e as Error).message}`.slice(0, 200) };
          }
        }
        const virus = virusOf(ctx);
        const input = inputFromBytes(
          ctx.message.raw,
          { from: ctx.sender.address, to: ctx.recipient.address },
          spamOf(ctx),
          virus === undefined ? {} : { virus },
        );
        let out: Outcome = {
          actions: [{ type: "keep", mailbox: "INBOX", flags: [] }],
          implicitKeep: true,
        };
        if (script) {
          const s = script;
          const resolve = await loadIncludes(
            s,
            (global, name) =>
              global ? globalSource(ctx, name) : getScript(ctx.kv, ctx.account, name),
            compiled,
          );
          out = evaluate(s, input, undefined, resolve);
        }
        const verdict = verdictOf(out, ctx.mailbox);
        // editheader: store the edited message (all of the header was parsed, else no edit).
        if (out.header && verdict.action !== "reject" && input.fields().length < MAX_FIELDS) {
          verdict.message = rebuildMessage(out.header, input.bodyBytes());
        }
        // The JMAP VacationResponse runs first, as a generated rule; then no script vacation.
        let vacation = out.actions.find((a) => a.type === "vacation");
        if (rule) {
          const v = vacationAction(rule, input, input.envelope);
          if (vacation) {
            verdict.note = `${verdict.note ?? ""}; script vacation off: JMAP vacation on`;
          }
          vacation = typeof v === "string" ? undefined : v;
          if (typeof v === "string") verdict.note = `${verdict.note ?? ""}; no vacation: ${v}`;
        }
        if (vacation && verdict.action !== "reject") {
          if (await firstInPeriod(ctx.kv, ctx.account, vacation)) {
            verdict.reply = { to: vacation.to, message: vacationMessage(vacation, ctx.account) };
          } else verdict.note = `${verdict.note ?? ""}; vacation already sent`;
        }
        if (verdict.note) verdict.note = verdict.note.slice(0, 200);
        return verdict;
      },
    },
  });
}

export default sievePlugin();
