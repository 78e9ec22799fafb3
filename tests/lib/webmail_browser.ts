/**
 * Helpers of the webmail's browser tests: find Debian's chromium, open a page that records
 * dialogs, console errors and requests to other hosts, sign in by accessible name, send
 * mail with smtplib, read it back with imaplib, and call JMAP with the page's own token.
 */
import type { Browser, Page } from "playwright-core";
import { run } from "../harness.ts";

const CANDIDATES = [
  Deno.env.get("CHROMIUM_PATH"),
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
];

function findChromium(): string | null {
  for (const p of CANDIDATES) {
    if (!p) continue;
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not here */ }
  }
  return null;
}

export const CHROMIUM = findChromium();
if (!CHROMIUM) {
  console.log(
    "webmail browser tests skipped: no chromium found (apt-get install chromium, or set " +
      "CHROMIUM_PATH)",
  );
}

/** A 1x1 transparent PNG, the answer to every request for a remote host. */
export const PIXEL = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
  ),
  (c) => c.charCodeAt(0),
);

/**
 * Sends one message with smtplib: plain text, or HTML with a plain alternative; optionally
 * extra headers, an inline image (multipart/related, by Content-ID) and an attachment.
 */
export async function sendMail(
  port: number,
  m: {
    from: string;
    to: string;
    subject: string;
    text: string;
    html?: string;
    headers?: Record<string, string>;
    inlinePng?: { cid: string; bytes: Uint8Array };
    attachment?: { name: string; type: string; bytes: Uint8Array };
  },
) {
  const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
  const script = `
import base64, json, smtplib, sys
from email.message import EmailMessage
from email.utils import make_msgid
m = json.loads(sys.stdin.read())
msg = EmailMessage()
msg["From"] = m["from"]
msg["To"] = m["to"]
msg["Subject"] = m["subject"]
msg["Message-ID"] = make_msgid(domain="example.org")
for k, v in (m.get("headers") or {}).items():
    msg[k] = v
msg.set_content(m["text"])
if m.get("html"):
    msg.add_alternative(m["html"], subtype="html")
    if m.get("inline"):
        html = msg.get_payload()[1]
        html.add_related(base64.b64decode(m["inline"]["b64"]), "image", "png",
                         cid="<" + m["inline"]["cid"] + ">")
if m.get("attachment"):
    a = m["attachment"]
    main, sub = a["type"].split("/")
    msg.add_attachment(base64.b64decode(a["b64"]), maintype=main, subtype=sub, filename=a["name"])
with smtplib.SMTP("127.0.0.1", int(sys.argv[1])) as s:
    s.send_message(msg)
`;
  const payload = {
    ...m,
    inline: m.inlinePng ? { cid: m.inlinePng.cid, b64: b64(m.inlinePng.bytes) } : undefined,
    attachment: m.attachment ? { ...m.attachment, b64: b64(m.attachment.bytes) } : undefined,
    inlinePng: undefined,
  };
  await run("python3", ["-c", script, String(port)], { stdin: JSON.stringify(payload) });
}

export interface Watch {
  dialogs: string[];
  /** Console errors other than CSP refusals. */
  errors: string[];
  /**
   * CSP refusals. Chromium checks inline handlers and <base> already when DOMPurify parses
   * a hostile body in the page's inert parsing document, and logs each refusal as an error
   * although nothing ran: these are the CSP doing its job, so they are kept apart.
   */
  refused: string[];
  /** Requests for any host other than the server. */
  outside: string[];
}

export async function openPage(browser: Browser, serverHost: string): Promise<[Page, Watch]> {
  const watch: Watch = { dialogs: [], errors: [], refused: [], outside: [] };
  const context = await browser.newContext();
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.host === serverHost) return route.continue();
    watch.outside.push(url.href);
    return route.fulfill({ status: 200, contentType: "image/png", body: PIXEL as never });
  });
  const page = await context.newPage();
  page.on("dialog", (d) => {
    watch.dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    if (/violates the following Content Security Policy directive/.test(m.text())) {
      watch.refused.push(m.text());
    } else watch.errors.push(m.text());
  });
  page.on("pageerror", (e) => watch.errors.push(`pageerror: ${e.message}`));
  return [page, watch];
}

export async function signIn(page: Page, email: string, password: string) {
  await page.getByRole("textbox", { name: "Email address" }).fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** The raw message in `user`'s INBOX whose subject is `subject`, read with Python's imaplib. */
export async function imapFetch(port: number, user: string, password: string, subject: string) {
  const script = `
import imaplib, sys
c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
c.login(sys.argv[2], sys.argv[3])
c.select("INBOX")
typ, ids = c.search(None, "SUBJECT", '"' + sys.argv[4] + '"')
num = ids[0].split()[-1]
typ, data = c.fetch(num, "(BODY.PEEK[])")
sys.stdout.buffer.write(data[0][1])
c.logout()
`;
  const out = await run("python3", ["-c", script, String(port), user, password, subject]);
  return new TextDecoder().decode(out.stdoutBytes);
}

/** Runs JMAP method calls with the page's own token (to check what the buttons did). */
export function jmapCall(
  page: Page,
  calls: unknown[],
): Promise<Array<[string, Record<string, unknown>, string]>> {
  return page.evaluate(async (calls) => {
    const token = sessionStorage.getItem("denomail.token");
    const s = await (await fetch("/.well-known/jmap", {
      headers: { authorization: `Bearer ${token}` },
    })).json();
    const res = await fetch(new URL(s.apiUrl).pathname, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        using: [
          "urn:ietf:params:jmap:core",
          "urn:ietf:params:jmap:mail",
          "urn:ietf:params:jmap:submission",
        ],
        methodCalls: (calls as Array<[string, Record<string, unknown>, string]>).map((
          [n, a, id],
        ) => [n, { accountId: s.primaryAccounts["urn:ietf:params:jmap:mail"], ...a }, id]),
      }),
    });
    return (await res.json()).methodResponses;
  }, calls);
}

/** The keywords of the Email with this subject. */
export async function keywordsOf(page: Page, subject: string): Promise<Record<string, boolean>> {
  const out = await jmapCall(page, [
    ["Email/query", { filter: { subject } }, "q"],
    ["Email/get", {
      "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
      properties: ["keywords"],
    }, "g"],
  ]);
  return (out[1][1].list as Array<{ keywords: Record<string, boolean> }>)[0].keywords;
}

/** The Message-ID of the first Email with this subject. */
export async function messageIdOf(page: Page, subject: string): Promise<{ messageId: string[] }> {
  const out = await jmapCall(page, [
    ["Email/query", { filter: { subject } }, "q"],
    ["Email/get", {
      "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
      properties: ["messageId"],
    }, "g"],
  ]);
  return (out[1][1].list as Array<{ messageId: string[] }>)[0];
}
