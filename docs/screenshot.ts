/**
 * Retakes docs/webmail.png (the README's screenshot) and, for checking by eye, phone-sized
 * dark-mode shots in /tmp: `deno run -A docs/screenshot.ts`. Needs chromium.
 */
import { chromium } from "playwright-core";
import { startTestServer } from "../tests/harness.ts";
import { CHROMIUM, PIXEL, sendMail, signIn } from "../tests/lib/webmail_browser.ts";
const ts = await startTestServer({ listeners: { http: "127.0.0.1:0" } });
await ts.addUser("alice@example.test", "alice-password");
const smtp = ts.port("smtp");
const mails = [
  [
    "Bob Martin <bob@example.org>",
    "Lunch on Friday?",
    "Hi Alice,\n\nare you free for lunch on Friday? The new place on Main Street opens this week.\n\nBob",
  ],
  [
    "Carol Jones <carol@example.org>",
    "Quarterly report draft",
    "Hello,\n\nattached is the draft of the quarterly report. Comments welcome before Thursday.\n\nCarol",
  ],
  ["Dev Team <dev@example.org>", "Release 2.4 is out", "The release notes are on the wiki."],
  ["Mum <mum@example.org>", "Photos from the weekend", "Here they are!"],
];
for (const [from, subject, text] of mails) {
  await sendMail(smtp, {
    from,
    to: "alice@example.test",
    subject,
    text,
    ...(subject.startsWith("Quarterly")
      ? { attachment: { name: "report-q3.pdf", type: "application/pdf", bytes: PIXEL } }
      : {}),
  });
}
const host = `127.0.0.1:${ts.port("http")}`;
const browser = await chromium.launch({ executablePath: CHROMIUM!, headless: true });
for (
  const [name, opts] of [["webmail", { viewport: { width: 1100, height: 560 } }], ["phone-dark", {
    viewport: { width: 390, height: 760 },
    colorScheme: "dark",
  }]] as const
) {
  const c = await browser.newContext(opts as never);
  const page = await c.newPage();
  await page.goto(`http://${host}/`);
  await signIn(page, "alice@example.test", "alice-password");
  await page.getByRole("list", { name: "Messages" }).getByRole("link", {
    name: "Quarterly report draft",
  }).click();
  await page.getByRole("heading", { name: "Quarterly report draft" }).waitFor();
  await page.getByRole("link", { name: "Download report-q3.pdf" }).waitFor();
  await page.screenshot({
    path: name === "webmail"
      ? new URL("./webmail.png", import.meta.url).pathname
      : `/tmp/shot-${name}.png`,
  });
  if (name === "phone-dark") {
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("form", { name: "Change password" }).waitFor();
    await page.screenshot({ path: `/tmp/shot-phone-settings.png` });
    await page.getByRole("navigation", { name: "Mailboxes" }).getByRole("link", { name: /^Inbox/ })
      .click();
    await page.getByRole("list", { name: "Messages" }).waitFor();
    await page.screenshot({ path: `/tmp/shot-phone-list.png` });
  }
  await c.close();
}
await browser.close();
await ts.stop();
