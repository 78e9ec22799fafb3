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
/** The largest script source, in UTF-8 octets (ManageSieve HAVESPACE and PUTSCRIPT). */
export const MAX_SCRIPT_BYTES = 256 * 1024;

/** A refusal ManageSieve names with a response code (RFC 5804 §1.3). */
export class ScriptStoreError extends Error {
  constructor(
    message: string,
    readonly code:
      | "QUOTA/MAXSCRIPTS"
      | "QUOTA/MAXSIZE"
      | "NONEXISTENT"
      | "ACTIVE"
      | "ALREADYEXISTS",
  ) {
    super(message);
    this.name = "ScriptStoreError";
  }
}

/** Throws when a script of `bytes` octets named `name` would not fit (RFC 5804 §2.5). */
export async function checkSpace(
  kv: Pick<ScriptKv, "get">,
  account: string,
  name: string,
  bytes: number,
): Promise<void> {
  if (bytes > MAX_SCRIPT_BYTES) {
    throw new ScriptStoreError(`scripts are at most ${MAX_SCRIPT_BYTES} octets`, "QUOTA/MAXSIZE");
  }
  const list = await names(kv, account);
  if (!list.includes(name) && list.length >= MAX_SCRIPTS) {
    throw new ScriptStoreError(`at most ${MAX_SCRIPTS} scripts per account`, "QUOTA/MAXSCRIPTS");
  }
}

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

async function names(kv: Pick<ScriptKv, "get">, account: string): Promise<string[]> {
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
  await checkSpace(kv, account, name, new TextEncoder().encode(source).length);
  const list = await names(kv, account);
  if (!list.includes(name)) list.push(name);
  await kv.set(scriptKey(account, name), source);
  await kv.set(namesKey(account), JSON.stringify(list));
  const active = await activeScript(kv, account);
  if (active?.name === name) await kv.set(activeKey(account), JSON.stringify({ name, source }));
}

/** Makes a stored script the active one. Throws when there is no such script. */
export async function activateScript(kv: ScriptKv, account: string, name: string): Promise<void> {
  const source = await kv.get(scriptKey(account, name));
  if (source === null) {
    throw new ScriptStoreError(`no script "${name}" for ${account}`, "NONEXISTENT");
  }
  await kv.set(activeKey(account), JSON.stringify({ name, source }));
}

/** RFC 5804 §2.8: no script is active any more. */
export async function deactivateScripts(kv: ScriptKv, account: string): Promise<void> {
  await kv.delete(activeKey(account));
}

/** A stored script's source, or null. */
export function getScript(
  kv: Pick<ScriptKv, "get">,
  account: string,
  name: string,
): Promise<string | null> {
  return kv.get(scriptKey(account, name));
}

/** RFC 5804 §2.10: deletes a script; the active one is refused (ACTIVE). */
export async function deleteScript(kv: ScriptKv, account: string, name: string): Promise<void> {
  const list = await names(kv, account);
  if (!list.includes(name)) throw new ScriptStoreError(`no script "${name}"`, "NONEXISTENT");
  if ((await activeScript(kv, account))?.name === name) {
    throw new ScriptStoreError("the active script cannot be deleted", "ACTIVE");
  }
  await kv.delete(scriptKey(account, name));
  await kv.set(namesKey(account), JSON.stringify(list.filter((n) => n !== name)));
}

/** RFC 5804 §2.11.1: renames a script; the active one stays active under its new name. */
export async function renameScript(
  kv: ScriptKv,
  account: string,
  from: string,
  to: string,
): Promise<void> {
  checkScriptName(to);
  const list = await names(kv, account);
  const source = await kv.get(scriptKey(account, from));
  if (!list.includes(from) || source === null) {
    throw new ScriptStoreError(`no script "${from}"`, "NONEXISTENT");
  }
  if (list.includes(to)) throw new ScriptStoreError(`script "${to}" exists`, "ALREADYEXISTS");
  await kv.set(scriptKey(account, to), source);
  await kv.set(namesKey(account), JSON.stringify(list.map((n) => n === from ? to : n)));
  if ((await activeScript(kv, account))?.name === from) {
    await kv.set(activeKey(account), JSON.stringify({ name: to, source }));
  }
  await kv.delete(scriptKey(account, from));
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
