/**
 * Managing mail in the webmail, in Chromium (playwright-core, by role and accessible name):
 * flags and unread, bulk actions on selected messages, drag to a mailbox, keyboard
 * shortcuts, mailboxes, the spam verdict, remote images per sender, live updates by push,
 * threads, Settings (vacation reply, encryption key, spam lists, password: IMAP takes the
 * new one), dark mode.
 */
import assert from "node:assert/strict";
import * as openpgp from "openpgp";
import { run } from "./harness.ts";
import {
  CHROMIUM,
  emailsIn,
  type Fixture,
  list,
  openMailbox,
  openMessage,
  row,
  sendMail,
  startFixture,
  until,
} from "./lib/webmail_browser.ts";

Deno.test({
  name: "webmail in chromium: flags, bulk, drag, shortcuts, mailboxes, push, settings",
  ignore: !CHROMIUM,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    let f: Fixture | null = null;
    try {
      f = await startFixture();
      const { page, watch, imap, smtp } = f;
      await t.step("Flag and Mark as unread set and clear the keywords", async () => {
        await openMessage(page, "Bulk 1");
        const flag = page.getByRole("button", { name: "Flag", exact: true });
        await flag.click();
        await until(
          "$flagged",
          async () =>
            (await emailsIn(page, "inbox")).find((e) => e.subject === "Bulk 1")!.keywords.$flagged,
        );
        await page.locator('button[aria-pressed="true"]', { hasText: "Flag" }).waitFor();
        await row(page, "Bulk 1").getByLabel("Flagged").waitFor();
        await page.getByRole("button", { name: "Mark as unread" }).click();
        await until(
          "unread",
          async () =>
            !(await emailsIn(page, "inbox")).find((e) => e.subject === "Bulk 1")!.keywords.$seen,
        );
      });

      await t.step("select several: mark read, then archive them together", async () => {
        await page.getByRole("checkbox", { name: "Select Bulk 2" }).check();
        await page.getByRole("checkbox", { name: "Select Bulk 3" }).check();
        await page.getByRole("toolbar", { name: "Selected messages" }).getByText("2 selected")
          .waitFor();
        await page.getByRole("button", { name: "Mark selected as read" }).click();
        await until(
          "both read",
          async () =>
            (await emailsIn(page, "inbox")).filter((e) => /Bulk [23]/.test(e.subject))
              .every((e) => e.keywords.$seen),
        );
        await page.getByRole("checkbox", { name: "Select Bulk 2" }).check();
        await page.getByRole("checkbox", { name: "Select Bulk 3" }).check();
        await page.getByRole("button", { name: "Archive selected" }).click();
        await row(page, "Bulk 2").waitFor({ state: "detached" });
        await row(page, "Bulk 3").waitFor({ state: "detached" });
        const archived = (await emailsIn(page, "archive")).map((e) => e.subject).sort();
        assert.deepEqual(archived, ["Bulk 2", "Bulk 3"]);
        // The keyboard's way to move: "Move selected to" (Archive back to Inbox).
        await openMailbox(page, /^Archive/);
        await page.getByRole("checkbox", { name: "Select all on this page" }).check();
        await page.getByRole("combobox", { name: "Move selected to" }).selectOption({
          label: "Inbox",
        });
        await row(page, "Bulk 2").waitFor({ state: "detached" });
        assert.deepEqual(await emailsIn(page, "archive"), []);
        await openMailbox(page, /^Inbox/);
        await row(page, "Bulk 3").waitFor();
      });

      await t.step("Settings: create, rename and delete a mailbox", async () => {
        await page.getByRole("link", { name: "Settings" }).click();
        await page.getByRole("textbox", { name: "New mailbox" }).fill("Projects");
        await page.getByRole("button", { name: "Create mailbox" }).click();
        const nav = page.getByRole("navigation", { name: "Mailboxes" });
        await nav.getByRole("link", { name: /^Projects/ }).waitFor();
        await page.getByRole("button", { name: "Rename Projects" }).click();
        await page.getByRole("textbox", { name: "New name" }).fill("Work");
        await page.getByRole("button", { name: "Save name" }).click();
        await nav.getByRole("link", { name: /^Work/ }).waitFor();
        await page.getByRole("textbox", { name: "New mailbox" }).fill("Old stuff");
        await page.getByRole("button", { name: "Create mailbox" }).click();
        await nav.getByRole("link", { name: /^Old stuff/ }).waitFor();
        await page.getByRole("button", { name: "Delete Old stuff" }).click();
        await page.getByRole("button", { name: "Yes, delete" }).click();
        await nav.getByRole("link", { name: /^Old stuff/ }).waitFor({ state: "detached" });
      });

      await t.step("drag a message onto a mailbox moves it there", async () => {
        await openMailbox(page, /^Inbox/);
        const nav = page.getByRole("navigation", { name: "Mailboxes" });
        await list(page).getByRole("link", { name: "Bulk 1" }).dragTo(
          nav.getByRole("link", { name: /^Work/ }),
        );
        await row(page, "Bulk 1").waitFor({ state: "detached" });
        await openMailbox(page, /^Work/);
        await row(page, "Bulk 1").waitFor();
        await openMailbox(page, /^Inbox/);
      });

      await t.step("keyboard: j/k walk the list, r replies, c composes, / searches", async () => {
        await row(page, "Report with picture").waitFor();
        await page.locator("h2.list-title").click();
        await page.keyboard.press("j");
        const first = await list(page).getByRole("link").first().textContent();
        await until(
          "the first message open",
          async () => (await page.locator("#message-subject").count()) === 1,
        );
        await page.keyboard.press("j");
        await page.keyboard.press("k");
        await until(
          "back on the first",
          async () => first!.includes(await page.locator("#message-subject").textContent() ?? "\0"),
        );
        // Enter on a focused row opens it (keyboard only: Tab reaches the rows).
        await list(page).getByRole("link").nth(1).focus();
        const second = await list(page).getByRole("link").nth(1).locator(".subject").textContent();
        await page.keyboard.press("Enter");
        await page.getByRole("heading", { name: second! }).waitFor();
        await page.keyboard.press("k");
        await until(
          "back on the first",
          async () => first!.includes(await page.locator("#message-subject").textContent() ?? "\0"),
        );
        await page.keyboard.press("r");
        await page.getByRole("textbox", { name: "Subject" }).waitFor();
        assert.match(await page.getByRole("textbox", { name: "Subject" }).inputValue(), /^Re: /);
        await page.getByRole("button", { name: "Discard" }).click();
        await page.getByRole("textbox", { name: "Subject" }).waitFor({ state: "detached" });
        await page.getByRole("heading", { level: 2 }).last().waitFor();
        await page.keyboard.press("/");
        assert.equal(
          await page.evaluate(() => document.activeElement?.getAttribute("aria-label")),
          "Search mail",
        );
        await page.keyboard.press("Escape");
        await page.locator("h2.list-title").click();
        await page.keyboard.press("?");
        await page.getByRole("dialog", { name: "Keyboard shortcuts" }).waitFor();
        await page.keyboard.press("Escape");
        await page.keyboard.press("c");
        await page.getByRole("textbox", { name: "To" }).waitFor();
        await page.getByRole("button", { name: "Discard" }).click();
        await page.getByRole("textbox", { name: "To" }).waitFor({ state: "detached" });
      });

      await t.step("Search mail with from: and has:attachment", async () => {
        const box = page.getByRole("searchbox", { name: "Search mail" });
        await box.fill("from:carol has:attachment");
        await box.press("Enter");
        await page.getByRole("heading", { name: "Search: from:carol has:attachment" }).waitFor();
        await until(
          "one result",
          async () =>
            (await list(page).getByRole("listitem").count()) === 1 &&
            (await row(page, "Report with picture").count()) === 1,
        );
        await box.fill("from:carol subject:nothing-like-this");
        await box.press("Enter");
        await page.getByText("No messages.").waitFor();
        await openMailbox(page, /^Inbox/);
        await row(page, "Cheap pills").waitFor();
      });

      await t.step("why is this in Junk: score, rules and sender checks in words", async () => {
        await openMessage(page, "Cheap pills");
        await page.getByRole("button", { name: "Mark as junk" }).click();
        await row(page, "Cheap pills").waitFor({ state: "detached" });
        await openMailbox(page, /^Junk/);
        await openMessage(page, "Cheap pills");
        const why = page.getByRole("group").filter({ hasText: "Why is this in Junk?" });
        await why.getByText(/judged this message to be spam \(score 7\.3 of 5\.0\)/).waitFor();
        await why.getByText(/BAYES_99, HTML_ONLY/).waitFor();
        await page.getByRole("list", { name: "Sender checks" }).getByText(/SPF.*: fail/).waitFor();
        await page.screenshot({ path: "/tmp/webmail-junk.png" });
        await openMailbox(page, /^Inbox/);
      });

      await t.step("remote images: always for this sender, remembered", async () => {
        await openMessage(page, "Newsletter one");
        assert.equal(watch.outside.length, 0);
        const one = page.waitForRequest((r) => r.url().includes("tracker.example.net/one.png"));
        await page.getByRole("button", { name: "Always show images from news@shop.example" })
          .click();
        await one;
        // A frame made with its content already set may load before Playwright sees it, so
        // the check is that the image is kept, not that its request was seen.
        await openMessage(page, "Newsletter two");
        const body = page.getByTitle("Message body").contentFrame();
        assert.equal(
          await body.getByRole("img", { name: "banner2" }).getAttribute("src"),
          "http://tracker.example.net/two.png",
        );
        assert.equal(await page.getByRole("button", { name: "Show remote images" }).count(), 0);
      });

      await t.step("live update: mail arriving by SMTP shows without a reload", async () => {
        await openMailbox(page, /^Inbox/);
        await row(page, "Report with picture").waitFor();
        await page.evaluate(() => ((globalThis as Record<string, unknown>).noReload = true));
        await sendMail(smtp, {
          from: "Eve <eve@example.org>",
          to: "alice@example.test",
          subject: "Pushed in live",
          text: "arrived while the page was open",
          headers: { "Message-ID": "<live1@example.org>" },
        });
        await row(page, "Pushed in live").waitFor({ timeout: 30_000 });
        assert.equal(
          await page.evaluate(() => (globalThis as Record<string, unknown>).noReload),
          true,
        );
      });

      await t.step("a second tab gets live updates without a second stream", async () => {
        const token = await page.evaluate(() => sessionStorage.getItem("denomail.token"));
        const second = await page.context().newPage();
        const streams: string[] = [];
        second.on("request", (r) => {
          if (r.url().includes("/jmap/eventsource/")) streams.push(r.url());
        });
        await second.addInitScript((t) => sessionStorage.setItem("denomail.token", t), token!);
        await second.goto(page.url());
        await row(second, "Pushed in live").waitFor();
        await sendMail(smtp, {
          from: "Eve <eve@example.org>",
          to: "alice@example.test",
          subject: "Seen in both tabs",
          text: "one stream, two tabs",
        });
        await row(second, "Seen in both tabs").waitFor({ timeout: 30_000 });
        await row(page, "Seen in both tabs").waitFor({ timeout: 30_000 });
        assert.deepEqual(streams, [], "the first tab holds the only stream");
        await second.close();
      });

      await t.step("Group by thread collapses a thread into one row", async () => {
        await sendMail(smtp, {
          from: "Eve <eve@example.org>",
          to: "alice@example.test",
          subject: "Re: Pushed in live",
          text: "a reply in the thread",
          headers: { "In-Reply-To": "<live1@example.org>", References: "<live1@example.org>" },
        });
        await row(page, "Re: Pushed in live").waitFor({ timeout: 30_000 });
        const ungrouped = await list(page).getByRole("listitem").count();
        await page.getByRole("checkbox", { name: "Group by thread" }).check();
        await until(
          "the grouped list",
          async () => (await list(page).getByRole("listitem").count()) === ungrouped - 1,
        );
        assert.equal(await row(page, "Pushed in live").count(), 1, "the thread's newest only");
        // The open message lists its conversation; each entry opens that message.
        await openMessage(page, "Re: Pushed in live");
        const conversation = page.getByRole("list", { name: "Conversation" });
        await conversation.getByRole("link").nth(1).waitFor();
        assert.equal(await conversation.getByRole("link").count(), 2);
        await conversation.getByRole("link", { name: /arrived while the page was open/ }).click();
        await page.getByRole("heading", { name: "Pushed in live", exact: true }).waitFor();
        await page.getByRole("checkbox", { name: "Group by thread" }).uncheck();
      });

      await t.step("Settings: vacation reply round trip through JMAP", async () => {
        await page.getByRole("link", { name: "Settings" }).click();
        const form = page.getByRole("form", { name: "Vacation reply" });
        await form.getByRole("checkbox", { name: "Send a vacation reply" }).check();
        await form.getByRole("textbox", { name: "Reply subject" }).fill("Away");
        await form.getByRole("textbox", { name: "Reply text" }).fill("Back on Monday.");
        await form.getByRole("button", { name: "Save vacation reply" }).click();
        await form.getByRole("status").filter({ hasText: "saved" }).waitFor();
        const got = await page.evaluate(async () => {
          const token = sessionStorage.getItem("denomail.token");
          const s = await (await fetch("/.well-known/jmap", {
            headers: { authorization: `Bearer ${token}` },
          })).json();
          const res = await fetch(new URL(s.apiUrl).pathname, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({
              using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:vacationresponse"],
              methodCalls: [["VacationResponse/get", {
                accountId: Object.keys(s.accounts)[0],
              }, "v"]],
            }),
          });
          return (await res.json()).methodResponses[0][1].list[0];
        });
        assert.equal(got.isEnabled, true);
        assert.equal(got.subject, "Away");
        assert.equal(got.textBody, "Back on Monday.");
      });

      await t.step("Settings: encryption key upload shows the fingerprint", async () => {
        const { publicKey } = await openpgp.generateKey({
          type: "ecc",
          curve: "curve25519Legacy",
          userIDs: [{ email: "alice@example.test" }],
          format: "armored",
        });
        const key = await openpgp.readKey({ armoredKey: publicKey });
        const form = page.getByRole("form", { name: "Encryption key" });
        await form.getByRole("textbox", { name: "Public key (ASCII armored)" }).fill(publicKey);
        await form.getByRole("button", { name: "Save key" }).click();
        await form.getByRole("status").filter({ hasText: "Key saved" }).waitFor();
        const shown = (await form.locator(".fingerprint").textContent() ?? "").toLowerCase();
        assert.equal(shown.replace(/\s/g, ""), key.getFingerprint().toLowerCase());
        await form.getByRole("textbox", { name: "Public key (ASCII armored)" }).fill("not a key");
        await form.getByRole("button", { name: "Save key" }).click();
        await form.getByRole("alert").waitFor();
      });

      await t.step("Settings: spam lists saved, shown again after a reload", async () => {
        const form = page.getByRole("form", { name: "Spam filter" });
        const block = form.getByRole("textbox", { name: "Always block" });
        await block.fill("not an address");
        await form.getByRole("button", { name: "Save spam lists" }).click();
        await form.getByRole("alert").filter({ hasText: /not an address or a domain/ }).waitFor();
        await block.fill("@Spam.Example\n\nbad@junk.example");
        await form.getByRole("textbox", { name: "Always allow" }).fill("boss@example.org");
        await form.getByRole("button", { name: "Save spam lists" }).click();
        await form.getByRole("status").filter({ hasText: "Spam lists saved" }).waitFor();
        await page.reload();
        const again = page.getByRole("form", { name: "Spam filter" });
        await until(
          "the saved block list",
          async () =>
            await again.getByRole("textbox", { name: "Always block" }).inputValue() ===
              "@spam.example\nbad@junk.example",
        );
        assert.equal(
          await again.getByRole("textbox", { name: "Always allow" }).inputValue(),
          "boss@example.org",
        );
        const stored = await f!.ts.store.kvGet("plugin:spam", "lists:alice@example.test");
        assert.deepEqual(JSON.parse(stored!), {
          allow: ["boss@example.org"],
          block: ["@spam.example", "bad@junk.example"],
        });
      });

      await t.step("Settings: change password; IMAP takes the new one", async () => {
        const form = page.getByRole("form", { name: "Change password" });
        await form.getByLabel("Current password").fill("wrong-password");
        await form.getByLabel("New password").fill("a-new-long-password");
        await form.getByRole("button", { name: "Change password" }).click();
        await form.getByRole("alert").filter({ hasText: /not right/ }).waitFor();
        await form.getByLabel("Current password").fill("alice-password");
        await form.getByLabel("New password").fill("short");
        await form.getByRole("button", { name: "Change password" }).click();
        await page.waitForFunction(() =>
          !(document.querySelector("input[name=new]") as HTMLInputElement).validity.valid
        );
        await form.getByLabel("New password").fill("a-new-long-password");
        await form.getByRole("button", { name: "Change password" }).click();
        await form.getByRole("status").filter({ hasText: "Password changed" }).waitFor();
        await page.screenshot({ path: "/tmp/webmail-settings.png", fullPage: true });
        const login = `
import imaplib, sys
c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
c.login("alice@example.test", sys.argv[2])
print("ok")
c.logout()
`;
        const ok = await run("python3", ["-c", login, String(imap), "a-new-long-password"]);
        assert.equal(ok.stdout.trim(), "ok");
        const old = await run("python3", ["-c", login, String(imap), "alice-password"], {
          check: false,
        });
        assert.notEqual(old.code, 0);
        assert.equal(
          await page.getByRole("link", { name: "Set up a mail program" }).getAttribute("href"),
          "/apple/mail.mobileconfig?emailaddress=alice%40example.test",
        );
      });

      await t.step("dark mode follows the system", async () => {
        const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        await page.emulateMedia({ colorScheme: "dark" });
        assert.equal(await bg(), "rgb(22, 24, 28)");
        await page.emulateMedia({ colorScheme: "light" });
        assert.equal(await bg(), "rgb(255, 255, 255)");
      });

      await t.step("nothing from a message ran or left for another host", () => {
        assert.deepEqual(watch.dialogs, []);
        // The app's own refused calls (the 404, 403 and 400 above) and remote images the user
        // allowed are all Chromium may log.
        assert.deepEqual(watch.errors.filter((e) => !/^Failed to load resource/.test(e)), []);
        assert.ok(watch.outside.every((u) => u.startsWith("http://tracker.example.net/")));
      });
    } finally {
      await f?.browser.close();
      await f?.ts.stop();
    }
  },
});
