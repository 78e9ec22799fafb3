/**
 * Helpers shared by the spam, auth and greylist tests: envelope addresses, a DKIM signer
 * for test keys, and a plugin host on a temp store with a loopback DNS server.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { dkimSign } from "mailauth/lib/dkim/sign.js";
import { configFromObject } from "../core/config.ts";
import { generateDkimKey } from "../core/queue/dkim.ts";
import { pluginDnsLookup } from "../core/plugin_dns.ts";
import { PluginHost } from "../plugins/engine/host.ts";
import { openConfiguredStore } from "../app/store.ts";
import type { Store } from "../storage/mod.ts";
import type { Address } from "../plugins/sdk.ts";
import { storeKv } from "../cli/commands/spam.ts";
import { LearnBatch, messageKey, userScope } from "../plugins/builtin/spam/model.ts";
import { parseMail } from "../plugins/builtin/spam/parse.ts";
import { tokenHashes } from "../plugins/builtin/spam/score.ts";

/** "a@b" -> the Address plugins see. */
export function addr(a: string): Address {
  const at = a.lastIndexOf("@");
  return at < 0
    ? { address: a, local: a, domain: "" }
    : { address: a, local: a.slice(0, at), domain: a.slice(at + 1) };
}

/** A message as CRLF bytes from lines. */
export function eml(lines: string[]): Uint8Array {
  return new TextEncoder().encode(lines.join("\r\n") + "\r\n");
}

/** A DKIM key for `domain`: `txt` is the DNS record to publish at `selector._domainkey`. */
export function testDkimKey(domain: string, selector = "s1") {
  const k = generateDkimKey(domain, selector);
  return {
    ...k,
    txt: `v=DKIM1; k=rsa; p=${k.publicKey}`,
    name: `${selector}._domainkey.${domain}`,
  };
}

/** Prepends a DKIM-Signature made with `key`. */
export async function dkimSigned(
  message: Uint8Array,
  key: { domain: string; selector: string; privateKey: string },
): Promise<Uint8Array> {
  const r = await dkimSign(
    Buffer.from(message),
    {
      canonicalization: "relaxed/relaxed",
      signatureData: [{
        signingDomain: key.domain,
        selector: key.selector,
        privateKey: key.privateKey,
      }],
    } as unknown as Parameters<typeof dkimSign>[1],
  );
  if (!r.signatures) throw new Error(`signing failed: ${String(r.errors?.[0]?.err)}`);
  const sig = new TextEncoder().encode(r.signatures);
  const out = new Uint8Array(sig.length + message.length);
  out.set(sig);
  out.set(message, sig.length);
  return out;
}

/** A plugin host with the given plugins on a temp store; `stop` cleans up. */
export async function startPluginHost(
  plugins: Array<{ name: string; module: string; options?: Record<string, unknown> }>,
  opts: { nameserver?: string; timeoutMs?: number } = {},
): Promise<{ host: PluginHost; store: Store; dir: string; stop(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "denomail-spam-" });
  const config = configFromObject({
    data_dir: dir,
    ...(opts.nameserver ? { dns: { nameserver: opts.nameserver, timeout: "2s" } } : {}),
    plugins: plugins.map((p) => ({ timeout_ms: opts.timeoutMs ?? 10_000, ...p })),
  }, dir);
  const store = await openConfiguredStore(config);
  const host = await PluginHost.start(config, {
    store,
    dns: pluginDnsLookup(config.dns),
    strict: true,
  });
  return {
    host,
    store,
    dir,
    async stop() {
      await host.stop();
      await store.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** A spam fixture's path (tests/fixtures/spam/). */
export const spamFixture = (name: string) =>
  new URL(`./fixtures/spam/${name}`, import.meta.url).pathname;

/**
 * Some Bayes history for `user` (4 ham and 3 spam fixtures), learned through the CLI's code
 * path on `store`, so Bayes takes part in scoring (bayes_min_learned); into `scope` when
 * given (`"g"`: the global counts).
 */
export async function seedBayesHistory(
  store: Store,
  user: string,
  scope = userScope(user)!,
): Promise<void> {
  const batch = new LearnBatch(storeKv(store, "spam"));
  for (
    const [f, spam] of [
      ["ham/02.eml", false],
      ["ham/03.eml", false],
      ["ham/04.eml", false],
      ["ham/05.eml", false],
      ["spam/02.eml", true],
      ["spam/03.eml", true],
      ["spam/04.eml", true],
    ] as const
  ) {
    const raw = Deno.readFileSync(spamFixture(f));
    await batch.add(scope, await messageKey(raw), tokenHashes(parseMail(raw)), spam);
  }
  await batch.flush();
}

/** The messages of `user`'s mailbox `name` as text, oldest first ([] when it does not exist). */
export async function mailboxTexts(store: Store, user: string, name: string): Promise<string[]> {
  const account = await store.getAccount(user);
  const box = account ? await store.getMailbox(account.id, name) : null;
  if (!box) return [];
  const out: string[] = [];
  for (const m of await store.listMessages(box.id)) {
    out.push(new TextDecoder().decode(await store.readBlob(m.blobId)));
  }
  return out;
}

/** Polls `fn` until it gives a value (a fire-and-forget effect has landed); no fixed sleeps. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | null>,
  ms = 10_000,
): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}
