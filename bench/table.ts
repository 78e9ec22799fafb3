/**
 * The result table every benchmark prints: a Markdown table with padded columns, so it reads
 * well in a terminal and pastes into an issue as is.
 *
 * @module
 */

/** Prints `header` and `lines` (one string per column) as a Markdown table on stdout. */
export function printMarkdownTable(header: string[], lines: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) =>
    "| " + cells.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
  console.log(fmt(header));
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
  for (const l of lines) console.log(fmt(l));
}
