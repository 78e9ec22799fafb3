/**
 * Outbound delivery: the queue runner and what it is built from. The SMTP client itself is
 * not here: the runner speaks `SmtpSender` (sender.ts), and app/server.ts injects
 * protocols/smtp/client/ (core imports no protocol).
 *
 * @module
 */
export { QueueRunner, type RunnerDeps } from "./runner.ts";
export type { SmtpSender, SmtpSession } from "./sender.ts";
export { DeliveryError, NetworkError } from "./failure.ts";
export { DkimSigner, dkimTxtRecord, generateDkimKey, loadDkimKey, saveDkimKey } from "./dkim.ts";
export { buildDsn } from "./dsn.ts";
export { hostAddresses, mxHosts } from "./mx.ts";
