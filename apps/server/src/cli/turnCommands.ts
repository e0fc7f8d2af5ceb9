// The thread subcommands that talk to its agent: send a prompt (a new turn, or into the running
// one), interrupt the turn, and approve or decline what the agent asks. Thin: one command each,
// then the thread (or, with --follow, its progress until the turn ends).
import type { ApprovalDecision, Thread, ThreadId } from "@spindle/contracts"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import { attachFlag, attachmentsOf } from "./attachFlag.ts"
import { withClient } from "./connect.ts"
import { CliFailure, EXIT } from "./errors.ts"
import { failedTurn, followThread } from "./follow.ts"
import { globalOptions } from "./globals.ts"
import { idArgument } from "./ids.ts"
import { commandId, print, writeLine } from "./output.ts"
import { endSentence, interruptAndWait } from "./turnStop.ts"

const threadIdArg = idArgument("thread", "The thread's id")

export const sendCommand = Command.make(
  "send",
  {
    thread: threadIdArg,
    prompt: Flag.String("prompt").pipe(Flag.withDescription("What to tell the agent")),
    attach: attachFlag("An image or text file given with the prompt"),
    follow: Flag.Boolean("follow").pipe(
      Flag.withDescription("Show its progress until the turn ends (--json: NDJSON)"),
      Flag.withDefault(false)
    )
  },
  ({ thread: id, prompt, attach, follow }) =>
    Effect.gen(function* () {
      const { json } = yield* globalOptions
      const attachments = yield* attachmentsOf(attach)
      const threadId = id as ThreadId
      const turnId = commandId("turn")
      const result = yield* withClient((client) =>
        Effect.gen(function* () {
          const status = yield* client["server.getStatus"]()
          const progress = follow
            ? yield* Effect.forkChild(
                followThread(client, threadId, status.sequence, writeLine, {
                  json,
                  untilTurnRequested: status.providers === false
                })
              )
            : undefined
          yield* client["orchestration.dispatchCommand"]({
            command: {
              type: "thread.turn.start",
              commandId: turnId,
              threadId,
              prompt,
              turnId,
              ...(attachments.length === 0 ? {} : { attachments })
            }
          }).pipe(Effect.onError(() => (progress === undefined ? Effect.void : Fiber.interrupt(progress))))
          if (progress !== undefined) yield* failedTurn(yield* Fiber.join(progress), threadId)
          const thread = yield* client["thread.get"]({ threadId })
          // The server steers a running turn (Codex) instead of starting another.
          return { thread, steered: thread.latestTurn?.turnId !== turnId }
        })
      )
      if (json) return writeLine(JSON.stringify(result.thread, null, follow ? undefined : 2))
      const { thread, steered } = result
      writeLine(
        steered
          ? `Sent to the running turn ${thread.latestTurn?.turnId} of ${thread.id}.`
          : `Turn ${thread.latestTurn?.turnId} of ${thread.id}: ${thread.latestTurn?.status}.`
      )
    })
).pipe(
  Command.withDescription("The next prompt: a new turn, or into the running turn when the agent can take it")
)

export const interruptCommand = Command.make("interrupt", { thread: threadIdArg }, ({ thread: id }) =>
  Effect.gen(function* () {
    const threadId = id as ThreadId
    const { before, after } = yield* withClient((client) =>
      Effect.gen(function* () {
        const before = yield* client["thread.get"]({ threadId })
        return { before, after: yield* interruptAndWait(client, threadId, before, "interrupt") }
      })
    )
    yield* print(after, (t) => endSentence(before, t))
  })
).pipe(Command.withDescription("Interrupt the thread's running turn; answers once it ended (at most 15 s)"))

/** The request to answer: the one given, or the only one waiting. */
const pickRequest = (thread: Thread, given: string | undefined) => {
  if (given !== undefined) return Effect.succeed(given)
  const waiting = thread.pendingApprovals
  if (waiting.length === 1) return Effect.succeed(waiting[0]!.requestId)
  return Effect.fail(
    new CliFailure({
      code: waiting.length === 0 ? EXIT.failed : EXIT.usage,
      reason: waiting.length === 0 ? "no-approval-waiting" : "usage",
      message:
        waiting.length === 0
          ? `thread ${thread.id} has no approval request waiting.`
          : `thread ${thread.id} has ${waiting.length} approval requests waiting; name one: ${waiting.map((a) => a.requestId).join(", ")}.`
    })
  )
}

const approval = (verb: "approve" | "decline") =>
  Command.make(
    verb,
    {
      thread: threadIdArg,
      request: Argument.String("request").pipe(
        Argument.withDescription("The request to answer (may be left out when only one waits)"),
        Argument.optional
      ),
      ...(verb === "approve"
        ? {
            forSession: Flag.Boolean("for-session").pipe(
              Flag.withDescription("Also allow the same for the rest of the session"),
              Flag.withDefault(false)
            )
          }
        : {})
    },
    (args) =>
      Effect.gen(function* () {
        const threadId = args.thread as ThreadId
        const forSession = "forSession" in args && args.forSession === true
        const decision: ApprovalDecision =
          verb === "decline" ? "decline" : forSession ? "accept-for-session" : "accept"
        const answered = yield* withClient((client) =>
          Effect.gen(function* () {
            const thread = yield* client["thread.get"]({ threadId })
            const requestId = yield* pickRequest(thread, Option.getOrUndefined(args.request))
            yield* client["orchestration.dispatchCommand"]({
              command: {
                type: "thread.approval.respond",
                commandId: commandId("approval"),
                threadId,
                requestId,
                decision
              }
            })
            return { threadId, requestId, decision }
          })
        )
        yield* print(
          answered,
          (r) => `${verb === "approve" ? "Approved" : "Declined"} ${r.requestId} of ${r.threadId}.`
        )
      })
  ).pipe(Command.withDescription(`${verb === "approve" ? "Approve" : "Decline"} what the agent asks`))

export const approveCommand = approval("approve")
export const declineCommand = approval("decline")
