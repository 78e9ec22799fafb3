/**
 * ManageSieve server (RFC 5804) for the managesieve listener: users upload, check and
 * activate the Sieve scripts builtin:sieve runs at delivery.
 *
 * Layout: `session.ts` (loop, capabilities, error replies), `parser.ts` (strings and
 * literals), `commands.ts` (the verbs), `replies.ts`, `errors.ts`. Scripts are stored through
 * plugins/builtin/sieve/scripts.ts on the plugin's kv area (plugins/engine/store_kv.ts), as the CLI does.
 *
 * May import `core/`, `storage/`, `lib/`, and the sieve interpreter; never another protocol.
 *
 * @module
 */
import type { ProtocolHandler, ServerDeps } from "../../core/deps.ts";
import { bye } from "./replies.ts";
import { ManageSieveSession } from "./session.ts";

/** The ManageSieve protocol handler (STARTTLS upgrades; there is no implicit-TLS port). */
export function manageSieveHandler(deps: ServerDeps): ProtocolHandler {
  return {
    handle: async (conn) => {
      await new ManageSieveSession(deps, conn).run();
    },
    refuse: async (conn) => {
      await conn.write(bye("Too many connections, try again later", "TRYLATER"));
    },
  };
}
