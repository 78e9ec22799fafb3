/**
 * The verb -> handler table. Which phase allows which verb is in `../state.ts`.
 *
 * @module
 */
import type { CommandSpec } from "../context.ts";
import { auth } from "./auth.ts";
import { expn, help, noop, quit, rset, vrfy } from "./basic.ts";
import { bdat, data, drainBdat } from "./data.ts";
import { ehlo, helo } from "./helo.ts";
import { mail } from "./mail.ts";
import { rcpt } from "./rcpt.ts";
import { starttls } from "./starttls.ts";

/** Every command we know. A verb not here is answered 500 5.5.1. */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  EHLO: { handler: ehlo },
  HELO: { handler: helo },
  MAIL: { handler: mail, needsAuth: true },
  RCPT: { handler: rcpt },
  DATA: { handler: data },
  BDAT: { handler: bdat, drain: drainBdat },
  RSET: { handler: rset },
  NOOP: { handler: noop },
  QUIT: { handler: quit },
  VRFY: { handler: vrfy },
  EXPN: { handler: expn },
  HELP: { handler: help },
  STARTTLS: { handler: starttls, roles: ["mx", "submission"] },
  // RFC 4954 on the submission listeners only: the MX takes mail for local users unauthenticated.
  AUTH: { handler: auth, roles: ["submission", "submissions"] },
};

/**
 * Verbs of other protocols (an HTTP request sent to the SMTP port, cross-protocol attacks):
 * answered once, then the connection is closed.
 */
export const FORBIDDEN_VERBS: ReadonlySet<string> = new Set([
  "GET",
  "POST",
  "PUT",
  "HEAD",
  "CONNECT",
  "OPTIONS",
]);
