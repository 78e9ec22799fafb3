/**
 * `plugin new PATH [--hooks h1,h2]`: writes a typed, documented plugin skeleton and its
 * test. PATH ending in `.ts` is one file (`x.ts` and `x_test.ts` beside it); any other PATH
 * is a folder made for it (`mod.ts` and `mod_test.ts`). The skeleton imports the SDK of this
 * denomail by file URL, declares the least `reads` its hooks need, and loads with no
 * permissions, so `plugin check PATH` accepts it as written; its test runs it through
 * `denomail plugin check` and `plugin test` (a replayed message) with `deno test`.
 * Nothing existing is overwritten.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { HOOK_NAMES, type HookName, MESSAGE_HOOKS } from "../../plugins/sdk.ts";

/** The context type each hook gets (plugins/sdk.ts). */
const CONTEXT: Record<HookName, string> = {
  connect: "ConnectContext",
  ehlo: "EhloContext",
  auth: "AuthContext",
  mail: "MailContext",
  rcpt: "RcptContext",
  data: "DataContext",
  deliver: "DeliverContext",
  queue: "QueueContext",
  delivered: "DeliveredContext",
  bounced: "BouncedContext",
  mailbox_move: "MailboxMoveContext",
};

/** What each hook's skeleton says and does (a header-only example for the message hooks). */
const BODY: Record<HookName, { doc: string; code: string }> = {
  connect: { doc: "A client connected (ctx.session.remoteIp).", code: "" },
  ehlo: { doc: "The client said EHLO/HELO (ctx.helo).", code: "" },
  auth: { doc: "A client authenticated (ctx.user, ctx.mechanism).", code: "" },
  mail: {
    doc: "MAIL FROM (ctx.sender; ctx.params). Return reject() to refuse the sender.",
    code: "",
  },
  rcpt: {
    doc: "RCPT TO, once per recipient (ctx.rcpt; ctx.recipients accepted so far).",
    code: "",
  },
  data: {
    doc: "The whole message was received (ctx.message; ctx.score so far). One answer for\n" +
      "     * every recipient: reject() refuses the message, addHeaders tag it.",
    code: '      if (ctx.message.header("subject") === undefined) {\n' +
      '        return { addHeaders: [["X-NAME-Note", "no subject"]] };\n      }\n',
  },
  deliver: {
    doc: "About to store a copy for one local account (ctx.account, ctx.mailbox).",
    code: "",
  },
  queue: {
    doc: "Before a delivery attempt to one remote recipient (ctx.recipient, ctx.attempt).",
    code: "",
  },
  delivered: { doc: "Notification: a remote server accepted the message.", code: "" },
  bounced: { doc: "Notification: the message failed for good (ctx.status, ctx.error).", code: "" },
  mailbox_move: {
    doc: "Notification: a user moved a message into or out of Junk (ctx.kind).",
    code: "",
  },
};

function hooksArg(ctx: CliContext): HookName[] {
  const v = ctx.args.values.get("--hooks");
  if (v === undefined) return ["data"];
  const hooks = v.split(",").map((h) => h.trim()).filter((h) => h);
  if (hooks.length === 0) throw new UsageError("--hooks: name at least one hook");
  for (const h of hooks) {
    if (!(HOOK_NAMES as readonly string[]).includes(h)) {
      throw new UsageError(`--hooks: unknown hook ${h} (hooks: ${HOOK_NAMES.join(", ")})`);
    }
  }
  return [...new Set(hooks)] as HookName[];
}

/** The plugin module's source. */
function moduleSource(name: string, hooks: HookName[], sdk: string): string {
  // In the order `deno fmt` keeps them (case-insensitive).
  const names = [...new Set([...hooks.map((h) => CONTEXT[h]), "HookResult", "definePlugin"])]
    .sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  const reads = hooks.some((h) => (MESSAGE_HOOKS as readonly string[]).includes(h))
    ? `  // What this plugin reads of the message: "envelope" (nothing of it), "headers" (no
  // body) or "message" (all; the default). The server sends no more than this, and a
  // plugin that reads less costs less; ctx.message.body() throws unless "message".
  reads: "headers",
`
    : "";
  const fns = hooks.map((h) => {
    const b = BODY[h];
    return `    /**
     * ${b.doc}
     * Return nothing to continue; see HookResult in the SDK for what else may be returned.
     */
    ${h}(${b.code ? "ctx" : "_ctx"}: ${CONTEXT[h]}): HookResult | undefined {
${b.code.replaceAll("NAME", name)}      return undefined;
    },`;
  }).join("\n");
  return `/**
 * The "${name}" denomail plugin. Configure it with
 *
 *   [[plugins]]
 *   name = "${name}"
 *   module = "<path of this file>"
 *   # permissions = { net = [], read = [], write = [], env = [] }  (none by default)
 *   # options = { ... }                                            (ctx.options)
 *
 * It runs in its own sandboxed process with only the permissions granted there; ctx.kv
 * (storage private to the plugin) and ctx.dns need none. Check and try it with
 *   denomail plugin check <this file>
 *   denomail plugin test <this file> --eml MESSAGE.eml --from a@example.org --to b@example.test
 * (PLUGINS.md has the whole SDK.)
 *
 * @module
 */
import {
${names.map((t) => t === "definePlugin" ? `  ${t},` : `  type ${t},`).join("\n")}
} from ${JSON.stringify(sdk)};

export default definePlugin({
${reads}  hooks: {
${fns}
  },
});
`;
}

