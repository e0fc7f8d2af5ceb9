// The thread subcommands that talk to its agent: send a prompt (a new turn, or into the running
// one), interrupt the turn, and approve or decline what the agent asks. Thin: one command each,
// then the thread's state (or, with --follow, its progress until the turn ends).
import type { ApprovalDecision, Thread, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { commandId, failedTurn, parse, str, write } from "./commands.ts"
import { ExitWith, runWithClient } from "./connect.ts"
import { followThread } from "./follow.ts"
import { EXIT, UsageError } from "./usage.ts"

/** `spindle thread send <id> --prompt TEXT [--follow]` */
export const sendCommand = (args: ReadonlyArray<string>) => {
  const { values, positionals, global } = parse(
    args,
    { prompt: { type: "string" }, follow: { type: "boolean" } },
    1
  )
  const prompt = str(values, "prompt")
  if (prompt === undefined) throw new UsageError("thread send needs --prompt <text>.")
  const threadId = positionals[0]! as ThreadId
  const turnId = commandId("turn")
  const follow = values.follow === true && !global.json
  return runWithClient(
    global,
    (client) =>
      Effect.gen(function* () {
        const status = yield* client["server.getStatus"]()
        const progress = follow
          ? yield* Effect.forkChild(
              followThread(client, threadId, status.sequence, write, {
                untilTurnRequested: status.providers === false
              })
            )
          : undefined
        yield* client["orchestration.dispatchCommand"]({
          command: { type: "thread.turn.start", commandId: turnId, threadId, prompt, turnId }
        }).pipe(Effect.tapError(() => (progress === undefined ? Effect.void : Fiber.interrupt(progress))))
        if (progress !== undefined) yield* failedTurn(yield* Fiber.join(progress), threadId)
        const thread = yield* client["thread.get"]({ threadId })
        // The server steers a running turn (Codex) instead of starting another.
        return { thread, steered: thread.latestTurn?.turnId !== turnId }
      }),
    ({ thread, steered }) =>
      steered
        ? `Sent to the running turn ${thread.latestTurn?.turnId} of ${thread.id}.`
        : `Turn ${thread.latestTurn?.turnId} of ${thread.id}: ${thread.latestTurn?.status}.`
  )
}

/** `spindle thread interrupt <id>` */
export const interruptCommand = (args: ReadonlyArray<string>) => {
  const { positionals, global } = parse(args, {}, 1)
  const threadId = positionals[0]! as ThreadId
  return runWithClient(
    global,
    (client) =>
      Effect.gen(function* () {
        yield* client["orchestration.dispatchCommand"]({
          command: { type: "thread.turn.interrupt", commandId: commandId("interrupt"), threadId }
        })
        return yield* client["thread.get"]({ threadId })
      }),
    (thread) => `Interrupt requested for turn ${thread.latestTurn?.turnId} of ${thread.id}.`
  )
}

/** The request to answer: the one given, or the only one waiting. */
const pickRequest = (thread: Thread, given: string | undefined) => {
  if (given !== undefined) return given
  const waiting = thread.pendingApprovals
  if (waiting.length === 1) return waiting[0]!.requestId
  throw new ExitWith({
    code: waiting.length === 0 ? EXIT.failed : EXIT.usage,
    message:
      waiting.length === 0
        ? `thread ${thread.id} has no approval request waiting.`
        : `thread ${thread.id} has ${waiting.length} approval requests waiting; name one: ${waiting.map((a) => a.requestId).join(", ")}.`
  })
}

/** `spindle thread approve|decline <id> [<request>] [--for-session]` */
export const approvalCommand = (args: ReadonlyArray<string>, verb: "approve" | "decline") => {
  const { values, positionals, global } = parse(args, { "for-session": { type: "boolean" } }, [1, 2])
  if (verb === "decline" && values["for-session"] === true)
    throw new UsageError("--for-session applies to approve only.")
  const threadId = positionals[0]! as ThreadId
  const decision: ApprovalDecision =
    verb === "decline" ? "decline" : values["for-session"] === true ? "accept-for-session" : "accept"
  return runWithClient(
    global,
    (client) =>
      Effect.gen(function* () {
        const thread = yield* client["thread.get"]({ threadId })
        const requestId = yield* Effect.try({
          try: () => pickRequest(thread, positionals[1]),
          catch: (error) => error
        })
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
      }),
    ({ requestId }) => `${verb === "approve" ? "Approved" : "Declined"} ${requestId} of ${threadId}.`
  )
}
