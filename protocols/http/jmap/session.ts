/**
 * The JMAP session resource (RFC 8620 §2) at `/.well-known/jmap`: capabilities with their
 * limits, the user's one account, and the URLs of the API, downloads, uploads and push.
 *
 * Invariant: a user sees exactly one account, their own (`a<id>`); `state` changes only
 * when this object does (it is a digest of everything else in it).
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Account } from "../../../storage/mod.ts";
import { accountIdOf } from "./ids.ts";
import { coreCapability, type JmapLimits } from "./limits.ts";

export const CORE = "urn:ietf:params:jmap:core";
export const MAIL = "urn:ietf:params:jmap:mail";
export const SUBMISSION = "urn:ietf:params:jmap:submission";
export const VACATION = "urn:ietf:params:jmap:vacationresponse";

/** Capabilities the server knows (a `using` outside this set is unknownCapability). */
export const CAPABILITIES: ReadonlySet<string> = new Set([CORE, MAIL, SUBMISSION, VACATION]);

/** The paths of the session's URLs (templates per RFC 6570 level 1). */
export const PATHS = {
  api: "/jmap/api/",
  download: "/jmap/download/",
  upload: "/jmap/upload/",
  eventSource: "/jmap/eventsource/",
} as const;

/** RFC 8621 §1.3.1: the mail capability of an account. */
function mailAccountCapability(limits: JmapLimits): Record<string, unknown> {
  return {
    maxMailboxesPerEmail: null,
    maxMailboxDepth: null,
    maxSizeMailboxName: 490,
    maxSizeAttachmentsPerEmail: limits.maxSizeUpload,
    // Every property Email/query sorts by (email_query.ts), and no other.
    emailQuerySortOptions: ["receivedAt", "size"],
    mayCreateTopLevelMailbox: true,
  };
}

/** The session object for `account`; `base` is "https://host:port" as the client reached us. */
export function sessionObject(
  account: Account,
  limits: JmapLimits,
  base: string,
): Record<string, unknown> {
  const id = accountIdOf(account.id);
  const session: Record<string, unknown> = {
    capabilities: {
      [CORE]: coreCapability(limits),
      [MAIL]: {},
      [SUBMISSION]: {},
      [VACATION]: {},
    },
    accounts: {
      [id]: {
        name: account.email,
        isPersonal: true,
        isReadOnly: false,
        accountCapabilities: {
          [CORE]: {},
          [MAIL]: mailAccountCapability(limits),
          // RFC 8621 §1.3.2: no delayed sending; no SMTP extensions offered to clients.
          [SUBMISSION]: { maxDelayedSend: 0, submissionExtensions: {} },
          [VACATION]: {},
        },
      },
    },
    primaryAccounts: { [CORE]: id, [MAIL]: id, [SUBMISSION]: id, [VACATION]: id },
    username: account.email,
    apiUrl: `${base}${PATHS.api}`,
    downloadUrl: `${base}${PATHS.download}{accountId}/{blobId}/{name}?accept={type}`,
    uploadUrl: `${base}${PATHS.upload}{accountId}/`,
    eventSourceUrl: `${base}${PATHS.eventSource}?types={types}&closeafter={closeafter}&ping={ping}`,
  };
  session.state = sessionState(account, limits);
  return session;
}

/** The session's state string (also sent with every API response, RFC 8620 §3.4). */
export function sessionState(account: Account, limits: JmapLimits): string {
  return createHash("sha256").update(JSON.stringify([account.id, account.email, limits]))
    .digest("base64url").slice(0, 16);
}

/** Host names we put back into URLs: letters, digits, dots, dashes, a port, IPv6 brackets. */
const SAFE_HOST = /^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?$/;

/** "scheme://host" for the session's URLs: the Host the client used, if it is a sane one. */
export function baseUrl(url: URL, secure: boolean, fallbackHost: string): string {
  const host = SAFE_HOST.test(url.host) ? url.host : fallbackHost;
  return `${secure ? "https" : "http"}://${host}`;
}
