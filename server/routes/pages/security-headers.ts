import type { MiddlewareHandler } from "hono";
import { isPagePath } from "./page-env.ts";

// No inline script or style anywhere, so the policy needs no 'unsafe-inline': charts read their
// data from data- attributes and are drawn by /static/app-*.js; widths come from classes or
// <meter>. img-src allows data: for Pico's inline SVG icons (checkboxes, selects).
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join("; ");

export const securityHeaders: MiddlewareHandler = async (c, next) => {
  if (!isPagePath(c.req.path)) return next();
  await next();
  c.res.headers.set("content-security-policy", CONTENT_SECURITY_POLICY);
  c.res.headers.set("x-content-type-options", "nosniff");
  c.res.headers.set("referrer-policy", "same-origin");
  c.res.headers.set("x-frame-options", "DENY");
};
