// Writing a command's answer: JSON (pretty, one document) or the human form, and small helpers
// for tables. Every line the CLI writes goes through writeLine or writeErrorLine, which make it
// safe for a terminal: file names, branches, titles, agent messages and git's errors come from
// repositories and agents, and an escape sequence in them must reach the screen as text, never
// as a command to the terminal. Writes go straight to process.stdout; the process ends only once
// they are flushed (see run.ts), so a large answer reaches a pipe whole.
import { randomBytes } from "node:crypto"
import * as Effect from "effect/Effect"
import { globalOptions } from "./globals.ts"

/**
 * What a terminal may act on rather than show: C0 controls but tab and line feed (ESC starts
 * every escape sequence; BEL ends OSC ones; BS and a lone CR overwrite what is shown), DEL, the
 * C1 controls (U+009B is a one-character CSI), the line and paragraph separators, and the bidi
 * controls, which reorder how a line reads (a file name that shows as another).
 */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]|\r(?!\n)/gu

/**
 * `text` with each character a terminal could act on written as its `\uXXXX` escape. The escape
 * is also JSON's, and such characters sit only inside strings of JSON.stringify's output, so JSON
 * stays exact JSON (the same value) and one function serves both forms. Idempotent.
 */
export const terminalSafe = (text: string) =>
  text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

export const writeLine = (line: string) => {
  process.stdout.write(`${terminalSafe(line)}\n`)
}

/** A line on stderr (errors, warnings, progress notes), as safe as writeLine's. */
export const writeErrorLine = (line: string) => {
  process.stderr.write(`${terminalSafe(line)}\n`)
}

/** Prints `value` as JSON with --json, else `render(value)` (nothing when it renders as ""). */
export const print = <A>(value: A, render: (value: A) => string) =>
  Effect.gen(function* () {
    const { json } = yield* globalOptions
    const text = json ? JSON.stringify(value, null, 2) : render(value)
    if (text !== "") writeLine(text)
  })

/** Rows under a header, columns padded to their widest cell. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) => {
  // Escaped before measuring, so a cell's width is the width it shows with.
  const all = [header, ...rows].map((row) => row.map((cell) => terminalSafe(cell)))
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? "").length)))
  return all
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd()
    )
    .join("\n")
}

/** "3m", "2h", "5d" since an ISO timestamp. */
export const age = (iso: string, now = Date.now()) => {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000))
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`
  return `${Math.floor(seconds / 86_400)}d`
}

export const commandId = (prefix: string) => `${prefix}-${randomBytes(6).toString("hex")}`
