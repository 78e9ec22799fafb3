/**
 * Where a user's Sieve scripts live: the sieve plugin's own kv area (namespace
 * `plugin:<name>`), keyed by account, so the plugin needs no host service beyond `ctx.kv`.
 * The CLI writes the same keys through the store.
 *
 * Keys: `script:<account>:<name>` the source; `names:<account>` a JSON list of names;
 * `active:<account>` JSON `{ name, source }` of the active script, so a delivery reads one
 * key. Invariant: a stored script compiled when it was stored (put refuses one that does not).
 *
 * @module
 */
import { compile } from "./compile.ts";

/** The part of the SDK's PluginKv these functions use. */
export interface ScriptKv {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/** The most scripts one account may keep. */
export const MAX_SCRIPTS = 32;

export const activeKey = (account: string) => `active:${account.toLowerCase()}`;
const scriptKey = (account: string, name: string) => `script:${account.toLowerCase()}:${name}`;
const namesKey = (account: string) => `names:${account.toLowerCase()}`;

/** RFC 5804 §1.6: a script name is 1-128 characters without controls. */
export function checkScriptName(name: string): void {
  // deno-lint-ignore no-control-regex
  if (!/^[^\x00-\x1f\x7f\u0080-\u009f\u2028\u2029]{1,128}$/.test(name)) {
    throw new Error(`bad script name "${name.slice(0, 40)}"`);
  }
}

async function names(kv: ScriptKv, account: string): Promise<string[]> {
  const raw = await kv.get(namesKey(account));
  return raw ? JSON.parse(raw) as string[] : [];
}

/** Stores (or replaces) a script after compiling it; throws SieveError when it does not. */
export async function putScript(
  kv: ScriptKv,
  account: string,
  name: string,
  source: string,
): Promise<void> {
  checkScriptName(name);
  compile(source);
  const list = await names(kv, account);
  if (!list.includes(name)) {
    if (list.length >= MAX_SCRIPTS) throw new Error(`at most ${MAX_SCRIPTS} scripts per account`);
    list.push(name);
  }
  await kv.set(scriptKey(account, name), source);
  await kv.set(namesKey(account), JSON.stringify(list));
  const active = await activeScript(kv, account);
  if (active?.name === name) await kv.set(activeKey(account), JSON.stringify({ name, source }));
}

/** Makes a stored script the active one. Throws when there is no such script. */
export async function activateScript(kv: ScriptKv, account: string, name: string): Promise<void> {
  const source = await kv.get(scriptKey(account, name));
  if (source === null) throw new Error(`no script "${name}" for ${account}`);
  await kv.set(activeKey(account), JSON.stringify({ name, source }));
}

/** The names of an account's scripts, and which is active. */
export async function listScripts(
  kv: ScriptKv,
  account: string,
): Promise<{ names: string[]; active: string | null }> {
  return {
    names: await names(kv, account),
    active: (await activeScript(kv, account))?.name ?? null,
  };
}

/** The active script, or null. */
export async function activeScript(
  kv: Pick<ScriptKv, "get">,
  account: string,
): Promise<{ name: string; source: string } | null> {
  const raw = await kv.get(activeKey(account));
  return raw ? JSON.parse(raw) as { name: string; source: string } : null;
}
