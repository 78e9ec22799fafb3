/**
 * Senders whose remote images the user always wants shown, kept in this browser's
 * localStorage (a preference, not a secret; lower-cased addresses only).
 *
 * @module
 */
/// <reference lib="dom" />
const KEY = "denomail.remote-images";

function load(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? "[]");
    return Array.isArray(v) ? v.filter((x) => typeof x === "string") : [];
  } catch {
    return [];
  }
}

export function trustsSender(address: string | undefined): boolean {
  return !!address && load().includes(address.toLowerCase());
}

export function trustSender(address: string): void {
  const list = load();
  const a = address.toLowerCase();
  if (!list.includes(a)) localStorage.setItem(KEY, JSON.stringify([...list, a].slice(-1000)));
}
