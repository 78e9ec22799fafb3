/**
 * A small, bounded XML reader for DMARC aggregate reports (RFC 7489 Appendix C): elements,
 * attributes skipped, text with the five predefined entities and numeric character
 * references. No DTD (a DOCTYPE is refused, so no entity expansion), no namespaces beyond
 * dropping a prefix, depth and element count bounded. Pure: no I/O.
 *
 * @module
 */

/** One element: its local name, children in order, and its text (trimmed). */
export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

export interface XmlLimits {
  maxDepth: number;
  maxElements: number;
}

const DEFAULT_LIMITS: XmlLimits = { maxDepth: 16, maxElements: 200_000 };

const NAMED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decodeText(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#\d{1,7}|[a-z]{2,4});/g, (m, e: string) => {
    if (e[0] === "#") {
      const cp = e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return Object.hasOwn(NAMED, e) ? NAMED[e] : m;
  });
}

/** Parses `xml`; throws Error with a reason when it is not well-formed or too big. */
export function parseXml(xml: string, limits: XmlLimits = DEFAULT_LIMITS): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let count = 0;
  let i = 0;
  const n = xml.length;
  while (i < n) {
    const lt = xml.indexOf("<", i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const text = xml.slice(i, textEnd);
      if (stack.length > 0) stack[stack.length - 1].text += text;
      else if (text.trim() !== "") throw new Error("text outside the root element");
    }
    if (lt < 0) break;
    if (xml.startsWith("<?", lt)) {
      const end = xml.indexOf("?>", lt);
      if (end < 0) throw new Error("unterminated processing instruction");
      i = end + 2;
    } else if (xml.startsWith("<!--", lt)) {
      const end = xml.indexOf("-->", lt);
      if (end < 0) throw new Error("unterminated comment");
      i = end + 3;
    } else if (xml.startsWith("<![CDATA[", lt)) {
      const end = xml.indexOf("]]>", lt);
      if (end < 0 || stack.length === 0) throw new Error("bad CDATA section");
      stack[stack.length - 1].text += xml.slice(lt + 9, end).replace(/&/g, "&amp;");
      i = end + 3;
    } else if (xml.startsWith("<!", lt)) {
      // DOCTYPE / ENTITY: refused, so entities can never expand (billion laughs).
      throw new Error("DTDs are not accepted");
    } else {
      const gt = xml.indexOf(">", lt);
      if (gt < 0) throw new Error("unterminated tag");
      const tag = xml.slice(lt + 1, gt);
      i = gt + 1;
      if (tag.startsWith("/")) {
        const name = localName(tag.slice(1).trim());
        const open = stack.pop();
        if (!open || open.name !== name) throw new Error(`mismatched </${name}>`);
        open.text = decodeText(open.text).trim();
        continue;
      }
      const selfClosing = tag.endsWith("/");
      const m = /^([A-Za-z_][\w.:-]*)/.exec(tag);
      if (!m) throw new Error("bad tag");
      if (++count > limits.maxElements) throw new Error("too many elements");
      const el: XmlElement = { name: localName(m[1]), children: [], text: "" };
      if (stack.length > 0) stack[stack.length - 1].children.push(el);
      else if (root) throw new Error("more than one root element");
      else root = el;
      if (!selfClosing) {
        stack.push(el);
        if (stack.length > limits.maxDepth) throw new Error("nested too deeply");
      }
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1].name}>`);
  if (!root) throw new Error("no root element");
  return root;
}

function localName(qname: string): string {
  const colon = qname.indexOf(":");
  return colon >= 0 ? qname.slice(colon + 1) : qname;
}

/** The first child named `name`, or null. */
export function child(el: XmlElement | null | undefined, name: string): XmlElement | null {
  return el?.children.find((c) => c.name === name) ?? null;
}

/** The text at a path of child names ("" when absent). */
export function textAt(el: XmlElement | null, ...path: string[]): string {
  let cur = el;
  for (const p of path) cur = child(cur, p);
  return cur?.text ?? "";
}

/** Escapes text for an element's content. */
export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) =>
      c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === "&"
        ? "&amp;"
        : c === '"'
        ? "&quot;"
        : "&apos;",
  );
}
