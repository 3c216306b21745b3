/** One page for 400/403/404/413: what happened and a way back. */
export function ErrorPage({ status, message }: { status: number; message: string }) {
  const heading = status === 404 ? "Page not found" : status === 403 ? "Not allowed" : status === 400 ? "Bad request" : status === 413 ? "Too much data" : "Something went wrong";
  return (
    <article class="error-page">
      <h1>
        <span class="muted">{status}</span> {heading}
      </h1>
      <p>{message}</p>
      <p>
        <a href="/">Back to the overview</a>
      </p>
    </article>
  );
}
