/**
 * `deno task bench web`: the webmail in headless Chromium on a 100,000-message mailbox
 * (issue 16, Performance). The mailbox is `bench imap`'s (`buildBig`, through the Store);
 * the server runs as its own process with the http listener; the page is signed in by
 * putting a bearer token in sessionStorage before it loads (a password would time argon2).
 *
 * Figures (median and slowest of `--runs`):
 * - cold load: a fresh browser context (empty cache) navigates to the big mailbox; from
 *   navigation start to the first 50 rows drawn (the rows in the DOM, then one frame). Also
 *   the part after the HTML page arrived (scripts, JMAP calls, drawing): before it is the
 *   browser's own start of a new context and renderer.
 * - opening a message: from the click on a row to its subject heading and body frame drawn.
 * - the app's JavaScript and CSS, gzipped (what a browser downloads).
 * The first page load (esbuild builds the bundle once per source change) is not counted.
 *
 * Options: --messages N (100000), --runs N (10), --trace (each load's requests, timed).
 *
 * @module
 */
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { hashApiToken, newApiToken } from "../core/auth/api_token.ts";
import { openSqliteStore } from "../storage/sqlite/store.ts";
import { configToml, startServerProcess } from "../tests/lib/server_process.ts";
import { CHROMIUM } from "../tests/lib/webmail_browser.ts";
import { buildBig } from "./imap.ts";
import { flag } from "./smtp.ts";
import { printMarkdownTable } from "./table.ts";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchWeb(args: string[]): Promise<void> {
  if (!CHROMIUM) throw new Error("bench web needs chromium (apt-get install chromium)");
  const total = Number(flag(args, "--messages") ?? 100_000);
  const runs = Number(flag(args, "--runs") ?? 10);
  const trace = args.includes("--trace");
  const dir = await Deno.makeTempDir({ prefix: "bench-web-" });
  const configPath = join(dir, "denomail.toml");
  await Deno.writeTextFile(configPath, configToml(`${dir}/data`, ["http"]));
  const dbPath = join(dir, "data", "denomail.db");
  await Deno.mkdir(join(dir, "data"), { recursive: true });
  console.log(`web: building a ${total}-message mailbox through the store ...`);
  await buildBig(dbPath, total);
  const token = newApiToken();
  const store = await openSqliteStore(dbPath);
  const account = (await store.getAccount("big@example.test"))!;
  await store.createApiToken(account.id, "bench", hashApiToken(token));
  await store.close();
  const proc = await startServerProcess(configPath, ["http"], 120_000);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  try {
    const base = `http://127.0.0.1:${proc.ports.http}`;
    const api = await fetch(`${base}/jmap/api/`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
        methodCalls: [[
          "Mailbox/query",
          { accountId: `a${account.id}`, filter: { name: "Big" } },
          "0",
        ]],
      }),
    });
    const big = (await api.json()).methodResponses[0][1].ids[0];
    const url = `${base}/#/m/${big}`;
    const context = async () => {
      const c = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await c.addInitScript((t) => sessionStorage.setItem("denomail.token", t), token);
      return c;
    };
    // Warm-up: the server builds the bundle on its first request.
    {
      const c = await context();
      const p = await c.newPage();
      await p.goto(url);
      await p.waitForFunction(
        () => document.querySelectorAll("ul.messages li").length >= 50,
        null,
        {
          timeout: 300_000,
        },
      );
      await c.close();
    }
    const load: number[] = [];
    const open: number[] = [];
    /** From the page's HTML received to the rows drawn: the app's own share of the load. */
    const app: number[] = [];
    for (let i = 0; i < runs; i++) {
      const c = await context();
      const page = await c.newPage();
      await page.goto(url);
      await page.waitForFunction(() => document.querySelectorAll("ul.messages li").length >= 50);
      const [drawn, pageIn] = await page.evaluate(() =>
        new Promise<number[]>((r) =>
          requestAnimationFrame(() => {
            const nav = performance.getEntriesByType(
              "navigation",
            )[0] as PerformanceNavigationTiming;
            r([performance.now(), nav.responseEnd]);
          })
        )
      );
      load.push(drawn);
      app.push(drawn - pageIn);
      if (trace) {
        const entries = await page.evaluate(() =>
          performance.getEntriesByType("resource").map((e) =>
            `  ${e.name.replace(/^https?:\/\/[^/]+/, "")} ${e.startTime.toFixed(0)}-${
              (e as PerformanceResourceTiming).responseEnd.toFixed(0)
            }`
          )
        );
        console.log(`load ${load.at(-1)!.toFixed(0)} ms:\n${entries.join("\n")}`);
      }
      // Open the i-th row: click to heading and body frame drawn, timed in the page.
      open.push(
        await page.evaluate(async (n) => {
          const a = document.querySelectorAll<HTMLAnchorElement>("ul.messages li a")[n];
          const subject = a.querySelector(".subject")!.textContent;
          const t0 = performance.now();
          a.click();
          for (;;) {
            await new Promise((r) => requestAnimationFrame(r));
            const h = document.getElementById("message-subject");
            const frame = document.querySelector("iframe.body") as HTMLIFrameElement | null;
            if (h?.textContent === subject && frame?.srcdoc) return performance.now() - t0;
          }
        }, 1 + i % 40),
      );
      await c.close();
    }
    const page = await (await context()).newPage();
    const res = await page.goto(`${base}/`);
    const html = await res!.text();
    let js = 0, css = 0, jsRaw = 0;
    for (const [, path] of html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)) {
      const body = new Uint8Array(await (await fetch(`${base}${path}`)).arrayBuffer());
      const gz = gzipSync(body).length;
      if (path.endsWith(".js")) {
        js += gz;
        jsRaw += body.length;
      } else css += gz;
    }
    const ms = (xs: number[]) =>
      `${median(xs).toFixed(0)} ms (slowest ${Math.max(...xs).toFixed(0)})`;
    printMarkdownTable(["what", "measured", "target", "met"], [
      ["cold load to 50 rows drawn", ms(load), "< 1000 ms", median(load) < 1000 ? "yes" : "NO"],
      ["  of which after the page's HTML arrived", ms(app), "-", "-"],
      ["open a message", ms(open), "< 150 ms", median(open) < 150 ? "yes" : "NO"],
      [
        "app JavaScript, gzipped",
        `${(js / 1024).toFixed(1)} KB (${(jsRaw / 1024).toFixed(0)} KB raw)`,
        "< 200 KB",
        js < 200 * 1024 ? "yes" : "NO",
      ],
      ["app CSS, gzipped", `${(css / 1024).toFixed(1)} KB`, "-", "-"],
    ]);
    console.log(`(${total} messages, ${runs} runs, shared machine: figures are indicative)`);
  } finally {
    await browser.close();
    await proc.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
