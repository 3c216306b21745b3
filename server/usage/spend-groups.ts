// What the spend page can group by, with the labels its form shows, and how rows of two reports
// are matched for the comparison column. Page handler and view share these, so they live here.

/** "Group by" choices: the dimensions. */
export const GROUP_LABELS: Array<[string, string]> = [
  ["model", "Model"],
  ["team", "Team"],
  ["project", "Project"],
  ["user", "User"],
  ["key", "Key"],
];
/** "Then by" choices: nothing, a second dimension or a calendar period. */
export const THEN_LABELS: Array<[string, string]> = [["", "Nothing"], ...GROUP_LABELS, ["day", "Day"], ["week", "Week"], ["month", "Month"]];

/** Rows of two reports with the same group_by match on their group values. */
export function groupKey(group: Record<string, string | null>): string {
  return JSON.stringify(Object.values(group));
}
