/**
 * denomail: a mail server (SMTP, IMAP, POP3) with sandboxed plugins.
 * This file is only the entry point; commands live in cli/.
 *
 * @module
 */
import { runCli } from "./cli/mod.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
