// Live progress of a thread for a person: workspace, setup output as it streams (with the elapsed
// time), the agent's session, its messages, commands and file changes, approval requests with how
// to answer them, and how the turn ended (or, for scripts, the events as JSON lines). It reads the
// event stream; it decides nothing.
import type { SpindleEvent, ThreadId, TurnItem } from "@spindle/contracts"
import { threadOfEvent } from "@spindle/read-model/readModel"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { CliFailure, EXIT } from "./errors.ts"
import { writeErrorLine } from "./output.ts"
import type { SpindleClient } from "./rpcClient.ts"
import { DECLINE_ENDS_TURN, noticeLine } from "./threadView.ts"

export type FollowEnd =
  | "turn-requested"
  | "turn-completed"
  | "turn-failed"
  | "turn-interrupted"
  | "setup-failed"
  | "bootstrap-failed"
  | "setup-finished"
  /** Archived (taken out of the queue, say) before its turn ended. */
  | "archived"

const indent = (text: string, prefix = "  │ ") =>
  text
    .replace(/\n+$/, "")
    .split("\n")
    .map((line) => `${prefix}${line}`)
    .join("\n")

const lastLines = (text: string, n: number) => text.replace(/\n+$/, "").split("\n").slice(-n).join("\n")

/** One line (or a few) for an item of the agent's turn; nothing for the ones not worth a line. */
const describeItem = (phase: string, item: TurnItem): string | undefined => {
  switch (item.kind) {
    case "agent-message":
      return phase === "completed" && item.text ? indent(item.text, "  agent: ") : undefined
    case "reasoning":
      return phase === "completed" && item.text ? `  … ${item.text.split("\n")[0]}` : undefined
    case "command":
      if (phase === "started") return `  $ ${item.command ?? ""}`
      if (phase === "completed") {
        const output = item.output ? `\n${indent(lastLines(item.output, 5))}` : ""
        const code =
          item.exitCode === undefined || item.exitCode === null
            ? (item.status ?? "done")
            : `exit ${item.exitCode}`
        return `  ${item.exitCode === 0 ? "✓" : "✗"} ${code}${output}`
      }
      return undefined
    case "file-change":
      return phase === "completed"
        ? (item.changes ?? [])
            .map((c) => `  ✎ ${c.kind} ${c.path}${item.status === "completed" ? "" : ` (${item.status})`}`)
            .join("\n") || undefined
        : undefined
    case "tool-call":
      return phase === "completed"
        ? `  ⚙ ${item.server ?? "?"}.${item.tool ?? "?"} ${item.status ?? ""}${item.error ? `: ${item.error}` : ""}`
        : undefined
    default:
      return undefined
  }
}

/** One line per step of the thread; setup output is printed as it comes. */
export const describeEvent = (event: SpindleEvent, startedAt: number, now: number): string | undefined => {
  const elapsed = `${((now - startedAt) / 1000).toFixed(1)}s`
  switch (event.type) {
    case "thread.created":
      return `● thread ${event.payload.thread.id} created (${event.payload.thread.workspace.mode})`
    case "thread.queued":
      return `● thread ${event.payload.thread.id} queued: waiting for ${event.payload.waitsFor.kind} (limit ${event.payload.waitsFor.limit}); it starts when a slot frees`
    case "thread.dequeued":
      return `● left the queue: starting [${elapsed}]`
    case "thread.archived":
      return "● archived"
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
      return `● turn requested [${elapsed}]`
    case "thread.turn-steer-requested":
      return "● prompt sent to the running turn"
    case "thread.turn-interrupt-requested":
      return "● interrupt requested"
    case "thread.session-changed":
      return event.payload.status === "error"
        ? `✗ agent session failed: ${event.payload.error ?? "unknown error"}`
        : event.payload.status === "running"
          ? `● agent session running [${elapsed}]`
          : event.payload.status === "stopped" && event.payload.reason !== undefined
            ? `● agent session stopped: ${event.payload.reason}`
            : undefined
    case "thread.turn-started":
      return `● agent working [${elapsed}]`
    case "thread.turn-item":
      return describeItem(event.payload.phase, event.payload.item)
    case "thread.approval-requested": {
      const { approval } = event.payload
      const what = approval.kind === "command" ? `run ${approval.command ?? "a command"}` : "change files"
      return [
        `? the agent asks to ${what}${approval.reason ? ` (${approval.reason})` : ""}`,
        `  answer: spindle thread approve ${event.payload.threadId} ${approval.requestId}   (or decline${approval.declineEndsTurn === true ? `; ${DECLINE_ENDS_TURN}` : ""})`
      ].join("\n")
    }
    case "thread.approval-resolved":
      return `  approval ${event.payload.requestId}: ${event.payload.outcome}`
    case "thread.turn-ended":
      return event.payload.status === "completed"
        ? `● turn completed [${elapsed}]`
        : `✗ turn ${event.payload.status}${event.payload.reason ? `: ${event.payload.reason}` : ""} [${elapsed}]`
    case "thread.agent-noticed":
      return `  ${noticeLine(event.payload.notice)}`
    case "thread.turn-stalled":
      return `⚠ turn stalled: no progress from the agent since ${event.payload.since} [${elapsed}]`
    case "thread.bootstrap-failed":
      return `✗ bootstrap failed at ${event.payload.stage}: ${event.payload.error.message}`
    default:
      return undefined
  }
}

