import { CSRF_FIELD } from "../../server/sessions/csrf.ts";

export type NavKey = "overview" | "usage" | "spend" | "requests" | "failures" | "prices" | "keys" | "budgets" | "alerts" | "reports" | "jobs";

const LINKS: Array<[NavKey, string, string]> = [
  ["overview", "/", "Overview"],
  ["usage", "/usage", "Usage"],
  ["spend", "/spend", "Spend"],
  ["requests", "/requests", "Requests"],
  ["failures", "/requests/failed", "Failures"],
  ["prices", "/prices", "Prices"],
  ["keys", "/keys", "Keys"],
  ["budgets", "/budgets", "Budgets"],
  ["alerts", "/alerts", "Alerts"],
  ["reports", "/reports", "Reports"],
  ["jobs", "/jobs", "Jobs"],
];

export function Nav({ active, csrfToken }: { active: NavKey | undefined; csrfToken: string }) {
  return (
    <header class="topbar">
      <nav class="container">
        <a href="/" class="brand">
          tollbooth
        </a>
        <ul class="links">
          {LINKS.map(([key, href, label]) => (
            <li>
              <a href={href} aria-current={key === active ? "page" : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
        {/* POST with the CSRF token: a cross-site link must not be able to log anyone out. */}
        <form method="post" action="/logout" class="logout">
          <input type="hidden" name={CSRF_FIELD} value={csrfToken} />
          <button type="submit" class="outline secondary">
            Log out
          </button>
        </form>
      </nav>
    </header>
  );
}
