/**
 * When a user's action teaches a spam filter (the `mailbox_move` hook): a move into or out
 * of Junk, or a newly set $Junk / $NotJunk keyword. Pure decisions, shared by every
 * protocol that moves or flags messages (IMAP COPY/MOVE/STORE, JMAP Email/set).
 *
 * @module
 */
import type { Mailbox } from "../storage/mod.ts";

/** "junk" into Junk, "ham" out of Junk (not into Trash), else null. */
export function moveKind(from: Mailbox, to: Mailbox): "junk" | "ham" | null {
  const junk = (m: Mailbox) => m.specialUse === "\\Junk";
  if (junk(to) && !junk(from)) return "junk";
  // Out of Junk into Trash is deleting spam, not calling it good mail.
  if (junk(from) && !junk(to) && to.specialUse !== "\\Trash") return "ham";
  return null;
}

// RFC 5788 registers $Junk / $NotJunk (IANA IMAP keywords); Thunderbird spells them
// Junk / NonJunk. Keywords compare case-insensitively, as the store keeps them.
const JUNK = new Set(["$junk", "junk"]);
const NOT_JUNK = new Set(["$notjunk", "nonjunk"]);

/**
 * "junk" when a STORE newly marked a message junk ($Junk or Junk, and neither was there
 * before), "ham" likewise for $NotJunk / NonJunk, null when neither or both.
 */
export function keywordKind(
  before: readonly string[],
  after: readonly string[],
): "junk" | "ham" | null {
  const had = before.map((f) => f.toLowerCase());
  const has = after.map((f) => f.toLowerCase());
  const newly = (set: Set<string>) => !had.some((f) => set.has(f)) && has.some((f) => set.has(f));
  const junk = newly(JUNK);
  const ham = newly(NOT_JUNK);
  // Both at once says nothing about the message: teach neither.
  if (junk === ham) return null;
  return junk ? "junk" : "ham";
}
