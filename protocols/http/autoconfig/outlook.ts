/**
 * Outlook autodiscover: the POX form (POST autodiscover.xml with the "outlook" request
 * schema, answered with the outlook/responseschema/2006a settings), and the JSON "v2"
 * lookup Outlook makes first, which only points at the POX URL (Protocol=AutodiscoverV1).
 *
 * @module
 */
import type { ServerDeps } from "../../../core/deps.ts";
import { readBody } from "../body.ts";
import { text, type WebRequest } from "../router.ts";
import { localAddress, mailServices, xml } from "./services.ts";

const RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
const OUTLOOK_NS =
  "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
const MAX_REQUEST_BYTES = 16 * 1024;

function xmlResponse(status: number, body: string): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "application/xml; charset=utf-8" },
  });
}

/**
 * The text of the first `<EMailAddress>` element holding 1-254 characters (white space
 * around it trimmed), or null. Plain scans: the pattern used before,
 * `/<EMailAddress>\s*([^<]{1,254}?)\s*<\/EMailAddress>/`, backtracked cubically on white
 * space (16 KB of spaces after the tag held the server for 27 s, before any login).
 */
export function emailAddressOf(body: string): string | null {
  const OPEN = "<EMailAddress>";
  const CLOSE = "</EMailAddress>";
  for (let at = body.indexOf(OPEN); at >= 0; at = body.indexOf(OPEN, at + 1)) {
    const from = at + OPEN.length;
    const end = body.indexOf("<", from);
    if (end < 0) return null; // no further tag at all
    if (!body.startsWith(CLOSE, end)) continue;
    const value = body.slice(from, end).trim();
    if (value.length >= 1 && value.length <= 254) return value;
  }
  return null;
}

export async function outlookAutodiscover(r: WebRequest, deps: ServerDeps): Promise<Response> {
  const bytes = await readBody(r.req, MAX_REQUEST_BYTES);
  if (bytes === null) return text(413, "request too large\n");
  const body = new TextDecoder().decode(bytes);
  // The request is tiny and fixed in shape; the one value we need is EMailAddress.
  const addr = await localAddress(deps, emailAddressOf(body));
  if (!addr) return xmlResponse(200, errorDoc("600", "Invalid Request"));
  const host = xml(deps.config.hostname);
  const login = xml(addr);
  const protocols = mailServices(deps.config)
    // Outlook takes one server per type: the first (implicit TLS) of each.
    .filter((s, i, all) => all.findIndex((o) => o.kind === s.kind) === i)
    .map((s) =>
      `      <Protocol>
        <Type>${s.kind.toUpperCase()}</Type>
        <Server>${host}</Server>
        <Port>${s.port}</Port>
        <LoginName>${login}</LoginName>
        <DomainRequired>off</DomainRequired>
        <SPA>off</SPA>
        ${
        s.socket === "SSL"
          ? "<SSL>on</SSL>"
          : "<SSL>off</SSL>\n        <Encryption>TLS</Encryption>"
      }
        <AuthRequired>on</AuthRequired>${
        s.kind === "smtp"
          ? "\n        <UsePOPAuth>on</UsePOPAuth>\n        <SMTPLast>off</SMTPLast>"
          : ""
      }
      </Protocol>`
    );
  return xmlResponse(
    200,
    `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="${RESPONSE_NS}">
  <Response xmlns="${OUTLOOK_NS}">
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
${protocols.join("\n")}
    </Account>
  </Response>
</Autodiscover>
`,
  );
}

function errorDoc(code: string, message: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="${RESPONSE_NS}">
  <Response>
    <Error Time="${new Date().toISOString().slice(11, 19)}" Id="1">
      <ErrorCode>${code}</ErrorCode>
      <Message>${xml(message)}</Message>
      <DebugData />
    </Error>
  </Response>
</Autodiscover>
`;
}

/**
 * GET /autodiscover/autodiscover.json[/v1.0/ADDR]?Email=ADDR&Protocol=AutodiscoverV1:
 * the URL of the POX service; any other protocol (ActiveSync, EWS, …) is not offered.
 */
export async function outlookAutodiscoverJson(
  r: WebRequest,
  deps: ServerDeps,
): Promise<Response> {
  const q = new Map([...r.url.searchParams].map(([k, v]) => [k.toLowerCase(), v]));
  const protocol = q.get("protocol") ?? "";
  const fromPath = r.url.pathname.split("/v1.0/")[1];
  const email = q.get("email") ?? (fromPath ? decodeURIComponent(fromPath) : null);
  const json = (status: number, v: unknown) =>
    new Response(JSON.stringify(v), {
      status,
      headers: { "content-type": "application/json; charset=utf-8" },
    });
  if (protocol.toLowerCase() !== "autodiscoverv1") {
    return json(400, {
      ErrorCode: "InvalidProtocol",
      ErrorMessage: "The given protocol value is invalid. Supported values are 'AutodiscoverV1'",
    });
  }
  if (!(await localAddress(deps, email))) {
    return json(404, { ErrorCode: "UserNotFound", ErrorMessage: "unknown address or domain" });
  }
  return json(200, {
    Protocol: "AutodiscoverV1",
    Url: `https://${deps.config.hostname}/autodiscover/autodiscover.xml`,
  });
}
