import { OpenAPIHono, z, type Hook } from "@hono/zod-openapi";
import type { Env, MiddlewareHandler } from "hono";
import { badInput, invalidInput, type InputTarget } from "../validation.ts";

// What every /api router shares: the defaultHook that turns a failed zod check into today's 400,
// the response helpers and the JSON body reader. Routes are declared with createRoute, so the
// OpenAPI document (GET /api/openapi.json) is generated from the same schemas that validate.

/** The one place a validation failure becomes an error: thrown, so app.onError shapes it. */
const rejectInvalidInput: Hook<unknown, Env, string, undefined> = (result) => {
  if (!result.success) throw invalidInput(result.error, result.target as InputTarget);
};

export function apiRouter(): OpenAPIHono {
  return new OpenAPIHono({ defaultHook: rejectInvalidInput });
}

const errorSchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      code: z.union([z.string(), z.number(), z.null()]),
      request_id: z.string().optional().meta({ description: "Repeats the response's x-request-id header" }),
    }),
  })
  .meta({ description: "OpenAI-shaped error" });

const ERROR_DESCRIPTIONS = {
  400: "Invalid input: the message starts with the parameter or field at fault (\"from: …\")",
  401: "Missing or wrong admin token",
  404: "No such resource",
  502: "The report email could not be sent",
} as const;

/** Error responses a route documents, all `{error:{message,type,code,request_id}}`. */
export function errors<S extends keyof typeof ERROR_DESCRIPTIONS>(...statuses: S[]) {
  const response = (status: keyof typeof ERROR_DESCRIPTIONS) => json(errorSchema, ERROR_DESCRIPTIONS[status]);
  const responses = { 400: response(400), 401: response(401) } as Record<400 | 401 | S, ReturnType<typeof response>>;
  for (const status of statuses) responses[status] = response(status);
  return responses;
}

export function json<S extends z.ZodType>(schema: S, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/** A next_cursor value, or null on the last page. */
export const nextCursor = z.string().nullable().meta({ description: "Pass back as `cursor` for the next (older) page; null on the last page" });

/**
 * A JSON body, documented under `application/json` and read whatever Content-Type says
 * (`curl -d` sends form-urlencoded; tollbooth has always parsed the body as JSON, and an empty
 * optional body means "no input"). The library's own body validator would answer 415 to the
 * former and fail on the latter, so the body is read here and checked by the same zod schema and
 * the same rejectInvalidInput; the handler finds it in `c.var.body`.
 */
export function jsonBody<S extends z.ZodType>(schema: S, opts: { description: string; optional?: boolean }) {
  const validate: MiddlewareHandler<{ Variables: { body: z.output<S> } }> = async (c, next) => {
    const text = await c.req.text();
    let value: unknown;
    if (opts.optional && text.trim() === "") value = undefined;
    else {
      try {
        value = JSON.parse(text);
      } catch {
        throw badInput("body", "must be valid JSON");
      }
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw invalidInput(parsed.error, "json"); // the defaultHook's rule, for the body
    c.set("body", parsed.data as z.output<S>);
    await next();
  };
  // Documented as plain JSON Schema (zod's own rendering of the same schema, not the schema
  // itself), so the library adds no body validator of its own.
  const { $schema: _dialect, ...documented } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return {
    request: { body: { description: opts.description, required: !opts.optional, content: { "application/json": { schema: documented as object } } } },
    middleware: validate,
  };
}
