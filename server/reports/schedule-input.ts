import { z } from "zod";
import { isValidTimeZone } from "../time.ts";
import { parseInput } from "../validation.ts";
import { REPORT_PERIODS } from "./schedule.ts";

// Validation of POST/PATCH /api/reports bodies (and the /reports form). Every failure is a 400
// whose message starts with the field it is about, unknown fields included, so a typo such as
// "recipient" is refused instead of silently ignored.

export const REPORT_KINDS = ["spend", "failures"] as const;

const MAX_RECIPIENTS = 50;

// Names and filter values end up in subject lines: no control characters (CR/LF above all).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this rejects.
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;
const filterValue = z.string().trim().min(1, "must not be empty").max(256, "must be at most 256 characters").regex(NO_CONTROL, "must not contain control characters");

const scheduleFields = {
  name: z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters").regex(NO_CONTROL, "must not contain control characters"),
  kind: z.enum(REPORT_KINDS, { error: `must be one of ${REPORT_KINDS.join(", ")}` }),
  period: z.enum(REPORT_PERIODS, { error: `must be one of ${REPORT_PERIODS.join(", ")}` }),
  send_at: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour local time "HH:MM", e.g. "09:00"'),
  timezone: z.string().refine(isValidTimeZone, "must be an IANA time zone name, e.g. Europe/London, America/New_York, UTC"),
  // z.email() refuses CR/LF, so an address can never smuggle extra mail headers in.
  recipients: z
    .array(z.email("must be an email address such as finance@example.com").max(254))
    .min(1, "must list at least one address")
    .max(MAX_RECIPIENTS, `must list at most ${MAX_RECIPIENTS} addresses`)
    // Duplicates (ignoring case) are dropped; the spelling given first is kept.
    .transform((list) => list.filter((a, i) => list.findIndex((b) => b.toLowerCase() === a.toLowerCase()) === i)),
  filter: z
    .strictObject({ team: filterValue.optional(), project: filterValue.optional(), model: filterValue.optional() })
    .nullable()
    .transform((f) => (f && Object.keys(f).length > 0 ? f : null)),
  enabled: z.boolean({ error: "must be true or false" }),
};

export const scheduleInputSchema = z.strictObject({
  ...scheduleFields,
  filter: scheduleFields.filter.optional().default(null),
  enabled: scheduleFields.enabled.optional().default(true),
});
const patchSchema = z.strictObject(scheduleFields).partial();

export type ScheduleInput = z.infer<typeof scheduleInputSchema>;
export type SchedulePatch = z.infer<typeof patchSchema>;
export type ReportFilter = NonNullable<ScheduleInput["filter"]>;

/** Body of PATCH /api/reports/:id: any of the fields, at least one. */
export const schedulePatchSchema = patchSchema.refine((patch) => Object.keys(patch).length > 0, `give at least one of ${Object.keys(scheduleFields).join(", ")}`);

/** Body of POST /api/reports/:id/send: nothing (last complete period) or both from and to. */
export const sendRangeSchema = z
  .strictObject({ from: z.string(), to: z.string() })
  .partial()
  .optional()
  .transform((range, ctx) => {
    const given = range ?? {};
    if ((given.from === undefined) !== (given.to === undefined)) {
      ctx.addIssue({ code: "custom", path: [given.from === undefined ? "from" : "to"], message: "give both from and to, or neither" });
    }
    return given;
  });

export function parseScheduleInput(body: unknown): ScheduleInput {
  return parseInput(scheduleInputSchema, body);
}
