/**
 * Helpers of the webmail's browser tests: find Debian's chromium, open a page that records
 * dialogs, console errors and requests to other hosts, sign in by accessible name, send
 * mail with smtplib, read it back with imaplib, and call JMAP with the page's own token.
 */
import type { Browser, Page } from "playwright-core";
import { run, startTestServer, type TestServer } from "../harness.ts";
import { chromium } from "playwright-core";

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
if "Message-ID" not in (m.get("headers") or {}):
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

export async function partsOf(
  raw: string,
): Promise<Array<{ type: string; name: string | null; b64: string }>> {
  const py = await run("python3", [
    "-c",
    `
import base64, email, email.policy, json, sys
m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
out = []
for p in m.walk():
    if p.is_multipart():
        continue
    out.append({"type": p.get_content_type(), "name": p.get_filename(),
                "b64": base64.b64encode(p.get_payload(decode=True) or b"").decode()})
    if p.get_content_type() == "message/rfc822":
        break
print(json.dumps(out))
`,
  ], { stdin: raw });
  return JSON.parse(py.stdout);
}

export const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

export function list(page: Page) {
  return page.getByRole("list", { name: "Messages" });
}

export function row(page: Page, subject: string) {
  return list(page).getByRole("listitem").filter({ hasText: subject });
}

export async function openMessage(page: Page, subject: string) {
  await list(page).getByRole("link", { name: subject }).first().click();
  await page.getByRole("heading", { name: subject }).waitFor();
}

export async function openMailbox(page: Page, name: RegExp) {
  await page.getByRole("navigation", { name: "Mailboxes" }).getByRole("link", { name }).click();
}

/** The Emails of the mailbox with `role`: subject and keywords. */
export async function emailsIn(page: Page, role: string) {
  const out = await jmapCall(page, [["Mailbox/query", { filter: { role } }, "m"]]);
  const mailboxId = (out[0][1].ids as string[])[0];
  const got = await jmapCall(page, [
    ["Email/query", { filter: { inMailbox: mailboxId } }, "q"],
    ["Email/get", {
      "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
      properties: ["subject", "keywords"],
    }, "g"],
  ]);
  if (got[1][0] !== "Email/get") throw new Error(`emailsIn ${role}: ${JSON.stringify(got)}`);
  return got[1][1].list as Array<{ subject: string; keywords: Record<string, boolean> }>;
}

/** Polls `check` until it holds (generous deadline: the machine is shared). */
export async function until(what: string, check: () => Promise<boolean>, ms = 30_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Bytes 0..255 repeated: a binary attachment that any re-encoding would break. */
export const BINARY = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff);

/** What the webmail feature tests share: a server with alice and bob, a corpus in alice's
 * Inbox, and a signed-in page. */
export interface Fixture {
  ts: TestServer;
  browser: Browser;
  page: Page;
  watch: Watch;
  imap: number;
  smtp: number;
}

export async function startFixture(): Promise<Fixture> {
  // A small message limit, so that "too large" is quick to reach.
  const ts = await startTestServer({
    listeners: { http: "127.0.0.1:0" },
    limits: { max_message_bytes: 1_000_000 },
  });
  let browser: Browser | null = null;
  try {
    await ts.addUser("alice@example.test", "alice-password");
    await ts.addUser("bob@example.test", "bob-password");
    const imap = ts.port("imap");
    const smtp = ts.port("smtp");
    await sendMail(smtp, {
      from: "Carol <carol@example.org>",
      to: "alice@example.test",
      subject: "Report with picture",
      text: "see the HTML",
      html: `<p>marker-cid</p><img alt="inline picture" src="cid:pic1@example.org">`,
      inlinePng: { cid: "pic1@example.org", bytes: PIXEL },
      attachment: { name: "data.bin", type: "application/octet-stream", bytes: BINARY },
    });
    for (const n of [1, 2, 3]) {
      await sendMail(smtp, {
        from: "Dan <dan@example.org>",
        to: "alice@example.test",
        subject: `Bulk ${n}`,
        text: `bulk message ${n}`,
      });
    }
    await sendMail(smtp, {
      from: "Spammer <spam@example.net>",
      to: "alice@example.test",
      subject: "Cheap pills",
      text: "buy now",
      headers: {
        "X-Spam-Status": "Yes, score=7.3 required=5.0 tests=BAYES_99,HTML_ONLY",
        "X-Spam-Score": "7.3",
        "Authentication-Results":
          "mail.example.test; spf=fail smtp.mailfrom=spam@example.net; dkim=none",
      },
    });
    await sendMail(smtp, {
      from: "News <news@shop.example>",
      to: "alice@example.test",
      subject: "Newsletter one",
      text: "html",
      html: `<p>marker-news</p><img alt="banner" src="http://tracker.example.net/one.png">`,
    });
    await sendMail(smtp, {
      from: "News <news@shop.example>",
      to: "alice@example.test",
      subject: "Newsletter two",
      text: "html",
      html: `<p>marker-news2</p><img alt="banner2" src="http://tracker.example.net/two.png">`,
    });
    const host = `127.0.0.1:${ts.port("http")}`;
    browser = await chromium.launch({ executablePath: CHROMIUM!, headless: true });
    const [page, watch] = await openPage(browser, host);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`http://${host}/`);
    await signIn(page, "alice@example.test", "alice-password");
    await row(page, "Report with picture").waitFor();
    return { ts, browser, page, watch, imap, smtp };
  } catch (e) {
    await browser?.close();
    await ts.stop();
    throw e;
  }
}
