/**
 * "Why is this in Junk?": the spam filter's verdict (X-Spam-Status / X-Spam-Score, written
 * by builtin:spam, plugins/builtin/spam/status.ts) and the Authentication-Results (RFC 8601)
 * in words. Only headers are read; nothing here trusts the sender beyond showing text.
 */
import type { EmailFull } from "./jmap.ts";

interface Verdict {
  spam: boolean | null;
  score: string | null;
  required: string | null;
  tests: string[];
  auth: Array<{ method: string; result: string; detail: string }>;
}

const METHODS: Record<string, string> = {
  spf: "SPF (sending server allowed)",
  dkim: "DKIM (signature)",
  dmarc: "DMARC (sender domain policy)",
  arc: "ARC (forwarding chain)",
  iprev: "Reverse DNS",
};

function header(email: EmailFull, name: string): unknown {
  return (email as unknown as Record<string, unknown>)[`header:${name}`];
}

/** RFC 8601 §2.2 resinfo: "method=result (comment) prop=value", one per ';'. */
export function parseAuthResults(values: string[]): Verdict["auth"] {
  const out: Verdict["auth"] = [];
  for (const v of values) {
    for (const item of v.split(";").slice(1)) {
      const m = /^\s*([a-z0-9-]+)\s*=\s*([a-z]+)(.*)$/is.exec(item);
      if (!m) continue;
      const id = /(?:header\.(?:d|i|from)|smtp\.mailfrom)=([^\s;]+)/i.exec(m[3]);
      out.push({ method: m[1].toLowerCase(), result: m[2].toLowerCase(), detail: id?.[1] ?? "" });
    }
  }
  return out;
}

export function verdictOf(email: EmailFull): Verdict {
  const status = (header(email, "X-Spam-Status:asText") as string | null) ?? "";
  const score = (header(email, "X-Spam-Score:asText") as string | null) ??
    /score=([-\d.]+)/.exec(status)?.[1] ?? null;
  const auth = (header(email, "Authentication-Results:asText:all") as string[] | null) ?? [];
  return {
    spam: status ? /^\s*yes/i.test(status) : null,
    score,
    required: /required=([-\d.]+)/.exec(status)?.[1] ?? null,
    tests: (/tests=([^\s]+)/.exec(status)?.[1] ?? "").split(",").filter((t) => t && t !== "none"),
    auth: parseAuthResults(auth),
  };
}

export function VerdictPanel(props: { email: EmailFull; inJunk: boolean }) {
  const v = verdictOf(props.email);
  if (v.spam === null && !v.auth.length && !props.inJunk) return null;
  return (
    <details class="verdict" open={props.inJunk}>
      <summary>{props.inJunk ? "Why is this in Junk?" : "Spam check and sender checks"}</summary>
      {v.spam === null ? <p>The spam filter left no verdict on this message.</p> : (
        <p>
          {v.spam ? "The spam filter judged this message to be spam" : "Not judged spam"}
          {v.score !== null && ` (score ${v.score}${v.required ? ` of ${v.required}` : ""})`}.
        </p>
      )}
      {v.tests.length > 0 && <p>{`Rules that matched: ${v.tests.join(", ")}`}</p>}
      {props.inJunk && v.spam !== true && (
        <p>It was moved here by you, a filter rule, or a mail program.</p>
      )}
      {v.auth.length > 0 && (
        <ul aria-label="Sender checks">
          {v.auth.map((a, i) => (
            <li key={i} class={a.result === "pass" ? "pass" : "fail"}>
              {`${METHODS[a.method] ?? a.method}: ${a.result}${a.detail ? ` (${a.detail})` : ""}`}
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}
