// Every IANA zone the runtime knows, offered as suggestions; the server validates what comes back.
const ZONES = Intl.supportedValuesOf("timeZone");

export function TzField({ value }: { value: string }) {
  return (
    <label>
      Time zone
      <input type="text" name="tz" value={value} list="tz-list" autocomplete="off" spellcheck={false} />
      <datalist id="tz-list">
        {["UTC", ...ZONES.filter((z) => z !== "UTC")].map((z) => (
          <option value={z} />
        ))}
      </datalist>
    </label>
  );
}
