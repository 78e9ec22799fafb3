/**
 * The admin console in a real browser (Debian's `chromium`, headless, playwright-core by
 * role and accessible name: CONTRACT "The web side: accessible names"): an admin made with
 * the CLI (`user add EMAIL --admin`) signs in at `/admin/`, adds a domain and a user that
 * then appears in the Users table; the new user signs in to the webmail at `/`; and a
 * non-admin who opens `/admin/` sees a refusal, not data.
 *
 * Skipped, with the reason printed, when no chromium is installed. Screenshots go to
 * /tmp/admin-*.png.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { startTestServer, type TestServer } from "./harness.ts";
import { cli } from "./lib/server_process.ts";

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
  console.log("admin browser tests skipped: no chromium found (apt-get install chromium)");
}

async function signIn(page: Page, email: string, password: string) {
  await page.getByRole("textbox", { name: "Email address" }).fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

Deno.test({
  name: "admin console in chromium: admin adds a domain and a user; non-admin refused",
  ignore: !CHROMIUM,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    let ts: TestServer | null = null;
    let browser: Browser | null = null;
    try {
      ts = await startTestServer({ listeners: { http: "127.0.0.1:0" } });
      const config = join(ts.dir, "denomail.toml");
      await Deno.writeTextFile(config, `data_dir = "${ts.dir}"\n`);
      const add = await cli(
        ["user", "add", "root@example.test", "--admin", "--password-stdin", "--config", config],
        { stdin: "root-password\n" },
      );
      assert.equal(add.code, 0, add.stderr);
      await ts.addUser("plain@example.test", "plain-password");

      const host = `127.0.0.1:${ts.port("http")}`;
      browser = await chromium.launch({ executablePath: CHROMIUM!, headless: true });
      const errors: string[] = [];
      const newPage = async () => {
        const page = await (await browser!.newContext()).newPage();
        await page.setViewportSize({ width: 1280, height: 800 });
        page.on("pageerror", (e) => errors.push(e.message));
        return page;
      };

      const page = await newPage();
      await t.step("the admin signs in and sees the Admin navigation", async () => {
        const res = await page.goto(`http://${host}/admin/`);
        assert.match(res?.headers()["content-security-policy"] ?? "", /script-src 'self'/);
        await signIn(page, "root@example.test", "root-password");
        const nav = page.getByRole("navigation", { name: "Admin" });
        for (
          const name of ["Domains", "Users", "Aliases", "Queue", "Plugins", "Activity", "Server"]
        ) {
          await nav.getByRole("link", { name }).waitFor();
        }
      });

      await t.step("adds a domain", async () => {
        await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Domains" })
          .click();
        await page.getByRole("button", { name: "Add domain" }).click();
        await page.getByRole("textbox", { name: "Domain" }).fill("newco.test");
        await page.getByRole("button", { name: "Save" }).click();
        const table = page.getByRole("table", { name: "Domains" });
        await table.getByRole("cell", { name: "newco.test" }).waitFor();
        await table.getByRole("row").filter({ hasText: "newco.test" })
          .getByRole("button", { name: "Check DNS" }).click();
        // One row per record (OK / missing / wrong), with the value to set.
        await page.getByRole("table", { name: "DNS records" }).getByRole("row")
          .filter({ hasText: "newco.test." }).filter({ hasText: "MX" }).first().waitFor();
      });

      await t.step("adds a user; a refused one shows the API's message", async () => {
        await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Users" })
          .click();
        await page.getByRole("button", { name: "Add user" }).click();
        await page.getByRole("textbox", { name: "Email address" }).fill("plain@example.test");
        await page.getByLabel("Password").fill("new-password-1");
        await page.getByRole("button", { name: "Save" }).click();
        const alert = page.getByRole("alert");
        await alert.waitFor();
        assert.match(await alert.textContent() ?? "", /plain@example\.test already exists/);
        await page.getByRole("textbox", { name: "Email address" }).fill("new@newco.test");
        await page.getByLabel("Password").fill("new-password-1");
        await page.getByRole("textbox", { name: "Quota" }).fill("1G");
        await page.getByRole("button", { name: "Save" }).click();
        const row = page.getByRole("table", { name: "Users" }).getByRole("row")
          .filter({ hasText: "new@newco.test" });
        await row.waitFor();
        await row.filter({ hasText: "1.0 GiB" }).waitFor();
        assert.match(await row.textContent() ?? "", /user/);
        await page.screenshot({ path: "/tmp/admin-users.png" });
      });

      await t.step("the new user signs in to the webmail", async () => {
        const mail = await newPage();
        await mail.goto(`http://${host}/`);
        await signIn(mail, "new@newco.test", "new-password-1");
        await mail.getByRole("navigation", { name: "Mailboxes" }).getByRole("link", {
          name: /^Inbox/,
        }).waitFor();
      });

      await t.step("a non-admin opening /admin/ sees a refusal, not data", async () => {
        const other = await newPage();
        await other.goto(`http://${host}/admin/`);
        await signIn(other, "plain@example.test", "plain-password");
        const alert = other.getByRole("alert");
        await alert.waitFor();
        assert.match(await alert.textContent() ?? "", /admin/);
        assert.equal(await other.getByRole("navigation", { name: "Admin" }).count(), 0);
        assert.equal(await other.getByRole("table").count(), 0);
        await other.screenshot({ path: "/tmp/admin-refused.png" });
      });
      assert.deepEqual(errors, []);
    } finally {
      await browser?.close();
      await ts?.stop();
    }
  },
});
