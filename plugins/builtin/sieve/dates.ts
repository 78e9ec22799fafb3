/**
 * Dates for the date and currentdate tests (RFC 5260 §4, §5): parsing an RFC 5322 §3.3
 * date-time (with the obsolete forms of §4.3; in Received, the part after the last ";"),
 * and the date-parts of a moment seen in a time zone, formatted as Pigeonhole does.
 *
 * @module
 */

import { dateFromParts, MONTHS } from "../../../mime/date.ts";

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** A moment and the zone it was written in (minutes east of UTC). */
export interface SieveDate {
  ms: number;
  zone: number;
}

const DATE_TIME =
  /^(?:[A-Za-z]{3} ?, ?)?(\d{1,2}) ([A-Za-z]{3}) (\d{2,4}) (\d{1,2}) ?: ?(\d{2})(?: ?: ?(\d{2}))?(?: ([+-]\d{4}|[A-Za-z]{1,5}))?$/;

/** Parses a header's date (RFC 5260 §4.1: Received uses what follows its last ";"). */
export function parseHeaderDate(header: string, value: string): SieveDate | null {
  let v = value;
  if (header.toLowerCase() === "received") {
    const semi = v.lastIndexOf(";");
    if (semi < 0) return null;
    v = v.slice(semi + 1);
  }
  v = v.replace(/\([^()]*\)/g, " ").replace(/\s+/g, " ").trim();
  if (v.length > 200) return null;
  const m = DATE_TIME.exec(v);
  if (!m) return null;
  return dateFromParts({
    day: m[1],
    month: m[2],
    year: m[3],
    hour: m[4],
    minute: m[5],
    second: m[6],
    zone: m[7],
  });
}

const p2 = (n: number) => String(n).padStart(2, "0");

function zoneText(zone: number, colon: boolean): string {
  const a = Math.abs(zone);
  return `${zone < 0 ? "-" : "+"}${p2(Math.floor(a / 60))}${colon ? ":" : ""}${p2(a % 60)}`;
}

/** The date-part (RFC 5260 §4.2) of `ms` seen in `zone`, or null for an unknown part. */
export function datePart(ms: number, zone: number, part: string): string | null {
  const d = new Date(ms + zone * 60_000); // its UTC fields are the wall clock in `zone`
  const year = String(d.getUTCFullYear()).padStart(4, "0");
  const month = p2(d.getUTCMonth() + 1), day = p2(d.getUTCDate());
  const hour = p2(d.getUTCHours()), minute = p2(d.getUTCMinutes());
  const second = p2(d.getUTCSeconds());
  switch (part.toLowerCase()) {
    case "year":
      return year;
    case "month":
      return month;
    case "day":
      return day;
    case "date":
      return `${year}-${month}-${day}`;
    case "julian": // Modified Julian Day: days since 1858-11-17
      return String(Math.floor((ms + zone * 60_000) / 86_400_000) + 40_587);
    case "hour":
      return hour;
    case "minute":
      return minute;
    case "second":
      return second;
    case "time":
      return `${hour}:${minute}:${second}`;
    case "iso8601":
      return `${year}-${month}-${day}T${hour}:${minute}:${second}` +
        (zone === 0 ? "Z" : zoneText(zone, true));
    case "std11":
      return `${DAYS[d.getUTCDay()]}, ${day} ${
        MONTHS[d.getUTCMonth()].replace(/^./, (c) => c.toUpperCase())
      } ${year} ${hour}:${minute}:${second} ${zoneText(zone, false)}`;
    case "zone":
      return zoneText(zone, false);
    case "weekday":
      return String(d.getUTCDay());
  }
  return null;
}

/** The local zone of this machine at `ms`, minutes east of UTC. */
export function localZone(ms: number): number {
  return -new Date(ms).getTimezoneOffset();
}
