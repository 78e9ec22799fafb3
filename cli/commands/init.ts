/** `init --domain D --hostname H [--out F]`: write a production config, print DNS records. */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { checkDomain } from "../../core/admin/validate.ts";
import { dnsRecords, readCertInUse, zoneLines } from "../../core/admin/dns_records.ts";
import { dirname, resolve } from "node:path";

export const usage = "init --domain DOMAIN --hostname HOST [--out FILE]";

export async function run(ctx: CliContext): Promise<void> {
  const domainRaw = ctx.args.values.get("--domain");
  const hostRaw = ctx.args.values.get("--hostname");
  if (!domainRaw) throw new UsageError("init: missing --domain");
  if (!hostRaw) throw new UsageError("init: missing --hostname");
  if (ctx.args.positional.length) {
    throw new UsageError(`init: unexpected argument ${ctx.args.positional[0]}`);
  }
  const domain = checkDomain(domainRaw, "--domain");
  const hostname = checkDomain(hostRaw, "--hostname");
  const out = ctx.args.values.get("--out") ?? "denomail.toml";
  const toml = `# denomail production configuration for ${domain}
hostname = "${hostname}"
data_dir = "./data"

[storage]
backend = "sqlite"

[tls]
# Point these at your real certificate (e.g. from Let's Encrypt); without them a
# self-signed certificate is generated, which mail programs will warn about.
# cert = "/etc/letsencrypt/live/${hostname}/fullchain.pem"
# key  = "/etc/letsencrypt/live/${hostname}/privkey.pem"

[listeners]
# "[::]" listens on IPv6 and IPv4 both (dual-stack, Linux's default). On a host without IPv6,
# or with net.ipv6.bindv6only = 1, use "0.0.0.0:25" and so on instead.
smtp        = "[::]:25"
submission  = "[::]:587"
submissions = "[::]:465"
imap        = "[::]:143"
imaps       = "[::]:993"
pop3        = "[::]:110"
pop3s       = "[::]:995"
managesieve = "[::]:4190"
http        = "127.0.0.1:8025"
https       = "[::]:443"

[auth]
# Passwords only over TLS, loopback included.
allow_plaintext_loopback = false

# A certificate from Let's Encrypt, renewed by denomail itself (leave [tls] cert/key unset).
# tls-alpn-01 proves the names on the https port (443); "http-01" needs http = "[::]:80".
# [acme]
# directory = "https://acme-v02.api.letsencrypt.org/directory"
# email = "postmaster@${domain}"
# domains = ["${hostname}", "mta-sts.${domain}", "autoconfig.${domain}", "autodiscover.${domain}"]
# challenge = "tls-alpn-01"

# The MTA-STS policy served at https://mta-sts.${domain}/.well-known/mta-sts.txt.
[mta_sts]
mode = "testing"                      # "enforce" once TLS-RPT reports show no failures

# What every message goes through (PLUGINS.md), each in its own sandbox: SPF, DKIM and DMARC
# results; the spam score (Junk from 5, refused from 15); each user's Sieve script and the
# webmail's vacation reply.
[[plugins]]
name = "auth"
module = "builtin:auth"

[[plugins]]
name = "spam"
module = "builtin:spam"

[[plugins]]
name = "sieve"
module = "builtin:sieve"
`;
  try {
    await Deno.writeTextFile(out, toml, { createNew: true });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new UsageError(`--out: ${out} already exists; not overwriting it`);
    }
    throw e;
  }
  ctx.print(`wrote ${out}`);
  ctx.print("");
  ctx.print(`; DNS records for ${domain} (mail server ${hostname})`);
  // The same list `denomail dns` prints (data_dir is "./data" beside the config).
  const dataDir = resolve(dirname(resolve(out)), "data");
  const cert = await readCertInUse({ dataDir, tls: { cert: null } });
  // The policy init writes: [mta_sts] mode = "testing", max_age 7 days.
  const dns = await dnsRecords(domain, hostname, dataDir, cert, {
    mode: "testing",
    maxAgeS: 604800,
  });
  for (const line of zoneLines(dns, hostname)) ctx.print(line);
  ctx.print(`Then: deno task cli domain add ${domain} --config ${out}`);
}