export interface FollowOptions {
  /** One JSON line per event (and per setup output line) instead of the human lines. */
  readonly json?: boolean
  /** End when the next setup run ends (`setup rerun --follow`). */
  readonly untilSetupFinished?: boolean
  /** End once the turn is requested, not when it ends (a server that runs no agent). */
  readonly untilTurnRequested?: boolean
}

/**
 * Prints the thread's progress from `fromSequence` until its turn ends (or its bootstrap or setup
 * fails; or, with the options, its next setup run ends, or its turn is requested), streaming setup
 * output meanwhile.
 */
export const followThread = (
  client: SpindleClient,
  threadId: string,
  fromSequence: number,
  write: (line: string) => void,
  options: FollowOptions = {}
) =>
  Effect.gen(function* () {
    const startedAt = Date.now()
    let end: FollowEnd | undefined
    let logs: Fiber.Fiber<void, unknown> | undefined
    const ends = (event: SpindleEvent): FollowEnd | undefined => {
      switch (event.type) {
        case "thread.bootstrap-failed":
          return "bootstrap-failed"
        case "thread.archived":
          return "archived"
        case "thread.setup-completed": {
          const passed = event.payload.status === "succeeded" || event.payload.status === "no-script"
          if (options.untilSetupFinished) return "setup-finished"
          return passed ? undefined : "setup-failed"
        }
        case "thread.turn-start-requested":
          return options.untilTurnRequested ? "turn-requested" : undefined
        case "thread.turn-ended":
          return options.untilSetupFinished ? undefined : `turn-${event.payload.status}`
        default:
          return undefined
      }
    }
    // Setup output of the run in progress: lines printed so far (blank ones are not counted, as a
    // log's text is printed without them), so its end is completed from the log, never waited for.
    let printed = 0
    const writeSetupLine = (run: number | null, line: string, stream?: string) => {
      if (line !== "") printed++
      if (options.json)
        write(
          JSON.stringify({
            type: "setup.output",
            threadId,
            run,
            ...(stream === undefined ? {} : { stream }),
            line
          })
        )
      else write(`  │ ${line}`)
    }
    const setupLog = client["thread.streamSetupLog"]({ threadId: threadId as ThreadId })
    yield* client["orchestration.subscribe"]({ fromSequence }).pipe(
      Stream.filter((event) => threadOfEvent(event) === threadId),
      Stream.takeUntil((event) => {
        const reached = ends(event)
        if (reached !== undefined) end = reached
        return reached !== undefined
      }),
      Stream.runForEach((event) =>
        Effect.gen(function* () {
          // The run's output ends before its completion is printed, so lines stay in order. The live
          // lines may have ended before this follow subscribed to them: whatever was not printed yet
          // comes from the run's log, which is whole once its completion is recorded.
          if (event.type === "thread.setup-completed" && logs !== undefined) {
            yield* Fiber.interrupt(logs)
            logs = undefined
            yield* setupLog.pipe(
              Stream.runForEach((item) =>
                Effect.sync(() => {
                  const lines = item.kind === "log" ? item.text.split("\n").filter((text) => text !== "") : []
                  for (const line of lines.slice(printed)) writeSetupLine(item.run, line)
                })
              ),
              Effect.ignore
            )
          }
          const line = options.json ? JSON.stringify(event) : describeEvent(event, startedAt, Date.now())
          if (line !== undefined) write(line)
          if (event.type === "thread.setup-started") {
            // Setup output, as it streams, until that run ends.
            printed = 0
            logs = yield* setupLog.pipe(
              Stream.runForEach((item) =>
                Effect.sync(() => {
                  if (item.kind === "log") {
                    for (const text of item.text.split("\n")) if (text !== "") writeSetupLine(item.run, text)
                  } else writeSetupLine(item.run, item.line, item.stream)
                })
              ),
              Effect.forkChild
            )
          }
        })
      )
    )
    return end ?? "turn-requested"
  }).pipe(
    // Ctrl-C stops the watching, not the work.
    Effect.onInterrupt(() => Effect.sync(() => writeErrorLine(stillGoing(threadId))))
  )

/** What Ctrl-C while starting or following a thread leaves behind, and how to get back to it. */
export const stillGoing = (threadId: string) =>
  `\nspindle: stopped following; thread ${threadId} goes on on the server. Re-attach with 'spindle thread follow ${threadId}', or see it with 'spindle thread show ${threadId}'.`

/** A followed turn that did not complete is a failure for scripts (exit 1), with what to do next. */
export const failedTurn = (end: FollowEnd, threadId: string) =>
  end === "turn-failed" ||
  end === "turn-interrupted" ||
  end === "setup-failed" ||
  end === "bootstrap-failed" ||
  end === "archived"
    ? Effect.fail(
        new CliFailure({
          code: EXIT.failed,
          reason: end,
          message: `${end.replace("-", " ")}. See 'spindle thread show ${threadId}'; send another prompt with 'spindle thread send ${threadId} --prompt …'.`,
          details: { threadId }
        })
      )
    : Effect.void
