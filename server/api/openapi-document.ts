import type { OpenAPIHono } from "@hono/zod-openapi";

const OPENAPI_PATH = "/openapi.json";

const DOCUMENT_INFO = {
  openapi: "3.1.0",
  info: {
    title: "tollbooth API",
    version: "1",
    description: "Usage, spend, prices, recorded requests, jobs and report emails. Errors use OpenAI's shape {error:{message,type,code}}.",
  },
  servers: [{ url: "/api" }],
  security: [{ adminToken: [] }],
};

/**
 * GET /api/openapi.json: the OpenAPI 3.1 description of every /api route, generated from the
 * zod schemas that validate their input and describe their answers. Behind the admin token like
 * the rest of /api. Call after every route is mounted: the document covers what `api` holds,
 * and is generated once, on the first request (routes do not change afterwards).
 */
export function serveOpenApiDocument(api: OpenAPIHono): void {
  api.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
    type: "http",
    scheme: "bearer",
    description: "The server's ADMIN_TOKEN",
  });
  let document: ReturnType<OpenAPIHono["getOpenAPI31Document"]> | undefined;
  api.get(OPENAPI_PATH, (c) => c.json((document ??= api.getOpenAPI31Document(DOCUMENT_INFO))));
}
