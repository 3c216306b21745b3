/** A labelled <select>; a value from the URL that is not among the options still shows, selected. */
export function SelectField({ label, name, options, value, hideLabel = false }: { label: string; name: string; options: Array<[string, string]>; value: string; hideLabel?: boolean }) {
  const all = options.some(([v]) => v === value) ? options : [...options, [value, value] as [string, string]];
  return (
    <label>
      {hideLabel ? <span class="sr-only">{label}</span> : label}
      <select name={name} aria-label={hideLabel ? label : undefined}>
        {all.map(([v, text]) => (
          <option value={v} selected={v === value}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}
