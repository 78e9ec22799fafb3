/**
 * The arithmetic of an RFC 5322 §3.3 date-time, shared by the readers that find its parts
 * with their own leniency (IMAP SORT's sent date, Sieve's `date` test): month names, the
 * obsolete 2- and 3-digit years and named zones of §4.3, range checks, the UTC instant.
 *
 * @module
 */

/** Month names as dates write them, lower-case, January first. */
export const MONTHS = [
  "jan",
  "feb",
  "mar",
  "apr",
  "may",
  "jun",
  "jul",
  "aug",
  "sep",
  "oct",
  "nov",
  "dec",
];

/** RFC 5322 §4.3 obsolete zone names, in hours east of UTC. */
const ZONES: Record<string, number> = {
  UT: 0,
  GMT: 0,
  Z: 0,
  EST: -5,
  EDT: -4,
  CST: -6,
  CDT: -5,
  MST: -7,
  MDT: -6,
  PST: -8,
  PDT: -7,
};

/** The textual parts of a date-time, as a reader's pattern captured them. */
export interface DateTimeParts {
  day: string;
  /** Month name (at least its first three letters). */
  month: string;
  year: string;
  hour: string;
  minute: string;
  second?: string;
  /** "+hhmm" / "-hhmm" or a zone name; absent or unknown counts as UTC ("-0000"). */
  zone?: string;
}

/** The instant (epoch ms) and the zone written (minutes east of UTC), or null when invalid. */
export function dateFromParts(p: DateTimeParts): { ms: number; zone: number } | null {
  const month = MONTHS.indexOf(p.month.slice(0, 3).toLowerCase());
  if (month < 0) return null;
  let year = Number(p.year);
  if (p.year.length === 2) year += year < 50 ? 2000 : 1900; // RFC 5322 §4.3
  else if (p.year.length === 3) year += 1900;
  const [day, h, mi, sec] = [
    Number(p.day),
    Number(p.hour),
    Number(p.minute),
    Number(p.second ?? 0),
  ];
  if (day < 1 || day > 31 || h > 23 || mi > 59 || sec > 60) return null;
  let zone = 0;
  const z = p.zone;
  if (z && /^[+-]\d{4}$/.test(z)) {
    zone = (z[0] === "-" ? -1 : 1) * (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5)));
  } else if (z) zone = (ZONES[z.toUpperCase()] ?? 0) * 60;
  const ms = Date.UTC(year, month, day, h, mi, sec) - zone * 60_000;
  return Number.isFinite(ms) ? { ms, zone } : null;
}
