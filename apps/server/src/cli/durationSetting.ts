// A duration setting of `spindle serve` (a flag, a variable or a config.json value): a number
// with a unit (`500ms`, `30s`, `5m`, `2h`), a bare number of seconds, or 0 (or `off`) for never. Parsing only.

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const MAX_MS = 7 * 24 * 3_600_000

/** Milliseconds, or a message naming the setting and what it takes. */
export const parseDurationSetting = (
  name: string,
  value: string | number
): number | { readonly error: string } => {
  const text = String(value).trim()
  if (text.toLowerCase() === "off") return 0
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/u.exec(text)
  const ms = match === null ? Number.NaN : Number(match[1]) * (UNITS[match[2] ?? "s"] ?? Number.NaN)
  if (!Number.isFinite(ms) || ms > MAX_MS) {
    return {
      error: `${name} takes a duration such as 90s, 5m or 1h (a bare number is seconds; 0 or off means never; at most 7 days), got '${text}'.`
    }
  }
  return Math.round(ms)
}
