// A thread's setup log as a client reads it: the current (or last) run's text so far, then its
// live lines while a run is going on or about to start. Which run that is, is decided here from
// the thread and the live runs, so every transport shows the same thing.
import type { SpindleError, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { Engine } from "../engine/Engine.ts"
import { threadNotFound } from "../engine/notFound.ts"
import type { SetupScripts } from "./SetupScripts.ts"

export const setupLogStream = (
  engine: Engine["Service"],
  setupScripts: SetupScripts["Service"],
  threadId: ThreadId
) =>
  Stream.unwrap(
    Effect.gen(function* () {
      const thread = yield* engine.getThread(threadId)
      if (thread === undefined) return yield* Effect.fail<SpindleError>(threadNotFound(threadId))
      const follow = yield* setupScripts.follow(threadId)
      const live =
        follow.run !== null || thread.setup.status === "running" || thread.setup.status === "pending"
      // Nothing running or about to: the last run's file, if any, is the whole log.
      const run = follow.run ?? (live ? thread.setup.runs : thread.setup.runs > 0 ? thread.setup.runs : null)
      const text =
        follow.run === null && !live && run !== null
          ? yield* setupScripts.readLog(threadId, run).pipe(Effect.orElseSucceed(() => ""))
          : follow.logSoFar
      const head = Stream.make({ kind: "log" as const, run, text })
      if (!live) return head
      return Stream.concat(
        head,
        Stream.map(follow.lines, (line) => ({ kind: "line" as const, ...line }))
      )
    })
  )
