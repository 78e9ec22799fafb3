/** `init --domain D --hostname H [--out F]`: write a production config, print DNS records. */
import { UsageError } from "../args.ts";
import type { CliContext } from "../context.ts";
import { checkDomain } from "../validate.ts";

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
smtp        = "0.0.0.0:25"
submission  = "0.0.0.0:587"
submissions = "0.0.0.0:465"
imap        = "0.0.0.0:143"
imaps       = "0.0.0.0:993"
pop3        = "0.0.0.0:110"
pop3s       = "0.0.0.0:995"
http        = "127.0.0.1:8025"

[auth]
allow_plaintext_loopback = true
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
  ctx.print(`Publish these DNS records for ${domain}:`);
  ctx.print(`${domain}.\tMX\t10 ${hostname}.`);
  ctx.print(`${hostname}.\tA\t<this server's IPv4 address>`);
  ctx.print(`${domain}.\tTXT\t"v=spf1 mx -all"`);
  ctx.print(`_dmarc.${domain}.\tTXT\t"v=DMARC1; p=quarantine; rua=mailto:postmaster@${domain}"`);
  ctx.print(`Then: deno task cli domain add ${domain} --config ${out}`);
}
