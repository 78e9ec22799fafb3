/**
 * A small JMAP client (RFC 8620) for the webmail: the session resource and API calls with
 * the bearer token. Only paths of the session's URLs are used, so every request stays on
 * the page's own origin (the CSP's connect-src 'self').
 *
 * @module
 */
/// <reference lib="dom" />

export const CORE = "urn:ietf:params:jmap:core";
export const MAIL = "urn:ietf:params:jmap:mail";
export const SUBMISSION = "urn:ietf:params:jmap:submission";

/** The session answered 401: the token is gone (revoked or never valid). */
export class SignedOut extends Error {}

/** A method call: [name, arguments, call id] (RFC 8620 §3.2). */
export type Invocation = [string, Record<string, unknown>, string];

export interface Mailbox {
  id: string;
  name: string;
  role: string | null;
  parentId: string | null;
  sortOrder: number;
  totalEmails: number;
  unreadEmails: number;
}

export interface EmailAddress {
  name: string | null;
  email: string;
}

export interface EmailSummary {
  id: string;
  from: EmailAddress[] | null;
  subject: string | null;
  receivedAt: string;
  preview: string;
  keywords: Record<string, boolean>;
  hasAttachment: boolean;
  threadId?: string;
}

export interface BodyPart {
  partId: string;
  type: string;
  blobId?: string;
  name?: string | null;
  size?: number;
  cid?: string | null;
  disposition?: string | null;
}

export interface EmailFull extends EmailSummary {
  mailboxIds: Record<string, boolean>;
  messageId: string[] | null;
  references: string[] | null;
  replyTo: EmailAddress[] | null;
  to: EmailAddress[] | null;
  cc: EmailAddress[] | null;
  textBody: BodyPart[];
  htmlBody: BodyPart[];
  attachments: BodyPart[];
  blobId: string;
  header?: Record<string, unknown>;
  bodyValues: Record<string, { value: string; isTruncated: boolean }>;
}

const SESSION_KEY = "denomail.session";

/** A short tag of the token, so the cached session is only used with the token it came with. */
function tokenTag(token: string): string {
  let h = 0;
  for (let i = 0; i < token.length; i++) h = (h * 31 + token.charCodeAt(i)) | 0;
  return `${token.length}:${h}`;
}

// deno-lint-ignore no-explicit-any
function cachedSession(token: string): any {
  try {
    const c = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? "null");
    return c?.token === tokenTag(token) && c.session?.apiUrl ? c.session : null;
  } catch {
    return null;
  }
}

export class Jmap {
  /** Called once a call is refused with 401 (the token was revoked meanwhile). */
  onSignedOut: (() => void) | null = null;

  private constructor(
    readonly token: string,
    readonly accountId: string,
    readonly username: string,
    private apiPath: string,
    private paths: { upload: string; download: string; eventSource: string },
    /** The largest upload the server takes (RFC 8620 §2 maxSizeUpload), in bytes. */
    readonly maxUpload: number,
  ) {}

