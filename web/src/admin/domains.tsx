/**
 * The Domains page: the domains, "Add domain", "Remove", and per domain "Check DNS", which
 * looks every record up through the server's resolver (GET domains/D/dns/check, the CLI's
 * `dns check DOMAIN`) and shows one row each: OK, missing or wrong, with the value to set.
 *
 * @module
 */
/// <reference lib="dom" />
import { useState } from "preact/hooks";
import { AddForm } from "./add_form.tsx";
import { call, seg } from "./api.ts";
import type { Session } from "./session.ts";
import { useLoad } from "./use_load.ts";

interface Check {
  name: string;
  type: string;
  value: string;
  why: string;
  status: "ok" | "missing" | "wrong";
  found: string[];
  error?: string;
}

interface CheckResult {
  domain: string;
  checks: Check[];
  notes: string[];
  ok: boolean;
}

const STATUS = { ok: "OK", missing: "missing", wrong: "wrong" } as const;

interface Domain {
  name: string;
  createdAt: number;
}

export function DomainsPage(props: { session: Session }) {
  const { session } = props;
  const domains = useLoad<{ domains: Domain[] }>(session, "domains");
  const [result, setResult] = useState<CheckResult | null>(null);
  const [checking, setChecking] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const add = async (data: FormData) => {
    await call(session.token, "POST", "domains", { name: String(data.get("domain")) });
    domains.reload();
  };
  const run = async (what: () => Promise<void>) => {
    setError(null);
    try {
      await what();
    } catch (e) {
      if (!session.fail(e as Error)) setError((e as Error).message);
    }
  };
  const check = (name: string) =>
    run(async () => {
      setChecking(name);
      try {
        setResult(await call(session.token, "GET", `domains/${seg(name)}/dns/check`));
      } finally {
        setChecking(null);
      }
    });
  const remove = (name: string) =>
    run(async () => {
      if (!confirm(`Remove the domain ${name}?`)) return;
      await call(session.token, "DELETE", `domains/${seg(name)}`);
      domains.reload();
    });
  return (
    <>
      <AddForm label="Add domain" submit={add}>
        <label>
          Domain
          <input name="domain" required autocomplete="off" placeholder="example.org" />
        </label>
      </AddForm>
      {(domains.error ?? error) && <p role="alert" class="error">{domains.error ?? error}</p>}
      <table aria-label="Domains">
        <thead>
          <tr>
            <th scope="col">Domain</th>
            <th scope="col">Added</th>
            <th scope="col">DNS</th>
          </tr>
        </thead>
        <tbody>
          {domains.data?.domains.map((d) => (
            <tr key={d.name}>
              <td>{d.name}</td>
              <td>{new Date(d.createdAt).toLocaleDateString()}</td>
              <td>
                <button
                  type="button"
                  onClick={() => check(d.name)}
                  aria-label="Check DNS"
                  disabled={checking !== null}
                >
                  {checking === d.name ? "Checking…" : "Check DNS"}
                </button>{" "}
                <button
                  type="button"
                  onClick={() => remove(d.name)}
                  title={`Remove ${d.name}`}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {result && <DnsChecks result={result} />}
    </>
  );
}

/** One row per record: status, name, type, the value to publish, what is published. */
function DnsChecks(props: { result: CheckResult }) {
  const { result } = props;
  const bad = result.checks.filter((c) => c.status !== "ok").length;
  return (
    <section aria-label={`DNS check of ${result.domain}`} class="records">
      <h2>DNS of {result.domain}</h2>
      <p role="status">
        {bad === 0
          ? "Every record is published as it should be."
          : `${bad} of ${result.checks.length} records need a change.`}
      </p>
      {result.notes.map((n) => <p class="note" key={n}>{n}</p>)}
      <table aria-label="DNS records">
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Value to set</th>
            <th scope="col">Published now</th>
          </tr>
        </thead>
        <tbody>
          {result.checks.map((c) => (
            <tr key={`${c.name} ${c.type}`} class={`dns-${c.status}`}>
              <td>{STATUS[c.status]}</td>
              <td>{c.name}</td>
              <td>{c.type}</td>
              <td class="value" title={c.why}>{c.value}</td>
              <td class="value">{c.error ? `lookup failed: ${c.error}` : c.found.join("\n")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
