/**
 * An Apple configuration profile (.mobileconfig) with one com.apple.mail.managed payload:
 * IMAP over TLS and submission over TLS, the address as user name, and no password (the
 * device asks for it). UUIDs are derived from hostname and address, so installing the
 * profile again replaces it instead of adding a second account.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { ServerDeps } from "../../../core/deps.ts";
import { text, type WebRequest } from "../router.ts";
import { localAddress, mailServices, xml } from "./services.ts";

function stableUuid(...parts: string[]): string {
  const h = createHash("sha256").update(parts.join("\0")).digest("hex");
  // RFC 9562 §5.8 (version 8, custom): variant bits 10.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-a${h.slice(17, 20)}-${
    h.slice(20, 32)
  }`.toUpperCase();
}

const str = (k: string, v: string) => `<key>${k}</key><string>${xml(v)}</string>`;
const int = (k: string, v: number) => `<key>${k}</key><integer>${v}</integer>`;
const bool = (k: string, v: boolean) => `<key>${k}</key>${v ? "<true/>" : "<false/>"}`;

export async function appleProfile(r: WebRequest, deps: ServerDeps): Promise<Response> {
  const addr = await localAddress(deps, r.url.searchParams.get("emailaddress"));
  if (!addr) return text(404, "not found\n");
  const services = mailServices(deps.config);
  const incoming = services.find((s) => s.kind === "imap") ??
    services.find((s) => s.kind === "pop3");
  const outgoing = services.find((s) => s.kind === "smtp");
  if (!incoming || !outgoing) return text(404, "no mail service is configured\n");
  const host = deps.config.hostname;
  const reverse = host.split(".").reverse().join(".");
  const id = `${reverse}.mail.${stableUuid(addr)}`;
  const account = [
    str("EmailAccountDescription", addr),
    str("EmailAccountType", incoming.kind === "imap" ? "EmailTypeIMAP" : "EmailTypePOP"),
    str("EmailAddress", addr),
    str("IncomingMailServerAuthentication", "EmailAuthPassword"),
    str("IncomingMailServerHostName", host),
    int("IncomingMailServerPortNumber", incoming.port),
    bool("IncomingMailServerUseSSL", incoming.socket === "SSL"),
    str("IncomingMailServerUsername", addr),
    str("OutgoingMailServerAuthentication", "EmailAuthPassword"),
    str("OutgoingMailServerHostName", host),
    int("OutgoingMailServerPortNumber", outgoing.port),
    // Apple's UseSSL covers STARTTLS too: the connection is always encrypted.
    bool("OutgoingMailServerUseSSL", true),
    str("OutgoingMailServerUsername", addr),
    bool("OutgoingPasswordSameAsIncomingPassword", true),
    str("PayloadDescription", `Mail account ${addr}`),
    str("PayloadDisplayName", addr),
    str("PayloadIdentifier", `${id}.account`),
    str("PayloadType", "com.apple.mail.managed"),
    str("PayloadUUID", stableUuid("account", host, addr)),
    int("PayloadVersion", 1),
  ];
  const profile = [
    "<key>PayloadContent</key>",
    `<array><dict>\n    ${account.join("\n    ")}\n  </dict></array>`,
    str("PayloadDescription", `Sets up mail for ${addr} on ${host}`),
    str("PayloadDisplayName", `Mail: ${addr}`),
    str("PayloadIdentifier", id),
    bool("PayloadRemovalDisallowed", false),
    str("PayloadType", "Configuration"),
    str("PayloadUUID", stableUuid("profile", host, addr)),
    int("PayloadVersion", 1),
  ];
  const body = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  ${profile.join("\n  ")}
</dict>
</plist>
`;
  return new Response(body, {
    headers: {
      "content-type": "application/x-apple-aspen-config",
      "content-disposition": 'attachment; filename="mail.mobileconfig"',
    },
  });
}
