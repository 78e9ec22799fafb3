/**
 * The Aliases page (aliases and catch-alls: list, add, remove — the CLI's `alias`) and the
 * Plugins page (state, grants, calls, p50/p99, verdicts; Reload — the CLI's `plugin
 * reload`).
 *
 * @module
 */
/// <reference lib="dom" />
import { useState } from "preact/hooks";
import { AddForm } from "./add_form.tsx";
import { call, seg } from "./api.ts";
import type { Session } from "./session.ts";
import { useLoad } from "./use_load.ts";

export function AliasesPage(props: { session: Session }) {
  const { session } = props;
  const aliases = useLoad<{ aliases: Array<{ source: string; targets: string[] }> }>(
    session,
    "aliases",
  );
  const [error, setError] = useState<string | null>(null);
  const add = async (data: FormData) => {
    await call(session.token, "POST", "aliases", {
      source: String(data.get("source")).trim(),
      targets: String(data.get("targets")),
    });
    aliases.reload();
  };
  const remove = async (source: string) => {
    setError(null);
    try {
      if (!confirm(`Remove ${source}?`)) return;
      await call(session.token, "DELETE", `aliases/${seg(source)}`);
    } catch (e) {
      if (!session.fail(e as Error)) setError((e as Error).message);
    }
    aliases.reload();
  };
  return (
    <>
      <AddForm label="Add alias" submit={add}>
        <label>
          Alias
          <input name="source" required autocomplete="off" placeholder="sales@example.org" />
        </label>
        <label>
          Delivers to
          <input name="targets" required autocomplete="off" placeholder="a@example.org, b@…" />
        </label>
      </AddForm>
      <p class="note">
        An alias "@example.org" is a catch-all: it takes mail for every address of the domain that
        is neither a user nor another alias.
      </p>
      {(aliases.error ?? error) && <p role="alert" class="error">{aliases.error ?? error}</p>}
      <table aria-label="Aliases">
        <thead>
          <tr>
            <th scope="col">Alias</th>
            <th scope="col">Delivers to</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {aliases.data?.aliases.map((a) => (
            <tr key={a.source}>
              <td>{a.source}{a.source.startsWith("@") ? " (catch-all)" : ""}</td>
              <td>{a.targets.join(", ")}</td>
              <td>
                <button
                  type="button"
                  aria-label={`Remove ${a.source}`}
                  onClick={() => remove(a.source)}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

interface Figures {
  calls: number;
  p50Ms: number | string | null;
  p99Ms: number | string | null;
  verdicts: Record<string, number>;
  timeouts: number;
  errors: number;
  restarts: number;
}

interface Plugin {
  name: string;
  module?: string;
  state: string;
  hooks: string[];
  error: string | null;
  permissions?: Record<string, string[]>;
  figures: Figures | null;
}

/** The engine's process states in the console's words. */
const STATES: Record<string, string> = {
  ready: "running",
  starting: "starting",
  restarting: "restarting",
  down: "failed",
  stopped: "stopped",
};

const ms = (
  v: number | string | null,
) => (v === null ? "—" : typeof v === "number" ? `≤ ${v} ms` : `${v} ms`);

function grants(p: Plugin): string {
  const parts = Object.entries(p.permissions ?? {}).filter(([, v]) => v.length > 0)
    .map(([k, v]) => `${k}: ${v.join(", ")}`);
  return parts.join("; ") || "none";
}

export function PluginsPage(props: { session: Session }) {
  const { session } = props;
  const plugins = useLoad<{ plugins: Plugin[]; figures: boolean }>(session, "plugins");
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const reload = async () => {
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      const r = await call<{ ok: boolean; error?: string }>(
        session.token,
        "POST",
        "plugins/reload",
        {},
      );
      setStatus("Reloaded: the config was read again.");
      if (!r.ok) setError(r.error ?? "reload failed");
    } catch (e) {
      if (!session.fail(e as Error)) setError((e as Error).message);
    } finally {
      setBusy(false);
      plugins.reload();
    }
  };
  const d = plugins.data;
  return (
    <>
      <button type="button" onClick={reload} disabled={busy}>Reload</button>
      {status && !error && <p role="status">{status}</p>}
      {(plugins.error ?? error) && <p role="alert" class="error">{plugins.error ?? error}</p>}
      {d && !d.figures && (
        <p class="note">This server keeps no per-plugin figures: state and grants only.</p>
      )}
      <table aria-label="Plugins">
        <thead>
          <tr>
            <th scope="col">Plugin</th>
            <th scope="col">State</th>
            <th scope="col">Hooks</th>
            <th scope="col">Grants</th>
            <th scope="col">Calls</th>
            <th scope="col">p50</th>
            <th scope="col">p99</th>
            <th scope="col">Verdicts</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {d?.plugins.map((p) => (
            <tr key={p.name}>
              <td>{p.name}{p.module ? ` (${p.module})` : ""}</td>
              <td>{STATES[p.state] ?? p.state}</td>
              <td>{p.hooks.join(", ")}</td>
              <td>{grants(p)}</td>
              <td>{p.figures?.calls ?? "—"}</td>
              <td>{ms(p.figures?.p50Ms ?? null)}</td>
              <td>{ms(p.figures?.p99Ms ?? null)}</td>
              <td>
                {p.figures
                  ? Object.entries(p.figures.verdicts).map(([k, v]) => `${k} ${v}`).join(", ") ||
                    "—"
                  : "—"}
              </td>
              <td>{p.error ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
