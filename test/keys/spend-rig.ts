import { startProxyRig, type ProxyRig } from "../proxy/proxy-harness.ts";

// A proxy rig with tollbooth keys switched on, and helpers for /api/keys and /api/budgets.

export const UPSTREAM_KEY = "sk-nscale-upstream-service-token-0001";

export async function startKeysRig(env: Record<string, string> = {}): Promise<ProxyRig> {
  return startProxyRig({ AUTH_MODE: "keys", UPSTREAM_API_KEY: UPSTREAM_KEY, ...env });
}

export async function postJson(rig: ProxyRig, path: string, body: unknown, method = "POST"): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await rig.server.api(path, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function issueKey(rig: ProxyRig, body: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const res = await postJson(rig, "/api/keys", { name: "search-prod", team: "ml", project: "search", ...body });
  if (res.status !== 201) throw new Error(`POST /api/keys: ${res.status} ${JSON.stringify(res.body)}`);
  await settle();
  return { id: res.body.id as string, key: res.body.key as string };
}

export function chatWith(rig: ProxyRig, key: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${rig.baseURL}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "meta-llama/Llama-3.1-8B-Instruct", messages: [{ role: "user", content: "Say hello in five words" }], ...body }),
  });
}

/** Poll `fn` every 10 ms until it returns true; resolves with the milliseconds it took. */
export async function timeUntil(fn: () => Promise<boolean>, ms = 5_000): Promise<number> {
  const t0 = performance.now();
  while (!(await fn())) {
    if (performance.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - t0;
}

/** Long enough for every writer thread to poll the spend-control version and post its snapshot. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 600));
}