  /** The Authorization header every request carries (never a cookie: see auth.ts). */
  get auth(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  /** Fetches the session resource; throws SignedOut when the token is not accepted. */
  static async connect(token: string): Promise<Jmap> {
    // A reload reuses the session object kept beside the token (one round trip less before
    // the list); a revoked token still ends at the first API call (401 -> onSignedOut).
    let s = cachedSession(token);
    if (!s) {
      const res = await fetch("/.well-known/jmap", {
        headers: { authorization: `Bearer ${token}` },
      });
      if (res.status === 401) throw new SignedOut();
      if (!res.ok) throw new Error(`the server answered ${res.status}`);
      s = await res.json();
      sessionStorage.setItem(SESSION_KEY, JSON.stringify({ token: tokenTag(token), session: s }));
    }
    // Only paths: every URL the session names is fetched on this page's origin.
    const path = (u: string) => u.replace(/^https?:\/\/[^/]+/, "");
    return new Jmap(token, s.primaryAccounts[MAIL], s.username, path(s.apiUrl), {
      upload: path(s.uploadUrl),
      download: path(s.downloadUrl),
      eventSource: path(s.eventSourceUrl),
    }, s.capabilities?.[CORE]?.maxSizeUpload ?? 0);
  }

  /** RFC 8620 §6.1: uploads `file`; resolves to its blobId, type and size. */
  async upload(file: Blob): Promise<{ blobId: string; type: string; size: number }> {
    const res = await fetch(this.paths.upload.replace("{accountId}", this.accountId), {
      method: "POST",
      headers: { ...this.auth, "content-type": file.type || "application/octet-stream" },
      body: file,
    });
    if (res.status === 401) this.onSignedOut?.();
    if (!res.ok) throw new Error(`the upload was refused (${res.status})`);
    return await res.json();
  }

  /** RFC 8620 §6.2: a blob's bytes (with the bearer token, so no link can carry them). */
  async download(blobId: string, name: string, type: string): Promise<Blob> {
    const url = this.paths.download.replace("{accountId}", encodeURIComponent(this.accountId))
      .replace("{blobId}", encodeURIComponent(blobId))
      .replace("{name}", encodeURIComponent(name || "attachment"))
      .replace("{type}", encodeURIComponent(type));
    const res = await fetch(url, { headers: this.auth });
    if (!res.ok) throw new Error(`the download failed (${res.status})`);
    return await res.blob();
  }

  /** The EventSource URL (RFC 8620 §7.3) for `types`, with pings every `ping` seconds. */
  eventSourceUrl(types: string, ping: number): string {
    return this.paths.eventSource.replace("{types}", encodeURIComponent(types))
      .replace("{closeafter}", "no").replace("{ping}", String(ping));
  }

  /** Runs method calls in one request; a method-level error throws. */
  async call(
    calls: Invocation[],
    more: string[] = [],
  ): Promise<Array<[string, Record<string, unknown>, string]>> {
    const res = await fetch(this.apiPath, {
      method: "POST",
      headers: { ...this.auth, "content-type": "application/json" },
      body: JSON.stringify({ using: [CORE, MAIL, SUBMISSION, ...more], methodCalls: calls }),
    });
    if (res.status === 401) {
      this.onSignedOut?.();
      throw new SignedOut();
    }
    if (!res.ok) throw new Error(`the server answered ${res.status}`);
    const out = (await res.json()).methodResponses as Array<
      [string, Record<string, unknown>, string]
    >;
    const failed = out.find((r) => r[0] === "error");
    if (failed) throw new Error(`JMAP error: ${failed[1].type}`);
    return out;
  }

  /** Every mailbox of the account. */
  async mailboxes(): Promise<Mailbox[]> {
    const [[, got]] = await this.call([
      ["Mailbox/get", { accountId: this.accountId, ids: null }, "m"],
    ]);
    return got.list as Mailbox[];
  }

  /** One page of the messages matching `filter`, newest first, and how many there are. */
  async page(
    filter: Record<string, unknown>,
    position: number,
    limit: number,
    collapseThreads = false,
  ): Promise<{ emails: EmailSummary[]; total: number }> {
    const out = await this.call([
      ["Email/query", {
        accountId: this.accountId,
        filter,
        sort: [{ property: "receivedAt", isAscending: false }],
        collapseThreads,
        position,
        limit,
        calculateTotal: true,
      }, "q"],
      ["Email/get", {
        accountId: this.accountId,
        "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
        properties: [
          "from",
          "subject",
          "receivedAt",
          "preview",
          "keywords",
          "hasAttachment",
          "threadId",
        ],
      }, "g"],
    ]);
    return { emails: out[1][1].list as EmailSummary[], total: out[0][1].total as number };
  }

  /** One message with its text and HTML bodies. */
  async email(id: string): Promise<EmailFull | null> {
    const [[, got]] = await this.call([
      ["Email/get", {
        accountId: this.accountId,
        ids: [id],
        properties: [
          "mailboxIds",
          "messageId",
          "references",
          "replyTo",
          "from",
          "to",
          "cc",
          "subject",
          "receivedAt",
          "preview",
          "keywords",
          "hasAttachment",
          "textBody",
          "htmlBody",
          "attachments",
          "blobId",
          "threadId",
          "bodyValues",
          "header:Authentication-Results:asText:all",
          "header:X-Spam-Status:asText",
          "header:X-Spam-Score:asText",
          "header:X-Spam-Flag:asText",
          "header:X-Spam-Report:asText",
        ],
        fetchTextBodyValues: true,
        fetchHTMLBodyValues: true,
        maxBodyValueBytes: 2_000_000,
      }, "e"],
    ]);
    return (got.list as EmailFull[])[0] ?? null;
  }

  /** Email/set update of several Emails with patches (RFC 8620 §5.3); a refusal throws. */
  async updateEmails(patches: Record<string, Record<string, unknown>>): Promise<void> {
    const [[, res]] = await this.call([
      ["Email/set", { accountId: this.accountId, update: patches }, "u"],
    ]);
    const failed = res.notUpdated as Record<string, { type: string }> | null;
    if (failed && Object.keys(failed).length) {
      throw new Error(`not updated: ${Object.values(failed)[0].type}`);
    }
  }

  /** Creates a mailbox at the top level, with a role when given; returns its id. */
  async createMailbox(name: string, role: string | null): Promise<string> {
    const [[, res]] = await this.call([
      ["Mailbox/set", { accountId: this.accountId, create: { m: { name, role } } }, "c"],
    ]);
    const made = (res.created as Record<string, { id: string }> | null)?.m;
    if (!made) throw new Error(`the mailbox ${name} could not be created`);
    return made.id;
  }

  /** The account's Identities (the From addresses it may send as, RFC 8621 §6). */
  async identities(): Promise<Identity[]> {
    const [[, got]] = await this.call([
      ["Identity/get", { accountId: this.accountId, ids: null }, "i"],
    ]);
    const list = got.list as Identity[];
    if (!list.length) throw new Error("this account has no identity to send from");
    return list;
  }

  /**
   * Creates `email` in Drafts and submits it in the same request; on success the server
   * moves it to Sent and drops $draft (RFC 8621 §7.5 onSuccessUpdateEmail). The saved draft
   * it replaces, if any, is destroyed in the same Email/set.
   */
  async send(
    email: Record<string, unknown>,
    identityId: string,
    mailboxes: { drafts: string; sent: string },
    replaces: string | null,
  ): Promise<void> {
    const { drafts, sent } = mailboxes;
    const out = await this.call([
      ["Email/set", {
        accountId: this.accountId,
        create: {
          draft: {
            ...email,
            mailboxIds: { [drafts]: true },
            keywords: { $draft: true, $seen: true },
          },
        },
        ...(replaces ? { destroy: [replaces] } : {}),
      }, "e"],
      ["EmailSubmission/set", {
        accountId: this.accountId,
        create: { sub: { identityId, emailId: "#draft" } },
        onSuccessUpdateEmail: {
          "#sub": {
            [`mailboxIds/${drafts}`]: null,
            [`mailboxIds/${sent}`]: true,
            "keywords/$draft": null,
          },
        },
      }, "s"],
    ]);
    for (const [, res] of out) {
      const failed = res.notCreated as Record<string, { type: string; description?: string }>;
      if (failed && Object.keys(failed).length) {
        const e = Object.values(failed)[0];
        throw new Error(`not sent: ${e.description ?? e.type}`);
      }
    }
  }
}

export interface Identity {
  id: string;
  name: string;
  email: string;
}
