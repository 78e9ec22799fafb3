/** Display helpers for addresses and dates. */
import type { EmailAddress } from "./jmap.ts";

export function who(list: EmailAddress[] | null): string {
  if (!list || list.length === 0) return "(no sender)";
  return list.map((a) => a.name || a.email).join(", ");
}

export function fullAddresses(list: EmailAddress[] | null): string {
  return (list ?? []).map((a) => (a.name ? `${a.name} <${a.email}>` : a.email)).join(", ");
}

/** Time today, else the date. */
export function shortDate(iso: string): string {
  const d = new Date(iso);
  const now = new Date();
  return d.toDateString() === now.toDateString()
    ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleDateString([], { year: "numeric", month: "short", day: "numeric" });
}

/** 1536 -> "1.5 KB" (1024-based, as mail programs show sizes). */
export function byteSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}
