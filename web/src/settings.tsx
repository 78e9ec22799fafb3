/**
 * The Settings page (`#/settings`): password, vacation reply, encryption key, spam allow
 * and block lists, mailboxes, and "Set up a mail program" (the Apple configuration
 * profile, served by the server at /apple/mail.mobileconfig; other programs find the
 * server through autoconfig).
 */
import type { Jmap, Mailbox } from "./jmap.ts";
import { PasswordForm } from "./password_form.tsx";
import { VacationForm } from "./vacation_form.tsx";
import { KeyForm } from "./key_form.tsx";
import { MailboxesForm } from "./mailboxes_form.tsx";
import { SpamListsForm } from "./spam_lists_form.tsx";

export function Settings(props: { jmap: Jmap; mailboxes: Mailbox[]; onChanged: () => void }) {
  const profile = `/apple/mail.mobileconfig?emailaddress=${
    encodeURIComponent(props.jmap.username)
  }`;
  return (
    <main class="reader settings" aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <p>
        <a class="button" href={profile} download>Set up a mail program</a>{" "}
        <span class="hint">(a profile for Apple Mail on iPhone, iPad and Mac)</span>
      </p>
      <PasswordForm jmap={props.jmap} />
      <VacationForm jmap={props.jmap} />
      <KeyForm jmap={props.jmap} />
      <SpamListsForm jmap={props.jmap} />
      <MailboxesForm {...props} />
    </main>
  );
}
