// Live progress of a thread for a person: workspace, setup output as it streams (with the elapsed
// time), the turn, and the final state. It reads the event stream; it decides nothing.
import type { SpindleEvent, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import type { SpindleClient } from "./rpcClient.ts"

const threadOf = (event: SpindleEvent): string | undefined =>
  "threadId" in event.payload
    ? event.payload.threadId
    : "thread" in event.payload
      ? event.payload.thread.id
      : undefined

export type FollowEnd = "turn-requested" | "setup-failed" | "bootstrap-failed" | "setup-finished"

/** One line per step of the thread; setup output is printed as it comes. */
export const describeEvent = (event: SpindleEvent, startedAt: number, now: number): string | undefined => {
  const elapsed = `${((now - startedAt) / 1000).toFixed(1)}s`
  switch (event.type) {
    case "thread.created":
      return `● thread ${event.payload.thread.id} created (${event.payload.thread.workspace.mode})`
    case "thread.workspace-prepared": {
      const { branch, worktreePath } = event.payload.workspace
      const warnings = event.payload.warnings.map((w) => `\n  ! ${w}`).join("")
      return `● workspace ready: ${worktreePath}${branch === null ? "" : ` on ${branch}`} [${elapsed}]${warnings}`
    }
    case "thread.setup-started":
      return `● setup run ${event.payload.run} started (log: ${event.payload.logPath})`
    case "thread.setup-completed":
      return `● setup ${event.payload.status}${event.payload.exitCode === null ? "" : ` (exit ${event.payload.exitCode})`} [${elapsed}]`
    case "thread.turn-start-requested":
      return `● first turn requested [${elapsed}]`
    case "thread.bootstrap-failed":
      return `✗ bootstrap failed at ${event.payload.stage}: ${event.payload.error.message}`
    default:
      return undefined
  }
}

/**
 * Prints the thread's progress from `fromSequence` until its bootstrap ends (or, with
 * `untilSetupFinished`, its next setup run ends), streaming setup output meanwhile.
 */
export const followThread = (
  client: SpindleClient,
  threadId: string,
  fromSequence: number,
  write: (line: string) => void,
  options: { readonly untilSetupFinished?: boolean } = {}
) =>
  Effect.gen(function* () {
    const startedAt = Date.now()
    let end: FollowEnd | undefined
    let logs: Fiber.Fiber<void, unknown> | undefined
    yield* client["orchestration.subscribe"]({ fromSequence }).pipe(
      Stream.filter((event) => threadOf(event) === threadId),
      Stream.takeUntil((event) => {
        if (event.type === "thread.turn-start-requested") end = "turn-requested"
        else if (event.type === "thread.bootstrap-failed") end = "bootstrap-failed"
        else if (
          event.type === "thread.setup-completed" &&
          event.payload.status !== "succeeded" &&
          event.payload.status !== "no-script"
        ) {
          end = options.untilSetupFinished ? "setup-finished" : "setup-failed"
        } else if (event.type === "thread.setup-completed" && options.untilSetupFinished)
          end = "setup-finished"
        else if (event.type === "thread.bootstrap-completed" && end === undefined) end = "turn-requested"
        return end !== undefined && end !== "turn-requested"
          ? true
          : event.type === "thread.turn-start-requested" || event.type === "thread.bootstrap-completed"
      }),
      Stream.runForEach((event) =>
        Effect.gen(function* () {
          // The run's output ends before its completion is printed, so lines stay in order.
          if (event.type === "thread.setup-completed" && logs !== undefined) {
            yield* Fiber.join(logs).pipe(Effect.timeout("5 seconds"), Effect.ignore)
            logs = undefined
          }
          const line = describeEvent(event, startedAt, Date.now())
          if (line !== undefined) write(line)
          if (event.type === "thread.setup-started") {
            // Setup output, as it streams, until that run ends.
            logs = yield* client["thread.streamSetupLog"]({ threadId: threadId as ThreadId }).pipe(
              Stream.runForEach((item) =>
                Effect.sync(() => {
                  if (item.kind === "log") {
                    for (const text of item.text.split("\n")) if (text !== "") write(`  │ ${text}`)
                  } else write(`  │ ${item.line}`)
                })
              ),
              Effect.forkChild
            )
          }
        })
      )
    )
    return end ?? "turn-requested"
  })
