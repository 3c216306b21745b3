import { createTransport } from "nodemailer";

// SMTP through nodemailer. SMTP_URL is smtp://user:pass@host:587 (STARTTLS when the server offers
// it) or smtps://…:465 (TLS from the start); nodemailer reads host, port and auth from the URL.

interface MailMessage {
  to: string[];
  subject: string;
  html: string;
  text: string;
  /** A CSV attachment (reports); alerts have none. */
  csv?: { content: string; filename: string };
  /** Stable per delivery: a retry after an ambiguous failure reuses it, so clients can dedupe. */
  messageId: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** The domain of REPORT_FROM, for Message-IDs ("tollbooth@example.com" → "example.com"). */
export function fromDomain(from: string): string {
  const m = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from);
  return m?.[1] ?? "tollbooth.localhost";
}

export function createMailer(smtpUrl: string, from: string): Mailer {
  const transport = createTransport({
    url: smtpUrl,
    // nodemailer waits 2 minutes for a connection and 10 for a stalled socket by default; a
    // report runner holds its claim meanwhile, so give up sooner and let the retry handle it.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 60_000,
  });
  return {
    async send(m) {
      await transport.sendMail({
        from,
        to: m.to,
        subject: m.subject,
        html: m.html,
        text: m.text,
        messageId: m.messageId,
        attachments: m.csv ? [{ filename: m.csv.filename, content: m.csv.content, contentType: "text/csv; charset=utf-8" }] : [],
      });
    },
    close: () => transport.close(),
  };
}
