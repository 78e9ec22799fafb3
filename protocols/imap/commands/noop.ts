/**
 * NOOP (RFC 9051 §6.1.2) and CHECK (RFC 3501 §6.4.1). Pending mailbox updates are sent by
 * the session after every command, so these need do nothing themselves.
 *
 * @module
 */
import { noArgs } from "../context.ts";

/** RFC 9051 §6.1.2: NOOP — the session's post-command sync reports pending changes. */
export const NOOP = noArgs(() => Promise.resolve());

/** RFC 3501 §6.4.1: CHECK — every write is already durable, so this is a NOOP. */
export const CHECK = noArgs(() => Promise.resolve({ text: "CHECK completed" }));
