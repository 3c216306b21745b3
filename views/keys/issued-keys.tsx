import type { KeyView } from "../../server/keys/keys-store.ts";
import { CSRF_FIELD } from "../../server/sessions/csrf.ts";
import { Named, Time, FormError } from "../components/bits.tsx";

export interface KeyForm {
  name: string;
  team: string;
  project: string;
  models: string;
  expires_at: string;
  rpm: string;
  tpm: string;
}

export interface IssuedKeysProps {
  keys: KeyView[];
  now: number;
  form: KeyForm;
  error: string | null;
  /** A key just issued or rotated: its secret is shown this once. */
  issued: { name: string; secret: string; rotated: boolean } | null;
  authMode: string;
  csrfToken: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

function status(k: KeyView, now: number): ["active" | "revoked" | "expired", string] {
  if (k.revokedAt !== null) return ["revoked", "err"];
  if (k.expiresAt !== null && k.expiresAt <= now) return ["expired", "warn"];
  return ["active", "ok"];
}

/** The /keys page's first part: issue tollbooth keys, and rotate or revoke them. */
export function IssuedKeys({ keys, now, form, error, issued, authMode, csrfToken }: IssuedKeysProps) {
  return (
    <>
      <p>
          Tollbooth keys for teams: calls made with one go upstream with tollbooth's own Nscale key and are recorded under the key's team and project.
          {authMode === "passthrough" ? " AUTH_MODE is passthrough: set it to keys or both for these keys to be accepted." : null}
      </p>
      {issued ? (
        <article class="notice issued-key" role="status">
          <p>
            {issued.rotated ? "New key for " : "Key "}
            <strong>{issued.name}</strong> (shown once, copy it now):
          </p>
          <pre>
            <code>{issued.secret}</code>
          </pre>
        </article>
      ) : null}
      <article id="new-key">
        <h2>Issue a key</h2>
        <form method="post" action="/keys">
          <input type="hidden" name={CSRF_FIELD} value={csrfToken} />
          <div class="key-fields">
            <label>
              Name
              <input type="text" name="name" value={form.name} required maxlength={128} placeholder="search-prod" />
            </label>
            <label>
              Team
              <input type="text" name="team" value={form.team} maxlength={128} placeholder="ml" />
            </label>
            <label>
              Project
              <input type="text" name="project" value={form.project} maxlength={128} placeholder="search" />
            </label>
            <label>
              Models (comma-separated, empty for any)
              <input type="text" name="models" value={form.models} placeholder="meta-llama/Llama-3.1-8B-Instruct" />
            </label>
            <label>
              Expires at
              <input type="text" name="expires_at" value={form.expires_at} placeholder="2027-01-01T00:00:00Z" />
            </label>
            <label>
              Requests per minute
              <input type="text" name="rpm" value={form.rpm} inputmode="numeric" placeholder="no limit" />
            </label>
            <label>
              Tokens per minute
              <input type="text" name="tpm" value={form.tpm} inputmode="numeric" placeholder="no limit" />
            </label>
          </div>
          <FormError error={error} />
          <button type="submit">Issue key</button>
        </form>
      </article>
      <section>
        <h2>Issued keys</h2>
        {keys.length === 0 ? (
          <p class="empty">No keys yet.</p>
        ) : (
          <div class="table-scroll">
            <table class="striped issued-keys">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Key</th>
                  <th>Team</th>
                  <th>Project</th>
                  <th>Limits</th>
                  <th>Status</th>
                  <th>Last used</th>
                  <th>Created</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {keys.map((k) => {
                  const [label, kind] = status(k, now);
                  return (
                    <tr>
                      <td>
                        {k.name}
                        <br />
                        <small class="muted">
                          <code>{k.id}</code>
                        </small>
                      </td>
                      <td>
                        <code class="key">{k.prefix}…</code>
                      </td>
                      <td>
                        <Named name={k.team} kind="team" />
                      </td>
                      <td>
                        <Named name={k.project} kind="project" />
                      </td>
                      <td class="nowrap">
                        {k.rpm === null && k.tpm === null ? <span class="muted">none</span> : [k.rpm !== null ? `${k.rpm} rpm` : null, k.tpm !== null ? `${k.tpm} tpm` : null].filter(Boolean).join(", ")}
                        {k.models ? (
                          <>
                            <br />
                            <small class="muted">{(JSON.parse(k.models) as string[]).join(", ")}</small>
                          </>
                        ) : null}
                      </td>
                      <td>
                        <span class={`badge ${kind}`}>{label}</span>
                        {k.expiresAt !== null && label === "active" ? (
                          <>
                            <br />
                            <small class="muted">
                              until <Time iso={iso(k.expiresAt)} short />
                            </small>
                          </>
                        ) : null}
                      </td>
                      <td class="nowrap">{k.lastUsedAt === null ? <span class="muted">never</span> : <Time iso={iso(k.lastUsedAt)} short />}</td>
                      <td class="nowrap">
                        <Time iso={iso(k.createdAt)} short />
                      </td>
                      <td class="key-actions">
                        {label === "revoked" ? null : (
                          <>
                            <form method="post" action={`/keys/${k.id}/rotate`}>
                              <input type="hidden" name={CSRF_FIELD} value={csrfToken} />
                              <input type="hidden" name="grace_seconds" value="3600" />
                              <button type="submit" class="outline secondary" title="New key; the old one works for one more hour">
                                Rotate
                              </button>
                            </form>
                            <form method="post" action={`/keys/${k.id}/revoke`}>
                              <input type="hidden" name={CSRF_FIELD} value={csrfToken} />
                              <button type="submit" class="outline contrast">
                                Revoke
                              </button>
                            </form>
                          </>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
