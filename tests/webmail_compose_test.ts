/**
 * Writing in the webmail, in Chromium (playwright-core, by role and accessible name,
 * CONTRACT "The web side"): attachments (picked, dropped, too large, downloaded byte-exact,
 * inline cid images, the download route's headers), autosaved drafts (replaced, continued,
 * discarded, a hostile one sanitised), rich text, a second identity, forward as
 * attachment. What was sent is read back by bob with imaplib and parsed by Python.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  b64,
  BINARY,
  CHROMIUM,
  emailsIn,
  type Fixture,
  imapFetch,
  jmapCall,
  openMailbox,
  openMessage,
  partsOf,
  row,
  startFixture,
  until,
} from "./lib/webmail_browser.ts";

Deno.test({
  name: "webmail in chromium: attachments, drafts, rich text, identities, forward",
  ignore: !CHROMIUM,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    let f: Fixture | null = null;
    try {
      f = await startFixture();
      const { page, watch, imap } = f;
      await t.step("the list marks attachments; the reader shows cid images inline", async () => {
        assert.equal(
          await row(page, "Report with picture").getByLabel("Has attachments").count(),
          1,
        );
        assert.equal(await row(page, "Bulk 1").getByLabel("Has attachments").count(), 0);
        // Opening marks the message seen, which re-fetches it. Hold the inline image's download
        // until that re-fetch has started, so a reader that lets the re-fetch cancel the
        // download shows no image (the race a loaded machine once lost).
        const refetched = page.waitForResponse((r) => {
          const body = r.request().postData() ?? "";
          return body.includes("Email/set") && body.includes("$seen");
        }).then(() => page.waitForRequest((r) => (r.postData() ?? "").includes('"Email/get"')));
        await page.route("**/download/**", async (route) => {
          await refetched;
          await route.continue();
        });
        await openMessage(page, "Report with picture");
        const body = page.getByTitle("Message body").contentFrame();
        const img = body.getByRole("img", { name: "inline picture" });
        await until(
          "the inline image",
          async () => (await body.locator('img[src^="data:image/png;base64,"]').count()) === 1,
        );
        // Decoding a data: URL is asynchronous: wait for the load rather than
        // reading `complete` once (the CI run caught it mid-decode).
        await until(
          "the inline image decoded",
          () => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth === 1),
        );
        await page.screenshot({ path: "/tmp/webmail-attachments.png" });
        await page.unroute("**/download/**");
      });

      await t.step("an attachment downloads byte-exact, as a download", async () => {
        const download = page.waitForEvent("download");
        await page.getByRole("link", { name: "Download data.bin" }).click();
        const d = await download;
        assert.equal(d.suggestedFilename(), "data.bin");
        const path = await d.path();
        assert.deepEqual(await Deno.readFile(path), BINARY);
      });

      await t.step("the download route: attachment disposition, sandbox CSP", async () => {
        const got = await page.evaluate(async () => {
          const token = sessionStorage.getItem("denomail.token");
          const auth = { authorization: `Bearer ${token}` };
          const s = await (await fetch("/.well-known/jmap", { headers: auth })).json();
          const accountId = Object.keys(s.accounts)[0];
          const api = await fetch(new URL(s.apiUrl).pathname, {
            method: "POST",
            headers: { ...auth, "content-type": "application/json" },
            body: JSON.stringify({
              using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
              methodCalls: [
                ["Email/query", { accountId, filter: { subject: "Report with picture" } }, "q"],
                ["Email/get", {
                  accountId,
                  "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
                  properties: ["attachments"],
                }, "g"],
              ],
            }),
          });
          const email = (await api.json()).methodResponses[1][1].list[0];
          const part = email.attachments.find((a: { name: string }) => a.name === "data.bin");
          // Asked for as HTML: it must still come as a download, inert.
          const url = new URL(
            s.downloadUrl.replace("{accountId}", accountId).replace("{blobId}", part.blobId)
              .replace("{name}", "evil.html").replace("{type}", "text/html"),
          );
          const res = await fetch(url.pathname + url.search, { headers: auth });
          return {
            disposition: res.headers.get("content-disposition"),
            csp: res.headers.get("content-security-policy"),
            nosniff: res.headers.get("x-content-type-options"),
          };
        });
        assert.match(got.disposition ?? "", /^attachment;/);
        assert.equal(got.csp, "sandbox");
        assert.equal(got.nosniff, "nosniff");
      });

      await t.step("Reply with an attachment: bob reads it over IMAP byte-exact", async () => {
        await page.getByRole("button", { name: "Reply", exact: true }).click();
        await page.getByRole("textbox", { name: "To" }).fill("bob@example.test");
        await page.getByLabel("Attach files").setInputFiles({
          name: "payload.bin",
          mimeType: "application/octet-stream",
          buffer: Buffer.from(BINARY),
        });
        // Dropped onto the form: a second file, through a real drop event.
        await page.evaluate(() => {
          const dt = new DataTransfer();
          dt.items.add(new File(["dropped text\n"], "dropped.txt", { type: "text/plain" }));
          const form = document.querySelector("form.compose")!;
          form.dispatchEvent(
            new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }),
          );
        });
        const attachments = page.getByRole("list", { name: "Attachments" });
        await attachments.getByText("dropped.txt").waitFor();
        await attachments.getByText("payload.bin").waitFor();
        // Too large: over the server's maxSizeUpload (1 MB here), refused before upload.
        await page.getByLabel("Attach files").setInputFiles({
          name: "huge.bin",
          mimeType: "application/octet-stream",
          buffer: Buffer.alloc(1_100_000),
        });
        await attachments.getByRole("alert").filter({ hasText: /too large/ }).waitFor();
        await page.getByRole("button", { name: "Remove huge.bin" }).click();
        await until("the uploads", async () => (await page.getByText("uploading…").count()) === 0);
        await page.screenshot({ path: "/tmp/webmail-compose-attachments.png" });
        await page.getByRole("button", { name: "Send" }).click();
        await page.getByRole("textbox", { name: "To" }).waitFor({ state: "detached" });
        const raw = await imapFetch(imap, "bob@example.test", "bob-password", "Re: Report with");
        const parts = await partsOf(raw);
        const payload = parts.find((p) => p.name === "payload.bin");
        assert.ok(payload, JSON.stringify(parts.map((p) => p.name)));
        assert.equal(payload.b64, b64(BINARY));
        assert.equal(atob(parts.find((p) => p.name === "dropped.txt")!.b64), "dropped text\n");
        assert.equal(parts.some((p) => p.name === "huge.bin"), false);
      });

      await t.step("a draft is saved while writing, replaced, and destroyed by Send", async () => {
        await page.getByRole("button", { name: "Compose" }).click();
        await page.getByRole("textbox", { name: "To" }).fill("bob@example.test");
        await page.getByRole("textbox", { name: "Subject" }).fill("Draft in progress");
        await page.getByRole("textbox", { name: "Message" }).fill("first words");
        await page.getByRole("status").filter({ hasText: /Draft saved/ }).waitFor();
        await until("one draft", async () => {
          const d = await emailsIn(page, "drafts");
          return d.length === 1 && d[0].keywords.$draft === true;
        });
        await page.getByRole("textbox", { name: "Subject" }).fill("Draft in progress, more");
        await until("the draft replaced", async () => {
          const d = await emailsIn(page, "drafts");
          return d.length === 1 && d[0].subject === "Draft in progress, more";
        });
        // Leave it, find it in Drafts, and go on writing it.
        await openMailbox(page, /^Drafts/);
        await openMessage(page, "Draft in progress, more");
        await page.getByRole("button", { name: "Edit draft" }).click();
        assert.equal(
          await page.getByRole("textbox", { name: "To" }).inputValue(),
          "bob@example.test",
        );
        assert.match(
          await page.getByRole("textbox", { name: "Message" }).inputValue(),
          /first words/,
        );
        await page.getByRole("button", { name: "Send" }).click();
        await page.getByRole("textbox", { name: "To" }).waitFor({ state: "detached" });
        assert.deepEqual(await emailsIn(page, "drafts"), []);
        assert.ok(
          (await emailsIn(page, "sent")).some((e) => e.subject === "Draft in progress, more"),
        );
        await openMailbox(page, /^Inbox/);
      });

      await t.step("a hostile saved draft opens sanitised in the editor", async () => {
        const [[, q]] = await jmapCall(page, [[
          "Mailbox/query",
          { filter: { role: "drafts" } },
          "m",
        ]]);
        const drafts = (q.ids as string[])[0];
        await jmapCall(page, [["Email/set", {
          create: {
            h: {
              mailboxIds: { [drafts]: true },
              keywords: { $draft: true, $seen: true },
              subject: "Planted draft",
              htmlBody: [{ partId: "1", type: "text/html" }],
              bodyValues: {
                "1": {
                  value: `<p>planted-marker</p><img src=x onerror="alert('draft')">` +
                    `<script>alert('s')</script><a href="javascript:alert(1)">j</a>`,
                },
              },
            },
          },
        }, "s"]]);
        await openMailbox(page, /^Drafts/);
        await openMessage(page, "Planted draft");
        await page.getByRole("button", { name: "Edit draft" }).click();
        const editor = page.getByRole("textbox", { name: "Message" });
        await editor.getByText("planted-marker").waitFor();
        assert.equal(
          await editor.locator("img, script, [onerror], [href^='javascript' i]").count(),
          0,
        );
        await page.getByRole("button", { name: "Discard" }).click();
        await page.getByRole("textbox", { name: "To" }).waitFor({ state: "detached" });
        assert.deepEqual(await emailsIn(page, "drafts"), [], "Discard deletes the saved draft");
        assert.deepEqual(watch.dialogs, []);
        await openMailbox(page, /^Inbox/);
      });

      await t.step(
        "rich text: bold and a list go out as HTML with a text alternative",
        async () => {
          await page.getByRole("button", { name: "Compose" }).click();
          await page.getByRole("textbox", { name: "To" }).fill("bob@example.test");
          await page.getByRole("textbox", { name: "Subject" }).fill("Rich text mail");
          await page.getByRole("checkbox", { name: "Rich text" }).check();
          const editor = page.getByRole("textbox", { name: "Message" });
          await editor.click();
          await page.keyboard.type("plain then ");
          await page.getByRole("button", { name: "Bold" }).click();
          await page.keyboard.type("strong words");
          await page.getByRole("button", { name: "Bold" }).click();
          await page.keyboard.press("Enter");
          await page.getByRole("button", { name: "Bulleted list" }).click();
          await page.keyboard.type("item one");
          await page.keyboard.press("Enter");
          await page.keyboard.press("Enter");
          await page.keyboard.type("see site");
          for (let i = 0; i < 4; i++) await page.keyboard.press("Shift+ArrowLeft");
          await page.getByRole("button", { name: "Link", exact: true }).click();
          await page.getByLabel("Link address").fill("https://example.org/x");
          await page.getByRole("button", { name: "Add link" }).click();
          await page.screenshot({ path: "/tmp/webmail-rich.png" });
          await page.getByRole("button", { name: "Send" }).click();
          await page.getByRole("textbox", { name: "To" }).waitFor({ state: "detached" });
          const raw = await imapFetch(imap, "bob@example.test", "bob-password", "Rich text mail");
          const parts = await partsOf(raw);
          const html = atob(parts.find((p) => p.type === "text/html")!.b64);
          const text = atob(parts.find((p) => p.type === "text/plain")!.b64);
          assert.match(html, /<b>strong words<\/b>/);
          assert.match(html, /<ul><li>item one<\/li><\/ul>/);
          assert.match(text, /^- item one$/m);
          assert.match(html, /<a href="https:\/\/example\.org\/x">site<\/a>/);
          assert.match(text, /see site <https:\/\/example\.org\/x>/);
          assert.match(text, /plain then strong words/);
        },
      );

      await t.step("From: a second identity is offered and used", async () => {
        const made = await jmapCall(page, [["Identity/set", {
          create: { n: { email: "alice+news@example.test", name: "Alice News" } },
        }, "i"]]);
        assert.ok((made[0][1].created as Record<string, unknown>).n, JSON.stringify(made));
        await page.getByRole("button", { name: "Compose" }).click();
        await page.getByRole("combobox", { name: "From" }).selectOption({
          label: "Alice News <alice+news@example.test>",
        });
        await page.getByRole("textbox", { name: "To" }).fill("bob@example.test");
        await page.getByRole("textbox", { name: "Subject" }).fill("From the news identity");
        await page.getByRole("textbox", { name: "Message" }).fill("sent as a tag");
        await page.getByRole("button", { name: "Send" }).click();
        await page.getByRole("textbox", { name: "To" }).waitFor({ state: "detached" });
        const raw = await imapFetch(imap, "bob@example.test", "bob-password", "news identity");
        assert.match(raw, /^From: "?Alice News"? <alice\+news@example\.test>\r?$/m);
      });

      await t.step("forward as attachment sends the message as message/rfc822", async () => {
        await openMessage(page, "Cheap pills");
        await page.getByRole("button", { name: "Send as attachment" }).click();
        await page.getByRole("list", { name: "Attachments" }).getByText("Cheap pills.eml")
          .waitFor();
        await page.getByRole("textbox", { name: "To" }).fill("bob@example.test");
        await page.getByRole("button", { name: "Send" }).click();
        await page.getByRole("textbox", { name: "To" }).waitFor({ state: "detached" });
        const raw = await imapFetch(imap, "bob@example.test", "bob-password", "Fwd: Cheap pills");
        // RFC 2046 §5.2.1: the forwarded message travels as is (7bit), not base64.
        assert.match(raw, /Content-Type: message\/rfc822[^]*?Content-Transfer-Encoding: 7bit/i);
        assert.match(raw, /\r\nX-Spam-Score: 7\.3\r\n/);
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
