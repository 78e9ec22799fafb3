/**
 * `deno task bench [smtp|imap|outbound|plugins|spam|encrypt|freeze|index|jmap|sieve|web|backup|cluster|https|msgfuzz|msgfuzz-live]`
 * `[options]`: the
 * benchmarks;
 * each prints a table. Without a name, `smtp`.
 *
 * @module
 */
import { benchSmtp } from "./smtp.ts";
import { benchImap } from "./imap.ts";
import { benchOutbound } from "./outbound.ts";
import { benchEncrypt } from "./encrypt.ts";
import { benchPlugins } from "./plugins.ts";
import { benchSpam } from "./spam.ts";
import { benchFreeze } from "./freeze.ts";
import { benchIndex } from "./index.ts";
import { benchJmap } from "./jmap.ts";
import { benchHttpsFront } from "./https_front.ts";
import { benchSieve } from "./sieve.ts";
import { benchWeb } from "./web.ts";
import { benchBackup } from "./backup.ts";
import { benchCluster } from "./cluster.ts";
import { benchMsgFuzz } from "./msgfuzz/run.ts";
import { benchMsgFuzzLive } from "./msgfuzz/live.ts";

const BENCHES: Record<string, (args: string[]) => Promise<void>> = {
  smtp: benchSmtp,
  imap: benchImap,
  outbound: benchOutbound,
  encrypt: benchEncrypt,
  plugins: benchPlugins,
  spam: benchSpam,
  freeze: benchFreeze,
  index: benchIndex,
  jmap: benchJmap,
  https: benchHttpsFront,
  sieve: benchSieve,
  web: benchWeb,
  backup: benchBackup,
  cluster: benchCluster,
  msgfuzz: benchMsgFuzz,
  "msgfuzz-live": benchMsgFuzzLive,
};

const [name = "smtp", ...rest] = Deno.args;
const bench = BENCHES[name];
if (!bench) {
  console.error(`bench: unknown benchmark ${name}; one of: ${Object.keys(BENCHES).join(", ")}`);
  Deno.exit(2);
}
await bench(rest);
