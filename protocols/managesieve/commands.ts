/**
 * The ManageSieve commands (RFC 5804 §2) and which may run before login. Script storage is
 * the sieve plugin's own (plugins/builtin/sieve/scripts.ts), the same the CLI uses; syntax is
 * checked by the interpreter's compiler, whose errors carry line:column.
 *
 * @module
 */
import { SASL_MECHANISMS } from "../../core/auth.ts";
import { runSasl } from "../../core/session/mod.ts";
import { clientText, log } from "../../lib/log.ts";
import { compile } from "../../plugins/builtin/sieve/compile.ts";
import {
  activateScript,
  checkScriptName,
  checkSpace,
  deactivateScripts,
  deleteScript,
  getScript,
  listScripts,
  MAX_SCRIPT_BYTES,
  putScript,
  renameScript,
  ScriptStoreError,
} from "../../plugins/builtin/sieve/scripts.ts";
import { startTlsHandshake } from "../../core/session/mod.ts";
import type { CommandHandler, SessionContext } from "./context.ts";
import { ManageSieveError } from "./errors.ts";
import { sieveString } from "./parser.ts";
import { ok } from "./replies.ts";

const enc = new TextEncoder();

function argc(args: string[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    throw new ManageSieveError("Syntax error: wrong number of arguments", { bad: true });
  }
}

function account(ctx: SessionContext): string {
  return ctx.account!.email.toLowerCase();
}

/** Script-store refusals keep their RFC 5804 §1.3 code; a compile error its line:column. */
async function storing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof ScriptStoreError) throw new ManageSieveError(e.message, { code: e.code });
    if (e instanceof Error && (e.name === "SieveError" || e.message.startsWith("bad script"))) {
      throw new ManageSieveError(e.message);
    }
    throw e;
  }
}

const capability: CommandHandler = (ctx, args) => {
  argc(args, 0);
  ctx.sendCapabilities();
  ctx.send(ok());
};

const noop: CommandHandler = (ctx, args) => {
  argc(args, 0, 1);
  // RFC 5804 §2.14: a tag argument is echoed in a TAG response code.
  ctx.send(args.length ? `OK (TAG ${sieveString(args[0])}) "Done"\r\n` : ok("Done"));
};

const logout: CommandHandler = (ctx) => {
  ctx.send(ok("Logout completed"));
  ctx.end();
};

// RFC 5804 §2.2: after the handshake the server sends its capabilities again.
const starttls: CommandHandler = async (ctx, args) => {
  argc(args, 0);
  if (ctx.conn.isTls) throw new ManageSieveError("TLS is already active", { bad: true });
  ctx.send(ok("Begin TLS negotiation now"));
  await ctx.flush();
  await startTlsHandshake(ctx.deps, ctx.conn, "managesieve");
  ctx.sendCapabilities();
  ctx.send(ok());
};

// RFC 5804 §2.1: AUTHENTICATE mechanism [initial-response]; challenges and responses are
// strings carrying base64.
const authenticate: CommandHandler = async (ctx, args) => {
  argc(args, 1, 2);
  if (ctx.account) throw new ManageSieveError("Already authenticated", { bad: true });
  if (!ctx.loginAllowed) {
    throw new ManageSieveError("Authentication requires TLS: use STARTTLS first", {
      code: "ENCRYPT-NEEDED",
      bad: true,
    });
  }
  const mechanism = args[0].toUpperCase();
  const exchange = (SASL_MECHANISMS as readonly string[]).includes(mechanism)
    ? ctx.deps.auth.startSasl(mechanism, ctx.conn.remoteAddress)
    : null;
  if (!exchange) throw new ManageSieveError(`Unsupported mechanism ${mechanism}`, { bad: true });
  if (ctx.deps.auth.isThrottled(ctx.conn.remoteAddress)) {
    throw new ManageSieveError("Too many failed logins, try again later", {
      code: "TRYLATER",
      close: true,
    });
  }
  const outcome = await runSasl(mechanism, exchange, args[1] ?? null, {
    async challenge(base64) {
      ctx.send(`${sieveString(base64)}\r\n`);
      await ctx.flush();
    },
    readLine: (maxLen) => ctx.readSaslString(maxLen),
  });
  if (outcome.ok) return ctx.login(outcome.account);
  log.info("managesieve", "login failed", {
    session: ctx.id,
    ip: ctx.conn.remoteAddress,
    login: clientText(outcome.login),
    how: mechanism,
    reason: outcome.reason,
  });
  if (outcome.reason === "throttled") {
    throw new ManageSieveError("Too many failed logins, try again later", {
      code: "TRYLATER",
      close: true,
    });
  }
  throw new ManageSieveError("Authentication failed", { bad: true });
};

