/**
 * Mail-program auto-setup (CONTRACT routes): Thunderbird autoconfig, Outlook autodiscover
 * (XML and JSON), the Apple configuration profile the webmail links to.
 *
 * @module
 */
import type { ServerDeps } from "../../../core/deps.ts";
import type { Router } from "../router.ts";
import { thunderbirdConfig } from "./thunderbird.ts";
import { outlookAutodiscover, outlookAutodiscoverJson } from "./outlook.ts";
import { appleProfile } from "./apple.ts";

export function addAutoconfigRoutes(router: Router, deps: ServerDeps): void {
  const tb = (r: Parameters<typeof thunderbirdConfig>[0]) => thunderbirdConfig(r, deps);
  router.route("/.well-known/autoconfig/mail/config-v1.1.xml", ["GET"], tb);
  router.route("/mail/config-v1.1.xml", ["GET"], tb);
  // Outlook spells the path both ways.
  for (const p of ["/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"]) {
    router.route(p, ["POST"], (r) => outlookAutodiscover(r, deps));
  }
  const json = (r: Parameters<typeof thunderbirdConfig>[0]) => outlookAutodiscoverJson(r, deps);
  router.route("/autodiscover/autodiscover.json", ["GET"], json);
  router.prefix("/autodiscover/autodiscover.json/", ["GET"], json);
  router.route("/apple/mail.mobileconfig", ["GET"], (r) => appleProfile(r, deps));
}
