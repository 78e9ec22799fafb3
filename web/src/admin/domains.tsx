/**
 * The Domains page: the domains, "Add domain", and per domain "Check DNS". There is no
 * route yet that resolves what is published, so "Check DNS" shows the records to publish
 * (GET domains/D/dns, the CLI's `dns DOMAIN`) for the admin to compare.
 *
 * @module
 */
/// <reference lib="dom" />
import { useState } from "preact/hooks";
import { AddForm } from "./add_form.tsx";
import { call, seg } from "./api.ts";
import type { Session } from "./session.ts";
import { useLoad } from "./use_load.ts";

interface Domain {
  name: string;
  createdAt: number;
}

export function DomainsPage(props: { session: Session }) {
  const { session } = props;
  const domains = useLoad<{ domains: Domain[] }>(session, "domains");
  const [records, setRecords] = useState<{ domain: string; records: string[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const add = async (data: FormData) => {
    await call(session.token, "POST", "domains", { name: String(data.get("domain")) });
    domains.reload();
  };
  const check = async (name: string) => {
    setError(null);
    try {
      setRecords(await call(session.token, "GET", `domains/${seg(name)}/dns`));
    } catch (e) {
      if (!session.fail(e as Error)) setError((e as Error).message);
    }
  };
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
                <button type="button" onClick={() => check(d.name)} aria-label="Check DNS">
                  Check DNS
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {records && (
        <section aria-label={`DNS records for ${records.domain}`} class="records">
          <h2>Records to publish for {records.domain}</h2>
          <p class="note">
            Comparing with what is published is not built yet: check these against your zone.
          </p>
          <pre>{records.records.join("\n")}</pre>
        </section>
      )}
    </>
  );
}
