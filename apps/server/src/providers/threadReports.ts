// One report recorder per thread (created on first use, living in the given scope), and the
// reports the provider service itself makes: a turn's end, a session's change.
import type { ProviderReport, ThreadId, TurnId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import type { Engine } from "../engine/Engine.ts"
import { makeReportRecorder, type ReportRecorder } from "./reportRecorder.ts"

export const sessionChanged = (
  status: "starting" | "running" | "stopped" | "error",
  providerSessionId: string | null,
  resumeCursor: string | null,
  error: string | null = null,
  reason?: string
): ProviderReport => ({
  type: "session-changed",
  status,
  providerSessionId,
  resumeCursor,
  error,
  ...(reason === undefined ? {} : { reason })
})

export const makeThreadReports = (
  engine: Engine["Service"],
  scope: Scope.Scope,
  sessionIdOf: (threadId: ThreadId) => string
) =>
  Effect.sync(() => {
    const recorders = new Map<ThreadId, ReportRecorder>()

    const recorderFor = (threadId: ThreadId) =>
      Effect.gen(function* () {
        const existing = recorders.get(threadId)
        if (existing !== undefined) return existing
        const recorder = yield* makeReportRecorder(engine, threadId, () => sessionIdOf(threadId)).pipe(
          Scope.provide(scope)
        )
        recorders.set(threadId, recorder)
        return recorder
      })

    /** Queues a report behind whatever the thread's session reported before. */
    const record = (threadId: ThreadId, ...reports: ReadonlyArray<ProviderReport>) =>
      Effect.flatMap(recorderFor(threadId), (recorder) => recorder.record(...reports))

    /** Records reports in order behind the session's own; answers once they are in the log. */
    const report = (threadId: ThreadId, ...reports: ReadonlyArray<ProviderReport>) =>
      Effect.gen(function* () {
        const recorder = yield* recorderFor(threadId)
        yield* recorder.record(...reports)
        yield* recorder.flush
      })

    const endTurn = (threadId: ThreadId, turnId: TurnId, status: "failed" | "interrupted", reason: string) =>
      report(threadId, { type: "turn-ended", turnId, status, reason })

    return { record, report, endTurn }
  })

export type ThreadReports = Effect.Success<ReturnType<typeof makeThreadReports>>
