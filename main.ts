/**
 * denomail: a mail server (SMTP, IMAP, POP3) with sandboxed plugins.
 * This file is only the entry point; commands live in cli/.
 *
 * `__plugin-runner` is a hidden mode: a compiled binary runs itself that way to host one
 * plugin in a permission-scoped Worker (plugins/engine/sandbox_child.ts). It is handled before the
 * CLI so that a plugin child does not load the server's modules.
 *
 * @module
 */
if (import.meta.main) {
  if (Deno.args[0] === "__plugin-runner") {
    const { sandboxChildMain } = await import("./plugins/engine/sandbox_child.ts");
    await sandboxChildMain(Deno.args.slice(1));
  } else {
    const { runCli } = await import("./cli/mod.ts");
    Deno.exit(await runCli(Deno.args));
  }
}
