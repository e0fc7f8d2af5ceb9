// The last lines an agent's process wrote to stderr, kept to say why it stopped: colour codes
// (Codex logs with ANSI colours) and blank lines dropped, at most `max` lines. It reads nothing
// itself; the adapter feeds it the decoded stream, or `followStderr` reads a process's stderr into it.
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { LineSplitter } from "../setup/lineSplitter.ts"

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

/**
 * Reads a process's stderr into a tail, in the background of the scope. `done` completes once the
 * stream ended; `lastWords` is " Its last output:\n..." (or "") for an error message.
 */
export const followStderr = <E>(
  stderr: Stream.Stream<Uint8Array, E>,
  max: number,
  tail: StderrTail = makeStderrTail(max)
): Effect.Effect<
  { readonly tail: StderrTail; readonly done: Deferred.Deferred<void>; readonly lastWords: () => string },
  never,
  Scope.Scope
> =>
  Effect.gen(function* () {
    const done = yield* Deferred.make<void>()
    yield* Effect.forkScoped(
      stderr.pipe(
        Stream.decodeText,
        Stream.runForEach((chunk) => Effect.sync(() => tail.push(chunk))),
        Effect.ignore,
        Effect.ensuring(Effect.andThen(Effect.sync(tail.end), Deferred.succeed(done, undefined)))
      )
    )
    const lastWords = () => {
      const lines = tail.lines()
      return lines.length === 0 ? "" : ` Its last output:\n${lines.join("\n")}`
    }
    return { tail, done, lastWords }
  })
