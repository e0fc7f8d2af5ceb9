// A parent hears about its children without polling: when a child's turn ends or its agent asks
// for an approval, the parent thread gets a `thread.child-notified` event with a notice written for
// its agent. Delivering it (into the parent's running turn, or with its next prompt, and on its MCP
// session) is the provider service's and the MCP endpoint's. Keyed by the child's event, so a
// notice is recorded once.
import type { ChildNotice, CommandId, SpindleEvent, Thread } from "@spindle/contracts"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { Engine } from "../engine/Engine.ts"

const quote = (text: string | null, max = 600) =>
  text === null || text.trim() === ""
    ? ""
    : ` Its last message: "${text.length > max ? `${text.slice(0, max)}…` : text}".`

/** The notice for a child's event, or none for events a parent need not hear about. */
export const noticeFor = (event: SpindleEvent, child: Thread): ChildNotice | undefined => {
  const who = `Child thread ${child.id} ("${child.title}")`
  const base = { noticeId: `n${event.sequence}`, childThreadId: child.id, at: event.occurredAt }
  if (event.type === "thread.turn-ended") {
    const { status, reason } = event.payload
    return {
      ...base,
      kind:
        status === "completed" ? "turn-completed" : status === "failed" ? "turn-failed" : "turn-interrupted",
      text:
        status === "completed"
          ? `${who} finished its turn.${quote(child.latestTurn?.lastMessage ?? null)} Read its changes with t3_thread_status; give it more work with t3_thread_send.`
          : `${who} ${status === "failed" ? "failed" : "was interrupted"}: ${reason ?? "no reason given"}. Check it with t3_thread_status; retry with t3_thread_send.`
    }
  }
  if (event.type === "thread.approval-requested") {
    const { approval } = event.payload
    const what =
      approval.kind === "command" ? `to run \`${approval.command ?? "a command"}\`` : "to change files"
    return {
      ...base,
      kind: "needs-approval",
      text: `${who} asks for approval ${what}. Only the user can answer it: tell them to run 'spindle thread approve ${child.id} ${approval.requestId}' (or decline).`
    }
  }
  return undefined
}

export class ChildNotices extends Context.Service<
  ChildNotices,
  {
    /** Completes once it follows the log, so nothing recorded after (say, by startup recovery) is missed. */
    readonly following: Effect.Effect<void>
  }
>()("spindle/children/ChildNotices") {
  static readonly layer = Layer.effect(
    ChildNotices,
    Effect.gen(function* () {
      const engine = yield* Engine
      const following = yield* Deferred.make<void>()
      let handled = 0
      const notify = Effect.fn("ChildNotices.notify")(function* (event: SpindleEvent) {
        if (event.type !== "thread.turn-ended" && event.type !== "thread.approval-requested") return
        const child = yield* engine.getThread(event.payload.threadId)
        if (child?.parentThreadId == null) return
        const notice = noticeFor(event, child)
        if (notice === undefined) return
        yield* engine
          .dispatch(
            {
              type: "thread.child.notify",
              commandId: `notify-${event.sequence}` as CommandId,
              threadId: child.parentThreadId,
              notice
            },
            { kind: "server" }
          )
          // A parent that is gone or archived hears nothing.
          .pipe(Effect.ignore({ log: "Warn", message: "Could not tell a parent about its child" }))
      })
      const follow = Effect.suspend(() =>
        Stream.runForEach(engine.events(handled), (event) =>
          Effect.andThen(
            notify(event),
            Effect.sync(() => (handled = event.sequence))
          )
        )
      )
      yield* Effect.forkScoped(
        Effect.gen(function* () {
          const ready = yield* Effect.exit(engine.ready)
          if (ready._tag === "Failure") return
          handled = (yield* engine.readModel).sequence
          yield* Deferred.succeed(following, undefined)
          yield* follow.pipe(
            Effect.tapCause((cause) =>
              Cause.hasInterruptsOnly(cause)
                ? Effect.void
                : Effect.logWarning("Child notices stopped; restarting", cause)
            ),
            Effect.retry(Schedule.spaced("1 second"))
          )
        })
      )
      return { following: Deferred.await(following) }
    })
  )
}