/** The module's test: `deno test --allow-all` on it runs it through the denomail CLI. */
function testSource(name: string, file: string, hooks: HookName[], denomail: string[]): string {
  const notification = new Set<HookName>(["delivered", "bounced", "mailbox_move"]);
  const perRcpt = new Set<HookName>(["rcpt", "deliver", "queue", "delivered", "bounced"]);
  const expect = hooks.map((h) => {
    const rcpt = perRcpt.has(h) || h === "mailbox_move" ? " <b@example\\.test>" : "";
    const verdict = notification.has(h) ? "notified \\(continue\\)" : "continue";
    const one = `      [${JSON.stringify(h)}, /^${h}${rcpt}: ${verdict}/m],`;
    // As `deno fmt` writes it (80 columns).
    return one.length <= 80
      ? one
      : `      [\n        ${JSON.stringify(h)},\n        /^${h}${rcpt}: ${verdict}/m,\n      ],`;
  });
  const cmd = denomail.map((a) => `  ${JSON.stringify(a)},`).join("\n");
  return `/**
 * Tests for the "${name}" plugin, through the denomail CLI: \`plugin check\` loads
 * it in its sandbox, \`plugin test\` replays a message through every hook it
 * declares. Run with
 *   deno test --allow-all ${file.replace(/\.ts$/, "_test.ts")}
 */
const DENOMAIL = [
${cmd}
];
const PLUGIN = new URL("./${file}", import.meta.url).pathname;

async function denomail(args: string[]) {
  const out = await new Deno.Command(DENOMAIL[0], {
    args: [...DENOMAIL.slice(1), ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

Deno.test("${name}: plugin check accepts it", async () => {
  const r = await denomail(["plugin", "check", PLUGIN]);
  if (r.code !== 0) throw new Error(\`plugin check failed: \${r.stderr}\`);
});

Deno.test("${name}: plugin test replays a message through its hooks", async () => {
  const eml = await Deno.makeTempFile({ suffix: ".eml" });
  try {
    await Deno.writeTextFile(
      eml,
      "From: a@example.org\\r\\nTo: b@example.test\\r\\nSubject: hello\\r\\n\\r\\nHello.\\r\\n",
    );
    const r = await denomail([
      ...["plugin", "test", PLUGIN, "--eml", eml],
      ...["--from", "a@example.org", "--to", "b@example.test"],
      ...["--user", "a@example.org"],
    ]);
    if (r.code !== 0) {
      throw new Error(\`plugin test failed (\${r.code}): \${r.stdout}\${r.stderr}\`);
    }
    const expected: Array<[string, RegExp]> = [
${expect.join("\n")}
    ];
    for (const [hook, line] of expected) {
      if (!line.test(r.stdout)) {
        throw new Error(\`\${hook}: no "\${line.source}" in:\\n\${r.stdout}\`);
      }
    }
  } finally {
    await Deno.remove(eml);
  }
});
`;
}

/** How the generated test starts this denomail: the compiled binary, or deno on main.ts. */
function denomailCommand(): string[] {
  const main = new URL("../../main.ts", import.meta.url);
  if (main.protocol !== "file:") return [Deno.execPath()];
  try {
    Deno.statSync(main);
    return [Deno.execPath(), "run", "--allow-all", main.pathname];
  } catch {
    return [Deno.execPath()]; // a compiled binary: its modules are inside it
  }
}

async function writeNew(path: string, text: string): Promise<void> {
  try {
    await Deno.writeTextFile(path, text, { createNew: true });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new Error(`plugin new: ${path} exists (nothing was overwritten)`);
    }
    throw new Error(`plugin new: cannot write ${path}: ${(e as Error).message}`);
  }
}

/** `plugin new PATH [--hooks h1,h2]`. */
export async function pluginNew(ctx: CliContext, path: string | undefined): Promise<void> {
  if (path === undefined || path === "") throw new UsageError("missing argument PATH");
  const hooks = hooksArg(ctx);
  const single = path.endsWith(".ts");
  const abs = resolve(path);
  const dir = single ? dirname(abs) : abs;
  const file = single ? basename(abs) : "mod.ts";
  const name = (single ? file.slice(0, -3) : basename(abs)).replace(/[^A-Za-z0-9_-]/g, "_") ||
    "plugin";
  if (!single) {
    try {
      await Deno.mkdir(dir);
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) {
        throw new Error(`plugin new: ${path} exists (nothing was overwritten)`);
      }
      throw new Error(`plugin new: cannot create ${path}: ${(e as Error).message}`);
    }
  }
  const sdk = new URL("../../plugins/sdk.ts", import.meta.url).href;
  const test = join(dir, file.replace(/\.ts$/, "_test.ts"));
  // The test first: a module left without its test would be the worse half.
  try {
    await Deno.stat(test);
    throw new Error(`plugin new: ${test} exists (nothing was overwritten)`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await writeNew(join(dir, file), moduleSource(name, hooks, sdk));
  await writeNew(test, testSource(name, file, hooks, denomailCommand()));
  ctx.print(`wrote ${join(dir, file)} (hooks: ${hooks.join(", ")})`);
  ctx.print(`wrote ${test} (deno test --allow-all ${test})`);
}