const havespace: CommandHandler = async (ctx, args) => {
  argc(args, 2);
  if (!/^\d{1,10}$/.test(args[1])) throw new ManageSieveError("Syntax error: size", { bad: true });
  await storing(async () => {
    checkScriptName(args[0]);
    await checkSpace(ctx.scripts, account(ctx), args[0], Number(args[1]));
  });
  ctx.send(ok());
};

const putscript: CommandHandler = async (ctx, args) => {
  argc(args, 2);
  await storing(() => putScript(ctx.scripts, account(ctx), args[0], args[1]));
  ctx.send(ok());
};

const checkscript: CommandHandler = async (ctx, args) => {
  argc(args, 1);
  if (enc.encode(args[0]).length > MAX_SCRIPT_BYTES) {
    throw new ManageSieveError("Script too large", { code: "QUOTA/MAXSIZE" });
  }
  await storing(() => Promise.resolve(compile(args[0])));
  ctx.send(ok());
};

const listscripts: CommandHandler = async (ctx, args) => {
  argc(args, 0);
  const { names, active } = await listScripts(ctx.scripts, account(ctx));
  for (const n of names) ctx.send(`${sieveString(n)}${n === active ? " ACTIVE" : ""}\r\n`);
  ctx.send(ok());
};

const setactive: CommandHandler = async (ctx, args) => {
  argc(args, 1);
  // RFC 5804 §2.8: the empty name deactivates every script.
  if (args[0] === "") await deactivateScripts(ctx.scripts, account(ctx));
  else await storing(() => activateScript(ctx.scripts, account(ctx), args[0]));
  ctx.send(ok());
};

const getscript: CommandHandler = async (ctx, args) => {
  argc(args, 1);
  const source = await getScript(ctx.scripts, account(ctx), args[0]);
  if (source === null) throw new ManageSieveError("No such script", { code: "NONEXISTENT" });
  // RFC 5804 §2.9: the script is always a literal.
  ctx.send(`{${enc.encode(source).length}}\r\n${source}\r\n`);
  ctx.send(ok());
};

const deletescript: CommandHandler = async (ctx, args) => {
  argc(args, 1);
  await storing(() => deleteScript(ctx.scripts, account(ctx), args[0]));
  ctx.send(ok());
};

const renamescript: CommandHandler = async (ctx, args) => {
  argc(args, 2);
  await storing(() => renameScript(ctx.scripts, account(ctx), args[0], args[1]));
  ctx.send(ok());
};

// RFC 5804 §2.14.1: the session goes back to the non-authenticated state (no SASL security
// layer is ever negotiated here, so there is none to undo).
const unauthenticate: CommandHandler = (ctx, args) => {
  argc(args, 0);
  ctx.unauthenticate();
  ctx.send(ok());
};

/** Commands allowed before AUTHENTICATE (RFC 5804 §2). */
export const BEFORE_LOGIN: ReadonlyMap<string, CommandHandler> = new Map([
  ["CAPABILITY", capability],
  ["NOOP", noop],
  ["LOGOUT", logout],
  ["STARTTLS", starttls],
  ["AUTHENTICATE", authenticate],
]);

/** Commands allowed after AUTHENTICATE. */
export const AFTER_LOGIN: ReadonlyMap<string, CommandHandler> = new Map([
  ["CAPABILITY", capability],
  ["NOOP", noop],
  ["LOGOUT", logout],
  ["HAVESPACE", havespace],
  ["PUTSCRIPT", putscript],
  ["CHECKSCRIPT", checkscript],
  ["LISTSCRIPTS", listscripts],
  ["SETACTIVE", setactive],
  ["GETSCRIPT", getscript],
  ["DELETESCRIPT", deletescript],
  ["RENAMESCRIPT", renamescript],
  ["UNAUTHENTICATE", unauthenticate],
]);
