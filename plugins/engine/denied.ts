/**
 * Deno's refusal of a sandboxed plugin's access ("Requires read access to "/x", run again
 * with the --allow-read flag") tells the admin to pass a flag, which is not how a plugin is
 * granted anything. Rewritten here into the `permissions` key of the plugin's config entry.
 *
 * @module
 */

/** Deno's own wording (NotCapable / PermissionDenied); the message is Deno's, not a client's. */
const DENIED =
  /Requires (read|write|net|env|run|sys|ffi) access to "([^"\n]{0,500})", run again with the --allow-\w+ flag/;

/** `message` with a Deno permission refusal replaced by the config key that grants it. */
export function explainDenied(plugin: string, message: string): string {
  const m = DENIED.exec(message);
  if (!m) return message;
  const [, kind, target] = m;
  // PluginProcess.name is "group <name>" for a group: its members share one grant.
  const who = plugin.startsWith("group ") ? `group "${plugin.slice(6)}"` : `plugin "${plugin}"`;
  // A path or host is shown bare in the sentence, quoted (as TOML wants it) in the key.
  const hint = `${who} was refused ${kind} access to ${target}; to allow it add ` +
    `permissions.${kind} = [${JSON.stringify(target)}] to its [[plugins]] entry`;
  return message.slice(0, m.index) + hint + message.slice(m.index + m[0].length);
}
