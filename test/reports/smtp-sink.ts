import type { AddressInfo } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";

// A real SMTP server in the test process (smtp-server), parsing what arrives with mailparser.
// `refuse(n)` makes the next n messages fail at the end of DATA with a 451, as a greylisting or
// overloaded server would.

export interface SmtpSink {
  url: string;
  messages: ParsedMail[];
  /** AUTH logins seen, as "user:pass". */
  logins: string[];
  refuse(count: number, code?: number): void;
  close(): Promise<void>;
}

export async function startSmtpSink(opts: { auth?: boolean } = {}): Promise<SmtpSink> {
  const messages: ParsedMail[] = [];
  const logins: string[] = [];
  let refusals = 0;
  let refusalCode = 451;
  const server = new SMTPServer({
    // Plain SMTP on loopback: no STARTTLS (its self-signed certificate would fail verification).
    disabledCommands: opts.auth ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      logins.push(`${auth.username}:${auth.password}`);
      callback(null, { user: auth.username });
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        if (refusals > 0) {
          refusals--;
          const err = Object.assign(new Error("mailbox busy, try again later"), { responseCode: refusalCode });
          callback(err);
          return;
        }
        simpleParser(Buffer.concat(chunks)).then(
          (mail) => {
            messages.push(mail);
            callback();
          },
          (err: Error) => callback(err),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: opts.auth ? `smtp://reporter:s3cret@127.0.0.1:${port}` : `smtp://127.0.0.1:${port}`,
    messages,
    logins,
    refuse(count, code = 451) {
      refusals = count;
      refusalCode = code;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
