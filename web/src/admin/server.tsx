/** The Server page: version, uptime, listeners, certificate, storage and the metrics (GET server). */
/// <reference lib="dom" />
import { size } from "./api.ts";
import type { Session } from "./session.ts";
import { useLoad } from "./use_load.ts";

interface ServerInfo {
  hostname: string;
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  listeners: Array<{ name: string; address: string; port: number; connections: number }>;
  certificate: { subject: string; issuer: string; notAfter: string; selfSigned: boolean } | null;
  storage: { backend: string; bytes: number; complete: boolean };
  metrics?: Array<{ name: string; value: number }>;
}

function duration(s: number): string {
  const d = Math.floor(s / 86400),
    h = Math.floor((s % 86400) / 3600),
    m = Math.floor((s % 3600) / 60);
  return d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : `${m} min ${s % 60} s`;
}

export function ServerPage(props: { session: Session }) {
  const info = useLoad<ServerInfo>(props.session, "server");
  if (info.error) return <p role="alert" class="error">{info.error}</p>;
  const s = info.data;
  if (!s) return <p class="loading">Loading…</p>;
  const cert = s.certificate;
  return (
    <>
      <dl class="facts">
        <dt>Host name</dt>
        <dd>{s.hostname}</dd>
        <dt>Version</dt>
        <dd>{s.version}</dd>
        <dt>Uptime</dt>
        <dd>{duration(s.uptimeSeconds)} (since {new Date(s.startedAt).toLocaleString()})</dd>
        <dt>Certificate</dt>
        <dd>
          {cert
            ? `${cert.subject}, expires ${new Date(cert.notAfter).toLocaleDateString()}${
              cert.selfSigned ? " (self-signed)" : ""
            }`
            : "none readable"}
        </dd>
        <dt>Storage</dt>
        <dd>{s.storage.backend}, {size(s.storage.bytes)}{s.storage.complete ? "" : " or more"}</dd>
      </dl>
      <table aria-label="Listeners">
        <thead>
          <tr>
            <th scope="col">Listener</th>
            <th scope="col">Address</th>
            <th scope="col">Port</th>
            <th scope="col">Connections</th>
          </tr>
        </thead>
        <tbody>
          {s.listeners.map((l) => (
            <tr key={l.name}>
              <td>{l.name}</td>
              <td>{l.address}</td>
              <td>{l.port}</td>
              <td>{l.connections}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table aria-label="Metrics">
        <thead>
          <tr>
            <th scope="col">Metric (as on /metrics)</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {s.metrics?.map((m) => (
            <tr key={m.name}>
              <td class="value">{m.name}</td>
              <td>{m.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
