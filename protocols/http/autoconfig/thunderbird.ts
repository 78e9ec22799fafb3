/**
 * Thunderbird autoconfig (the "clientConfig v1.1" format Mozilla's ISPDB uses): one
 * incomingServer per IMAP/POP3 service and one outgoingServer per submission service.
 * The user name is the placeholder %EMAILADDRESS%, so nothing the client sent is echoed.
 *
 * @module
 */
import type { ServerDeps } from "../../../core/deps.ts";
import { text, type WebRequest } from "../router.ts";
import { requestHost } from "../well_known.ts";
import { localAddress, mailServices, xml } from "./services.ts";

export async function thunderbirdConfig(r: WebRequest, deps: ServerDeps): Promise<Response> {
  const param = r.url.searchParams.get("emailaddress");
  let domain: string | null = null;
  if (param !== null) {
    const addr = await localAddress(deps, param);
    domain = addr ? addr.slice(addr.indexOf("@") + 1) : null;
  } else {
    // Without an address: autoconfig.<domain> names the domain (the well-known lookup).
    const host = requestHost(r).replace(/^autoconfig\./, "");
    domain = host && await deps.store.hasDomain(host) ? host : null;
  }
  if (!domain) return text(404, "not found\n");
  const host = xml(deps.config.hostname);
  const servers = mailServices(deps.config).map((s) => {
    const tag = s.kind === "smtp" ? "outgoingServer" : "incomingServer";
    return `    <${tag} type="${s.kind}">
      <hostname>${host}</hostname>
      <port>${s.port}</port>
      <socketType>${s.socket}</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </${tag}>`;
  });
  const body = `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="${xml(domain)}">
    <domain>${xml(domain)}</domain>
    <displayName>${xml(domain)}</displayName>
    <displayShortName>${xml(domain)}</displayShortName>
${servers.join("\n")}
  </emailProvider>
</clientConfig>
`;
  return new Response(body, { headers: { "content-type": "application/xml; charset=utf-8" } });
}
