// The provider service's reactor: on start, settles what a stopped server left in the log
// (sessions shown live become stopped, running turns end interrupted) and runs turns still
// requested; then follows the log and hands each event that concerns an agent to the service's
// actions, each in its own fiber. It decides nothing itself.
import type { ApprovalOutcome, Thread, ThreadId, TurnId } from "@spindle/contracts"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { Engine } from "../engine/Engine.ts"
import { ofTypes } from "../engine/followers.ts"
import type { EventStore } from "../persistence/EventStore.ts"
import { sessionChanged, type ThreadReports } from "./threadReports.ts"

export interface ReactorActions {
  readonly runTurn: (
    threadId: ThreadId,
    turnId: TurnId,
    prompt: string,
    attachments: ReadonlyArray<string>
  ) => Effect.Effect<void>
  readonly steer: (
    threadId: ThreadId,
    turnId: TurnId,
    prompt: string,
    attachments: ReadonlyArray<string>
  ) => Effect.Effect<void>
  readonly interrupt: (threadId: ThreadId, turnId: TurnId) => Effect.Effect<void>
  readonly respond: (threadId: ThreadId, requestId: string, outcome: ApprovalOutcome) => Effect.Effect<void>
  readonly stop: (threadId: ThreadId, why: string) => Effect.Effect<void>
  /** Gives the thread's agent the notices about its children that wait for it. */
  readonly deliver: (threadId: ThreadId) => Effect.Effect<void>
}

export interface ReactorServices {
  readonly engine: Engine["Service"]
  readonly eventStore: EventStore["Service"]
  readonly report: ThreadReports["report"]
  readonly endTurn: ThreadReports["endTurn"]
  /** Where the reactor's fibers live. */
  readonly scope: Scope.Scope
}

/** The events that concern an agent (the cases of `follow` below). */
const REACTS_TO = ofTypes(
  "thread.turn-start-requested",
  "thread.turn-steer-requested",
  "thread.turn-interrupt-requested",
  "thread.approval-resolved",
  "thread.child-notified",
  "thread.archived",
  "thread.deleted"
)

export const startReactor = (services: ReactorServices, actions: ReactorActions) =>
  Effect.gen(function* () {
    const { engine, eventStore, report, endTurn, scope } = services
    // Each reaction in a fiber of its own, started at once: it runs on the follower's turn until
    // it first waits (a turn's prompt is on its way to the agent by then), not a scheduler turn later.
    const background = <A, E>(effect: Effect.Effect<A, E>) =>
      Effect.asVoid(
        Effect.forkIn(Effect.ignore(effect, { log: "Warn", message: "A provider reaction failed" }), scope, {
          startImmediately: true
        })
      )

    /** What a server that stopped left in the log: sessions shown live, turns shown running. */
    const reconcile = (threads: ReadonlyArray<Thread>) =>
      Effect.forEach(
        threads,
        (thread) =>
          Effect.gen(function* () {
            if (thread.latestTurn?.status === "running") {
              yield* endTurn(
                thread.id,
                thread.latestTurn.turnId,
                "interrupted",
                "Spindle stopped during this turn. Send a prompt to go on; the agent's conversation is resumed."
              )
            }
            if (thread.session.status === "starting" || thread.session.status === "running") {
              yield* report(thread.id, sessionChanged("stopped", thread.session.providerSessionId, null))
            }
          }),
        { discard: true }
      )

    /** The prompt (and attachments) a requested turn was asked with, from the log. */
    const requestedPrompt = (threadId: ThreadId, turnId: TurnId) =>
      eventStore.lastOfThread(threadId, "thread.turn-start-requested").pipe(
        Effect.map((event) =>
          event?.type === "thread.turn-start-requested" && event.payload.turnId === turnId
            ? event.payload
            : undefined
        ),
        Effect.orElseSucceed(() => undefined)
      )

    let handled = 0
    const follow = Effect.suspend(() =>
      Stream.runForEach(engine.ownEvents(handled, { wanted: REACTS_TO }), (event) => {
        handled = event.sequence
        const { payload } = event as { payload: { threadId: ThreadId } }
        switch (event.type) {
          case "thread.turn-start-requested":
            return background(
              actions.runTurn(
                event.payload.threadId,
                event.payload.turnId,
                event.payload.prompt,
                event.payload.attachments ?? []
              )
            )
          case "thread.turn-steer-requested":
            return background(
              actions.steer(
                event.payload.threadId,
                event.payload.turnId,
                event.payload.prompt,
                event.payload.attachments ?? []
              )
            )
          case "thread.turn-interrupt-requested":
            return background(actions.interrupt(event.payload.threadId, event.payload.turnId))
          case "thread.approval-resolved":
            return background(
              actions.respond(event.payload.threadId, event.payload.requestId, event.payload.outcome)
            )
          case "thread.child-notified":
            return background(actions.deliver(event.payload.threadId))
          case "thread.archived":
            return background(actions.stop(payload.threadId, "The thread was archived."))
          case "thread.deleted":
            return background(actions.stop(payload.threadId, "The thread was deleted."))
          default:
            return Effect.void
        }
      })
    )

    const snapshot = yield* engine.snapshot
    // Only this host's threads: another host's turns and sessions are that host's to settle.
    const own = snapshot.threads.filter(engine.owns)
    yield* reconcile(own)
    for (const thread of own) {
      const turn = thread.latestTurn
      if (thread.status === "active" && turn?.status === "requested") {
        const requested = yield* requestedPrompt(thread.id, turn.turnId)
        if (requested !== undefined) {
          yield* background(
            actions.runTurn(thread.id, turn.turnId, requested.prompt, requested.attachments ?? [])
          )
        }
      }
    }
    handled = snapshot.sequence
    // Restarted after a failure, it goes on after the last event it handled.
    yield* Effect.forkIn(
      follow.pipe(
        Effect.tapCause((cause) =>
          Cause.hasInterruptsOnly(cause)
            ? Effect.void
            : Effect.logError("The provider reactor stopped; restarting it", cause)
        ),
        Effect.retry(Schedule.spaced("1 second"))
      ),
      scope
    )
  })
