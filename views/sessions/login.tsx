export function LoginPage({ next, error }: { next: string; error: string | null }) {
  return (
    <article class="login">
      <header>
        <h1>tollbooth</h1>
        <p class="muted">Usage and spend for your Nscale calls.</p>
      </header>
      <form method="post" action="/login">
        <input type="hidden" name="next" value={next} />
        <label>
          Admin token
          <input
            type="password"
            name="token"
            required
            autocomplete="current-password"
            autofocus
            aria-invalid={error ? "true" : undefined}
            aria-describedby="token-help"
          />
          <small id="token-help">{error ?? "ADMIN_TOKEN, or the token printed at first start (kept in the data folder)."}</small>
        </label>
        <button type="submit">Log in</button>
      </form>
    </article>
  );
}
