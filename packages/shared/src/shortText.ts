// Long program output made short enough for an error message: its first and last lines with how
// many were left out between, and no line (nor the whole) longer than a bound, keeping both ends.
// Whoever shortens a text keeps the full one for the server log.

/** `text` at most `max` characters: its start and end around an ellipsis. */
export const keepEnds = (text: string, max: number): string => {
  if (text.length <= max) return text
  const half = Math.max(1, Math.floor((max - 3) / 2))
  return `${text.slice(0, half)} … ${text.slice(text.length - half)}`
}

export interface ShortTextOptions {
  /** Lines kept from the start and from the end. */
  readonly head?: number
  readonly tail?: number
  /** Longest line kept, and longest result. */
  readonly lineChars?: number
  readonly maxChars?: number
}

/** The text with its middle lines (and the middle of overlong lines) left out; unchanged when short. */
export const shortText = (text: string, options: ShortTextOptions = {}): string => {
  const { head = 6, tail = 6, lineChars = 300, maxChars = 4_000 } = options
  const lines = text.split("\n").map((line) => keepEnds(line, lineChars))
  const kept =
    lines.length <= head + tail + 1
      ? lines
      : [
          ...lines.slice(0, head),
          `… ${lines.length - head - tail} more lines (the full text is in the server log) …`,
          ...lines.slice(lines.length - tail)
        ]
  return keepEnds(kept.join("\n"), maxChars)
}
