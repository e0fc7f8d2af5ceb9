// The last lines an agent's process wrote to stderr, kept to say why it stopped: colour codes
// (Codex logs with ANSI colours) and blank lines dropped, at most `max` lines. It reads nothing
// itself; the adapter feeds it the decoded stream.
import { LineSplitter } from "../../setup/lineSplitter.ts"

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, "g")

/** Lines are cut to this many characters (a panic's backtrace line can be huge). */
const MAX_LINE = 2_000

export interface StderrTail {
  readonly push: (chunk: string) => void
  /** The stream ended: its last line, unfinished, counts too. */
  readonly end: () => void
  readonly lines: () => ReadonlyArray<string>
}

export const makeStderrTail = (max: number): StderrTail => {
  const splitter = new LineSplitter()
  const tail: Array<string> = []
  const keep = (lines: ReadonlyArray<string>) => {
    for (const raw of lines) {
      const line = raw.replace(ANSI, "").trimEnd().slice(0, MAX_LINE)
      if (line.trim() === "") continue
      tail.push(line)
      if (tail.length > max) tail.shift()
    }
  }
  return {
    push: (chunk) => keep(splitter.push(chunk)),
    end: () => keep(splitter.flush()),
    lines: () => [...tail]
  }
}
