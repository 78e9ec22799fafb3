/**
 * The admin CLI: one table from command name to module. main.ts only calls `runCli`.
 * Exit codes (README.md, "The CLI"): 0 ok, 1 runtime failure, 2 bad usage or bad config.
 *
 * The top layer with `app/` (see README.md, Layout): each command is one file in `commands/`
 * (`serve` starts `app/server.ts`). May import every folder below it: `app/`, `core/`,
 * `plugins/`, `storage/`, `mime/`, `lib/`; nothing imports `cli/` but `main.ts`.
 *
 * @module
 */
import { type FlagSpec, parseArgs, UsageError } from "./args.ts";
import { CliContext } from "./context.ts";
import { ConfigError } from "../core/config.ts";
import { StoreError } from "../storage/mod.ts";
import { checkLogEnv } from "../lib/log.ts";
import * as serve from "./commands/serve.ts";
import * as init from "./commands/init.ts";
import * as domain from "./commands/domain.ts";
import * as user from "./commands/user.ts";
import * as alias from "./commands/alias.ts";
import * as plugin from "./commands/plugin.ts";
import * as queue from "./commands/queue.ts";
import * as dkim from "./commands/dkim.ts";
import * as dns from "./commands/dns.ts";
import * as spam from "./commands/spam.ts";
import * as importCmd from "./commands/import.ts";
import * as exportCmd from "./commands/export.ts";
import * as token from "./commands/token.ts";
import * as sieve from "./commands/sieve.ts";
import * as reports from "./commands/reports.ts";

interface Command {
  usage: string;
  flags: FlagSpec;
  run(ctx: CliContext): Promise<void>;
}

const CONFIG: FlagSpec = { values: ["--config"] };

const COMMANDS: Record<string, Command> = {
  serve: { usage: serve.usage, flags: CONFIG, run: serve.run },
  init: {
    usage: init.usage,
    flags: { values: ["--config", "--domain", "--hostname", "--out"] },
    run: init.run,
  },
  domain: { usage: domain.usage, flags: CONFIG, run: domain.run },
  user: {
    usage: user.usage,
    flags: { ...CONFIG, booleans: ["--password-stdin", "--create-domain", "--admin"] },
    run: user.run,
  },
  alias: { usage: alias.usage, flags: CONFIG, run: alias.run },
  plugin: {
    usage: plugin.usage,
    flags: { values: ["--config", "--eml", "--from", "--to", "--ip", "--helo", "--user"] },
    run: plugin.run,
  },
  queue: { usage: queue.usage, flags: CONFIG, run: queue.run },
  dkim: {
    usage: dkim.usage,
    flags: { values: ["--config", "--selector"], booleans: ["--force"] },
    run: dkim.run,
  },
  dns: { usage: dns.usage, flags: CONFIG, run: dns.run },
  spam: {
    usage: spam.usage,
    flags: { values: ["--config", "--spam", "--ham", "--user"], booleans: ["--json"] },
    run: spam.run,
  },
  import: {
    usage: importCmd.usage,
    flags: { values: ["--config", "--user", "--mailbox"] },
    run: importCmd.run,
  },
  sieve: {
    usage: sieve.usage,
    flags: { values: ["--config", "--eml", "--from", "--to"] },
    run: sieve.run,
  },
  token: {
    usage: token.usage,
    flags: { values: ["--config", "--name"] },
    run: token.run,
  },
  reports: { usage: reports.usage, flags: { ...CONFIG, booleans: ["--now"] }, run: reports.run },
  dmarc: {
    usage: reports.dmarcUsage,
    flags: { values: ["--config", "--domain"] },
    run: reports.runDmarc,
  },
  export: {
    usage: exportCmd.usage,
    flags: { values: ["--config", "--user", "--mailbox", "--out"] },
    run: exportCmd.run,
  },
};

/** Contract commands whose issues have not landed yet. */
const NOT_YET: string[] = [];

function helpText(): string {
  const lines = ["usage: denomail <command> [--config FILE] ...", "", "commands:"];
  for (const c of Object.values(COMMANDS)) lines.push(`  ${c.usage}`);
  lines.push("", "Every command takes --config FILE (or $DENOMAIL_CONFIG) and --help.");
  return lines.join("\n");
}

/** Runs the CLI; returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(helpText());
    return name === undefined ? 2 : 0;
  }
  const badEnv = checkLogEnv();
  if (badEnv) {
    console.error(`denomail: ${badEnv}`);
    return 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    if (NOT_YET.includes(name)) {
      console.error(`denomail: ${name}: not implemented yet`);
      return 1;
    }
    console.error(`denomail: unknown command ${name} (see --help)`);
    return 2;
  }
  let ctx: CliContext | null = null;
  try {
    const args = parseArgs(rest, cmd.flags);
    if (args.booleans.has("--help")) {
      console.log(`usage: denomail ${cmd.usage}`);
      return 0;
    }
    ctx = new CliContext(args);
    await cmd.run(ctx);
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      console.error(`denomail: ${e.message}`);
      return 2;
    }
    if (e instanceof StoreError) {
      console.error(`denomail: ${e.message}`);
      return e.code === "invalid" ? 2 : 1;
    }
    console.error(`denomail: ${(e as Error).message ?? e}`);
    return 1;
  } finally {
    await ctx?.close();
  }
}
