/**
 * The Search mail box's words as an Email/query filter (RFC 8621 §4.4.1): `from:x`, `to:x`,
 * `subject:x` and `has:attachment` become those conditions, everything else is full text;
 * all of them must match (AND). Quotes keep spaces inside one term: subject:"two words".
 *
 * @module
 */
const FIELDS: Record<string, string> = { from: "from", to: "to", subject: "subject", cc: "cc" };

export function searchFilter(query: string): Record<string, unknown> {
  const conditions: Array<Record<string, unknown>> = [];
  const text: string[] = [];
  const terms = query.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
  for (const term of terms) {
    const colon = term.indexOf(":");
    const key = colon > 0 ? term.slice(0, colon).toLowerCase() : "";
    const value = term.slice(colon + 1).replace(/"/g, "");
    if (key === "has" && value.toLowerCase() === "attachment") {
      conditions.push({ hasAttachment: true });
    } else if (Object.hasOwn(FIELDS, key) && value) conditions.push({ [FIELDS[key]]: value });
    else text.push(term.replace(/"/g, ""));
  }
  if (text.length) conditions.push({ text: text.join(" ") });
  if (conditions.length === 1) return conditions[0];
  return { operator: "AND", conditions };
}
