/**
 * The admin console's later pages in Chromium (Debian `chromium`, playwright-core, by role
 * and accessible name): "Check DNS" against a loopback DNS server (rows OK / missing /
 * wrong with the value to set); a one-time sign-up link made in the console, opened by the
 * new user who sets a password, then logs in over IMAP (python imaplib); reset password
 * (typed twice), admin role, remove (after a confirmation), OpenPGP key status; aliases and
 * catch-alls added and removed; a failed IMAP login and an unknown recipient showing under
 * Activity (with charts, and a search by address); plugins and Reload; a bounce in the
 * queue and "Flush queue". Saves a screenshot of the Activity page to
 * `docs/admin-console.png` when DENOMAIL_SCREENSHOT=1 (the README's picture), else to /tmp.
 *
 * Skipped, with the reason printed, when no chromium is installed.
 */
import assert from "node:assert/strict";
import * as openpgp from "openpgp";
import { type Browser, chromium, type Page } from "playwright-core";
import { python, startTestServer, type TestServer } from "./harness.ts";
import { startDnsServer, type TestDnsServer } from "./lib/dns_server.ts";
import { smtpDialog } from "./smtp_helpers.ts";

const CHROMIUM = [
  Deno.env.get("CHROMIUM_PATH"),
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
].find((p) => {
  try {
    return !!p && Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
if (!CHROMIUM) {
  console.log("admin console tests skipped: no chromium found (apt-get install chromium)");
}

async function signIn(page: Page, email: string, password: string) {
  await page.getByRole("textbox", { name: "Email address" }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function imapLogin(port: number, user: string, pass: string): Promise<string> {
  const r = await python(
    `
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
try:
    m.login(sys.argv[2], sys.argv[3])
    print("ok")
    m.logout()
except imaplib.IMAP4.error as e:
    print("refused", e)
`,
    [String(port), user, pass],
  );
  return r.stdout.trim();
}

Deno.test({
  name: "admin console in chromium: DNS check, sign-up link, users, aliases, activity, plugins",
  ignore: !CHROMIUM,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    let ts: TestServer | null = null;
    let dns: TestDnsServer | null = null;
    let browser: Browser | null = null;
    try {
      dns = await startDnsServer({
        "example.test": { MX: [{ preference: 10, exchange: "mail.example.test" }] },
        "_dmarc.example.test": { TXT: ["v=DMARC1; p=none"] },
      });
      ts = await startTestServer({
        listeners: { http: "127.0.0.1:0" },
        dns: { nameserver: dns.nameserver },
      });
      await ts.server.queue.stop();
      await ts.addUser("root@example.test", "root-password");
      await ts.store.setAdmin("root@example.test", true);
      await ts.addUser("bob@example.test", "bob-password");
      const { publicKey } = await openpgp.generateKey({
        type: "ecc",
        curve: "curve25519Legacy" as never,
        userIDs: [{ email: "bob@example.test" }],
        format: "armored",
      });
      await ts.store.kvSet("plugin:encrypt", "key:bob@example.test", publicKey);
      const fingerprint = (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint()
        .toUpperCase();

      const host = `127.0.0.1:${ts.port("http")}`;
      browser = await chromium.launch({ executablePath: CHROMIUM!, headless: true });
      const errors: string[] = [];
      const newPage = async () => {
        const page = await (await browser!.newContext()).newPage();
        await page.setViewportSize({ width: 1200, height: 760 });
        page.on("pageerror", (e) => errors.push(e.message));
        // Confirmations (remove user, remove alias) are answered yes.
        page.on("dialog", (d) => d.accept());
        return page;
      };
      const page = await newPage();
      const nav = (name: string) =>
        page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name }).click();
      await page.goto(`http://${host}/admin/`);
      await signIn(page, "root@example.test", "root-password");

      await t.step("Check DNS: one row per record, OK / missing / wrong", async () => {
        await nav("Domains");
        await page.getByRole("table", { name: "Domains" }).getByRole("row")
          .filter({ hasText: "example.test" }).getByRole("button", { name: "Check DNS" }).click();
        const table = page.getByRole("table", { name: "DNS records" });
        const row = (name: string, type: string) =>
          table.getByRole("row").filter({
            has: page.getByRole("cell", { name, exact: true }),
          }).filter({ has: page.getByRole("cell", { name: type, exact: true }) });
        await row("example.test.", "MX").getByRole("cell", { name: "OK", exact: true }).waitFor();
        const dmarc = row("_dmarc.example.test.", "TXT");
        await dmarc.getByRole("cell", { name: "wrong", exact: true }).waitFor();
        assert.match(await dmarc.textContent() ?? "", /p=quarantine; rua=mailto:postmaster@/);
        assert.match(await dmarc.textContent() ?? "", /v=DMARC1; p=none/);
        await row("_imaps._tcp.example.test.", "SRV")
          .getByRole("cell", { name: "missing", exact: true }).waitFor();
        await row("_25._tcp.mail.example.test.", "TLSA").waitFor();
        assert.match(await page.getByRole("status").first().textContent() ?? "", /need a change/);
      });

      await t.step("a sign-up link: the user sets a password, then logs in over IMAP", async () => {
        await nav("Users");
        await page.getByRole("button", { name: "Invite user" }).click();
        await page.getByRole("textbox", { name: "Address to invite" }).fill("carol@example.test");
        await page.getByRole("button", { name: "Save" }).click();
        const link = page.getByRole("textbox", { name: "Sign-up link" });
        await link.waitFor();
        const url = await link.inputValue();
        assert.match(url, new RegExp(`^http://${host.replaceAll(".", "\\.")}/signup/dmt_`));

        const user = await newPage();
        await user.goto(url);
        await user.getByRole("heading", { name: "Choose a password" }).waitFor();
        await user.getByText("For carol@example.test").waitFor();
        await user.getByLabel("New password").fill("carol-password-1");
        await user.getByLabel("Confirm password").fill("carol-password-2");
        await user.getByRole("button", { name: "Create account" }).click();
        assert.match(
          await user.getByRole("alert").textContent() ?? "",
          /passwords are not the same/,
        );
        await user.getByLabel("Confirm password").fill("carol-password-1");
        await user.getByRole("button", { name: "Create account" }).click();
        await user.getByRole("status").filter({ hasText: "is ready" }).waitFor();
        assert.equal(
          await imapLogin(ts!.port("imap"), "carol@example.test", "carol-password-1"),
          "ok",
        );
        // Used once: opening it again says so.
        await user.goto(url);
        assert.match(await user.getByRole("alert").textContent() ?? "", /already used or expired/);
      });

      await t.step("users: key status, reset password (twice), role, remove", async () => {
        await nav("Domains");
        await nav("Users");
        const users = page.getByRole("table", { name: "Users" });
        const bob = users.getByRole("row").filter({ hasText: "bob@example.test" });
        await bob.waitFor();
        assert.ok(
          (await bob.textContent() ?? "").replaceAll(" ", "").includes(fingerprint),
          "bob's key fingerprint is shown",
        );
        await users.getByRole("row").filter({ hasText: "carol@example.test" }).waitFor();

        // (No aria-label naming "password" on the button: CONTRACT's Password field is found by label.)
        await bob.getByRole("button", { name: "Reset password" }).click();
        const form = page.getByRole("form", { name: "New password for bob@example.test" });
        await form.getByLabel("New password").fill("bob-new-password");
        await form.getByLabel("Confirm password").fill("bob-new-password");
        await form.getByRole("button", { name: "Save password" }).click();
        await form.getByRole("status").waitFor();
        await form.getByRole("button", { name: "Close" }).click();
        assert.equal(
          await imapLogin(ts!.port("imap"), "bob@example.test", "bob-new-password"),
          "ok",
        );

        await page.getByRole("button", { name: "Set the quota of bob@example.test" }).click();
        const quota = page.getByRole("form", { name: "Quota of bob@example.test" });
        await quota.getByRole("textbox", { name: "New quota" }).fill("lots");
        await quota.getByRole("button", { name: "Save quota" }).click();
        assert.match(await quota.getByRole("alert").textContent() ?? "", /SIZE must be a number/);
        await quota.getByRole("textbox", { name: "New quota" }).fill("2G");
        await quota.getByRole("button", { name: "Save quota" }).click();
        await bob.filter({ hasText: "2.0 GiB" }).waitFor();

        await page.getByRole("button", { name: "Make bob@example.test an admin" }).click();
        await bob.getByRole("cell", { name: "admin", exact: true }).waitFor();
        assert.equal(
          await ts!.store.isAdmin((await ts!.store.getAccount("bob@example.test"))!.id),
          true,
        );
        await page.getByRole("button", { name: "Take the admin role from bob@example.test" })
          .click();
        await bob.getByRole("cell", { name: "user", exact: true }).waitFor();

        await page.getByRole("button", { name: "Remove carol@example.test" }).click();
        await users.getByRole("row").filter({ hasText: "carol@example.test" }).waitFor({
          state: "detached",
        });
        assert.equal(await ts!.store.getAccount("carol@example.test"), null);
        await page.screenshot({
          path: Deno.env.get("DENOMAIL_SCREENSHOT")
            ? "docs/admin-console.png"
            : "/tmp/admin-console.png",
        });
      });

      await t.step("aliases: add an alias and a catch-all, remove one", async () => {
        await nav("Aliases");
        for (
          const [source, targets] of [["sales@example.test", "bob@example.test"], [
            "@example.test",
            "root@example.test",
          ]]
        ) {
          await page.getByRole("button", { name: "Add alias" }).click();
          await page.getByRole("textbox", { name: "Alias" }).fill(source);
          await page.getByRole("textbox", { name: "Delivers to" }).fill(targets);
          await page.getByRole("button", { name: "Save" }).click();
          // The row by its own Remove button: a text filter for "@example.test" also
          // matches the sales@example.test row (a strict-mode violation once both are in).
          await page.getByRole("table", { name: "Aliases" })
            .getByRole("button", { name: `Remove ${source}`, exact: true }).waitFor();
        }
        await page.getByRole("table", { name: "Aliases" }).getByText("(catch-all)").waitFor();
        // The CLI's validation and words.
        await page.getByRole("button", { name: "Add alias" }).click();
        await page.getByRole("textbox", { name: "Alias" }).fill("x@example.test");
        await page.getByRole("textbox", { name: "Delivers to" }).fill("not an address");
        await page.getByRole("button", { name: "Save" }).click();
        assert.match(await page.getByRole("alert").textContent() ?? "", /is not a valid address/);
        await page.getByRole("button", { name: "Cancel" }).click();
        await page.getByRole("button", { name: "Remove sales@example.test" }).click();
        await page.getByRole("table", { name: "Aliases" })
          .getByRole("button", { name: "Remove sales@example.test", exact: true })
          .waitFor({ state: "detached" });
        assert.deepEqual((await ts!.store.listAliases()).map((a) => a.source), ["@example.test"]);
      });

      await t.step("activity: a failed IMAP login and an unknown recipient show up", async () => {
        assert.match(
          await imapLogin(ts!.port("imap"), "bob@example.test", "wrong-password"),
          /^refused/,
        );
        // The catch-all would take nobody@example.test: a domain without one.
        await ts!.store.addDomain("other.test");
        const replies = await smtpDialog(ts!.port("smtp"), [
          ["ehlo"],
          ["cmd", "MAIL FROM:<sender@elsewhere.test>"],
          ["cmd", "RCPT TO:<nobody@other.test>"],
          ["cmd", "QUIT"],
        ]);
        assert.equal(replies[3][0], 550);
        await nav("Activity");
        const table = page.getByRole("table", { name: "Activity" });
        await table.getByRole("row").filter({ hasText: "failed login" })
          .filter({ hasText: "bob@example.test" }).first().waitFor();
        await table.getByRole("row").filter({ hasText: "unknown recipient" })
          .filter({ hasText: "nobody@other.test" }).waitFor();
        await page.getByRole("img", { name: /^Messages per hour/ }).waitFor();
        const refusals = page.getByRole("img", { name: /^Spam and refusals per hour/ });
        assert.match(await refusals.getAttribute("aria-label") ?? "", /refused [1-9]/);
        assert.match(await refusals.getAttribute("aria-label") ?? "", /failed logins [1-9]/);
        // Search by address.
        const search = page.getByRole("search", { name: "Search activity" });
        await search.getByRole("textbox", { name: "Address", exact: true }).fill("nobody@other");
        await search.getByRole("button", { name: "Search" }).click();
        // first(): every failed-login row gone (one of several would be a strict violation).
        await table.getByRole("row").filter({ hasText: "failed login" }).first().waitFor({
          state: "detached",
        });
        assert.equal(
          await table.getByRole("row").filter({ hasText: "nobody@other.test" }).count(),
          1,
        );
        await page.getByRole("table", { name: "Admin changes" }).getByRole("row")
          .filter({ hasText: "alias.remove" }).waitFor();
        await search.getByRole("textbox", { name: "Address", exact: true }).fill("");
        await search.getByRole("button", { name: "Search" }).click();
        await table.getByRole("row").filter({ hasText: "failed login" }).first().waitFor();
        await page.screenshot({
          path: Deno.env.get("DENOMAIL_SCREENSHOT")
            ? "docs/admin-console.png"
            : "/tmp/admin-activity.png",
        });
      });

      await t.step("plugins and Reload; a bounce in the queue, Flush queue", async () => {
        await nav("Plugins");
        await page.getByRole("table", { name: "Plugins" }).waitFor();
        await page.getByRole("button", { name: "Reload" }).click();
        // This server was not started by `serve`: the API's refusal is shown.
        assert.match(await page.getByRole("alert").textContent() ?? "", /not started by serve/);

        const e = await ts!.store.enqueue(new TextEncoder().encode("Subject: b\r\n\r\nx\r\n"), {
          sender: "",
          recipients: [{ address: "far@remote.test", status: "pending" }],
          nextAttemptAt: Date.now() + 3_600_000,
          meta: { bounceOf: 41, action: "failed" },
        });
        await nav("Queue");
        const row = page.getByRole("table", { name: "Queue" }).getByRole("row")
          .filter({ hasText: "far@remote.test" });
        await row.filter({ hasText: "bounce of 41" }).waitFor();
        await page.getByRole("table", { name: "Bounces sent" }).waitFor();
        /** Waits until the entry is due (its next attempt moved to about now). */
        const due = async (since: number) => {
          const deadline = Date.now() + 30_000;
          while ((await ts!.store.getQueueEntry(e.id))!.nextAttemptAt > since + 60_000) {
            assert.ok(Date.now() < deadline, "the change reached the queue");
            await new Promise((r) => setTimeout(r, 50));
          }
        };
        await row.getByRole("button", { name: "Retry" }).click();
        await due(Date.now());
        await ts!.store.updateQueueEntry(e.id, { nextAttemptAt: Date.now() + 3_600_000 });
        const before = Date.now();
        await page.getByRole("button", { name: "Flush queue" }).click();
        await due(before);
      });
      assert.deepEqual(errors, []);
    } finally {
      await browser?.close();
      await ts?.stop();
      await dns?.close();
    }
  },
});
