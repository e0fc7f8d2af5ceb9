// Writing a command's answer: JSON (pretty, one document) or the human form, and small helpers
// for tables. Writes go straight to process.stdout; the process ends only once they are flushed
// (see main.ts), so a large answer reaches a pipe whole.
import { randomBytes } from "node:crypto"
import * as Effect from "effect/Effect"
import { globalOptions } from "./globals.ts"

export const writeLine = (line: string) => {
  process.stdout.write(`${line}\n`)
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
  const all = [header, ...rows]
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
