/**
 * The read-only pages: Aliases (GET aliases), Plugins (GET plugins) and Activity, which for
 * now is the audit log of admin changes (GET audit); deliveries, refusals and failed logins
 * have no route yet.
 *
 * @module
 */
/// <reference lib="dom" />
import type { Session } from "./session.ts";
import { useLoad } from "./use_load.ts";

/** A table named `label` with one row per item, cells made by `row`. */
function Table<T>(
  props: { label: string; head: string[]; items: T[] | undefined; row: (t: T) => string[] },
) {
  return (
    <table aria-label={props.label}>
      <thead>
        <tr>{props.head.map((h) => <th scope="col" key={h}>{h}</th>)}</tr>
      </thead>
      <tbody>
        {props.items?.map((t, i) => (
          <tr key={i}>{props.row(t).map((c, j) => <td key={j}>{c}</td>)}</tr>
        ))}
      </tbody>
    </table>
  );
}

export function AliasesPage(props: { session: Session }) {
  const aliases = useLoad<{ aliases: Array<{ source: string; targets: string[] }> }>(
    props.session,
    "aliases",
  );
  return (
    <>
      {aliases.error && <p role="alert" class="error">{aliases.error}</p>}
      <Table
        label="Aliases"
        head={["Alias", "Delivers to"]}
        items={aliases.data?.aliases}
        row={(a) => [a.source, a.targets.join(", ")]}
      />
    </>
  );
}

interface Plugin {
  name: string;
  module?: string;
  state: string;
  hooks: string[];
  error: string | null;
}

export function PluginsPage(props: { session: Session }) {
  const plugins = useLoad<{ plugins: Plugin[] }>(props.session, "plugins");
  return (
    <>
      {plugins.error && <p role="alert" class="error">{plugins.error}</p>}
      <Table
        label="Plugins"
        head={["Plugin", "State", "Hooks", "Error"]}
        items={plugins.data?.plugins}
        row={(p) => [p.name, p.state, p.hooks.join(", "), p.error ?? ""]}
      />
    </>
  );
}

interface AuditEntry {
  time: string;
  actor: string;
  ip: string;
  action: string;
  target: string;
}

export function ActivityPage(props: { session: Session }) {
  const audit = useLoad<{ entries: AuditEntry[] }>(props.session, "audit?limit=100");
  return (
    <>
      <p class="note">
        Admin changes, newest first. Deliveries, refusals and failed logins are not shown yet.
      </p>
      {audit.error && <p role="alert" class="error">{audit.error}</p>}
      <Table
        label="Activity"
        head={["When", "Who", "From", "What", "On"]}
        items={audit.data?.entries}
        row={(e) => [new Date(e.time).toLocaleString(), e.actor, e.ip, e.action, e.target]}
      />
    </>
  );
}
