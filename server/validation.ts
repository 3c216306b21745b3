import { z } from "zod";
import { ApiError } from "./errors.ts";
import { TimeError } from "./time.ts";

// The one way untrusted input (query strings, path parameters, JSON bodies) is turned into a 400:
// the first zod issue as "field: message", in OpenAI's error shape. /api routes reach it through
// their OpenAPI defaultHook, the dashboard's forms through parseInput.

export type InputTarget = "query" | "param" | "json" | "form" | "header" | "cookie";

/** The 400 for one named parameter or field: "name: what is wrong". */
export function badInput(name: string, message: string): ApiError {
  return new ApiError({ status: 400, type: "invalid_request_error", code: "invalid_parameter", message: `${name}: ${message}` });
}

/** The one TimeError → 400 mapping: time arithmetic for parameter `name` that fails names it. */
export function timeParam<T>(name: string, compute: () => T): T {
  const rethrow = (err: unknown): never => {
    if (err instanceof TimeError) throw badInput(name, err.message);
    throw err;
  };
  try {
    const result = compute();
    // An async compute fails by rejecting, not by throwing.
    return (result instanceof Promise ? result.catch(rethrow) : result) as T;
  } catch (err) {
    return rethrow(err);
  }
}

/**
 * The same mapping inside a zod schema: a TimeError becomes an issue at `path` (default: the value
 * being checked), so the schema's failure, and the 400 made from it, names the parameter.
 */
export function timeIssue<T>(ctx: z.RefinementCtx, compute: () => T, path?: PropertyKey[]): T {
  try {
    return compute();
  } catch (err) {
    if (!(err instanceof TimeError)) throw err;
    ctx.addIssue({ code: "custom", message: err.message, ...(path ? { path } : {}) });
    return z.NEVER;
  }
}

export function invalidInput(error: z.ZodError, target: InputTarget = "json"): ApiError {
  const issue = error.issues[0];
  const whole = target === "json" ? "body" : target;
  if (!issue) return badInput(whole, "invalid");
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys") {
    // "recipient: unknown field", so a typo names itself rather than its parent object.
    const name = [...path, issue.keys[0] ?? ""].join(".").slice(0, 60);
    const fallback = target === "query" ? "unknown parameter" : "unknown field";
    return badInput(name, issue.message.startsWith("Unrecognized") ? fallback : issue.message);
  }
  if (path.length > 0) return badInput(path.join("."), issue.message);
  return badInput(whole, issue.code === "invalid_type" && target === "json" ? "must be a JSON object" : issue.message);
}

/** Parse with `schema` or throw the 400 above (for callers outside the /api router: pages, forms). */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, target: InputTarget = "json"): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw invalidInput(parsed.error, target);
  return parsed.data;
}

/**
 * One query-string value. Query strings may repeat a name (`model=a&model=b`), which arrives as
 * an array: refused rather than silently meaning one of them.
 */
export const queryText = () =>
  z.string({ error: (iss) => (iss.input === undefined ? "is required" : Array.isArray(iss.input) ? "given more than once" : "must be a string") });

/** A query string that refuses names it does not know, so a typo (groupby=) is not silently ignored. */
export function strictQuery<Shape extends z.ZodRawShape>(shape: Shape) {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, { error: (iss) => (iss.code === "unrecognized_keys" ? `unknown parameter (allowed: ${allowed})` : undefined) });
}

/** A JSON body object that refuses fields it does not know (a typo such as "recipient"). */
export function strictBody<Shape extends z.ZodRawShape>(shape: Shape) {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, { error: (iss) => (iss.code === "unrecognized_keys" ? `unknown field (allowed: ${allowed})` : undefined) });
}
