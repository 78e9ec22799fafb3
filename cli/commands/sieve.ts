/**
 * `sieve put EMAIL NAME FILE | activate EMAIL NAME | list EMAIL | check FILE |
 * test FILE --eml MSG [--from A --to B]`: a user's Sieve scripts for builtin:sieve.
 *
 * Scripts live in the sieve plugin's kv area in the store (namespace `plugin:<name>` of
 * the configured `builtin:sieve`, "sieve" when none is), through the plugin's own
 * plugins/builtin/sieve/scripts.ts (plugins/engine/store_kv.ts, as ManageSieve does), so what `put` stores is what the server runs. `check`
 * and `test` need no store. A script that does not compile is refused with its
 * line:column (exit 1).
 *
 * @module
 */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { compile } from "../../plugins/builtin/sieve/compile.ts";
import {
  describeAction as show,
  evaluate,
  type Resolve,
} from "../../plugins/builtin/sieve/eval.ts";
import { inputFromBytes } from "../../plugins/builtin/sieve/message.ts";
import { activateScript, listScripts, putScript } from "../../plugins/builtin/sieve/scripts.ts";
import { pluginNameFor, pluginStoreKv } from "../../plugins/engine/store_kv.ts";

export const usage =
  "sieve put EMAIL NAME FILE | activate EMAIL NAME | list EMAIL | check FILE | test FILE --eml MSG [--from A --to B]";

function arg(v: string | undefined, what: string): string {
  if (v === undefined || v === "") throw new UsageError(`sieve: missing ${what}; use ${usage}`);
  return v;
}

async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UsageError(`no such file ${path}`);
    throw e;
  }
}

/** The kv of the configured sieve plugin, after checking the account exists. */
async function kvFor(ctx: CliContext, email: string) {
  const config = await ctx.config();
  const store = await ctx.store();
  if (!(await store.getAccount(email))) throw new UsageError(`no such user ${email}`);
  return pluginStoreKv(store, pluginNameFor(config.plugins, "builtin:sieve", "sieve"));
}

/** Compiles, naming the file in the error (exit 1). */
function compileFile(path: string, source: string) {
  try {
    return compile(source);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

export async function run(ctx: CliContext): Promise<void> {
  const [sub, ...rest] = ctx.args.positional;
  const expect = (n: number) => {
    if (rest.length > n) throw new UsageError(`unexpected argument ${rest[n]}`);
  };
  switch (sub) {
    case "put": {
      expect(3);
      const email = arg(rest[0], "EMAIL").toLowerCase();
      const name = arg(rest[1], "NAME");
      const source = await readText(arg(rest[2], "FILE"));
      await putScript(await kvFor(ctx, email), email, name, source);
      ctx.print(`stored script "${name}" for ${email}`);
      return;
    }
    case "activate": {
      expect(2);
      const email = arg(rest[0], "EMAIL").toLowerCase();
      const name = arg(rest[1], "NAME");
      await activateScript(await kvFor(ctx, email), email, name);
      ctx.print(`active script for ${email}: "${name}"`);
      return;
    }
    case "list": {
      expect(1);
      const email = arg(rest[0], "EMAIL").toLowerCase();
      const { names, active } = await listScripts(await kvFor(ctx, email), email);
      for (const n of names) ctx.print(n === active ? `${n}  ACTIVE` : n);
      return;
    }
    case "check": {
      expect(1);
      const path = arg(rest[0], "FILE");
      compileFile(path, await readText(path));
      ctx.print(`${path}: ok`);
      return;
    }
    case "test": {
      expect(1);
      const path = arg(rest[0], "FILE");
      const script = compileFile(path, await readText(path));
      const eml = arg(ctx.args.values.get("--eml"), "--eml MSG");
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(eml);
      } catch {
        throw new UsageError(`--eml: cannot read ${eml}`);
      }
      const from = ctx.args.values.get("--from") ?? "";
      const to = ctx.args.values.get("--to") ?? "";
      // include: scripts next to FILE (<dir>/<name>.sieve), for :personal and :global alike.
      const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
      const resolve: Resolve = (_global, name) => {
        let source: string;
        try {
          source = Deno.readTextFileSync(`${dir}/${name}.sieve`);
        } catch {
          return null;
        }
        try {
          return compile(source);
        } catch (e) {
          return e as Error;
        }
      };
      const out = evaluate(script, inputFromBytes(bytes, { from, to }), undefined, resolve);
      for (const a of out.actions) {
        ctx.print(show(a) + (a.type === "keep" && out.implicitKeep ? "  (implicit)" : ""));
      }
      // editheader: the fields the script added (the stored copy would carry them).
      for (const f of out.header?.filter((h) => h.line === null) ?? []) {
        ctx.print(`addheader ${f.name}: ${f.value}`);
      }
      if (out.error) ctx.print(`error: ${out.error} (the message is kept)`);
      return;
    }
    default:
      throw new UsageError(`sieve: unknown subcommand ${sub ?? "(none)"}; use ${usage}`);
  }
}
