// Webhook notifications: follows the event log from a persisted cursor, turns each event that
// needs a person (notification.ts; a completed turn once the conflict radar has counted the
// thread's changes) into a delivery in the durable outbox, and delivers it in the
// background: a POST signed with the project's secret (signer.ts, deliverer.ts), retried with
// backoff, then settled as a `project.notify-delivered` or `project.notify-failed` event that
// `project show` folds into `lastNotify`. Deliveries never hold up commands or events: they run in
// fibers of their own, at most `concurrency` POSTs at once and `capacity` deliveries held (past
// it the oldest is given up, logged and recorded). After a restart, what was pending is sent again
// and what was settled is not. It never logs a webhook's URL or secret.
import {
  CommandId,
  type NotifyOutcome,
  type ProjectId,
  type SpindleError,
  type SpindleEvent,
  type ThreadId
} from "@spindle/contracts"
import { randomHex } from "@spindle/shared/random"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Semaphore from "effect/Semaphore"
import { DEFAULT_NOTIFY_SETTINGS, ServerConfig } from "../config/ServerConfig.ts"
import { Engine } from "../engine/Engine.ts"
import { followLog } from "../engine/followLog.ts"
import { CommandReceipts } from "../persistence/CommandReceipts.ts"
import { NotifyOutbox, type OutboxEntry } from "../persistence/NotifyOutbox.ts"
import { NotifySecrets } from "../persistence/NotifySecrets.ts"
import { ConflictRadar } from "../radar/ConflictRadar.ts"
import { VERSION } from "../version.ts"
import { post } from "./deliverer.ts"
import { needsChanges, notificationFor, renderBody, targetOf } from "./notification.ts"
import { SIGNATURE_HEADER, sign } from "./signer.ts"

/** How long a completed turn's notification waits for the radar to count the thread's changes. */
const RADAR_WAIT = "10 seconds"
/** How often the cursor is saved when events that notify nobody went by. */
const CURSOR_SAVE_INTERVAL = "1 second"

/** The command id a delivery's outcome is recorded with: one outcome per delivery, ever. */
export const outcomeCommandId = (deliveryId: string) => CommandId.make(`notify-${deliveryId}`)

/** A delivery the notifier holds: sending, or waiting to retry. */
interface Held {
  readonly entry: OutboxEntry
  attempts: number
  status: number | null
  error: string | null
  /** Its outcome is being recorded: it can no longer be dropped. */
  settling: boolean
  fiber: Fiber.Fiber<void> | undefined
}

export class Notify extends Context.Service<
  Notify,
  {
    /** Completes once every event up to `sequence` was looked at (a delivery it made is in the outbox). */
    readonly caughtUp: (sequence: number) => Effect.Effect<void>
    /** Deliveries held now (sending, or waiting to retry). */
    readonly held: Effect.Effect<number>
  }
>()("spindle/notify/Notify") {
  static readonly layer = Layer.effect(
    Notify,
    Effect.gen(function* () {
      const engine = yield* Engine
      const radar = yield* ConflictRadar
      const outbox = yield* NotifyOutbox
      const secrets = yield* NotifySecrets
      const receipts = yield* CommandReceipts
      const config = yield* ServerConfig
      const settings = { ...DEFAULT_NOTIFY_SETTINGS, ...config.notify }
      const scope = yield* Effect.scope
      const permits = yield* Semaphore.make(Math.max(1, settings.concurrency))
      const held = new Map<string, Held>()
      let handled = 0
      let saved = 0
      const waiters = new Set<{ readonly sequence: number; readonly resolve: () => void }>()

      const checkWaiters = () => {
        for (const waiter of waiters) {
          if (handled >= waiter.sequence) {
            waiters.delete(waiter)
            waiter.resolve()
          }
        }
      }
      const now = Effect.map(DateTime.now, DateTime.formatIso)

      /** Records the outcome on the project, then forgets the delivery; never interrupted half-way. */
      const settle = (
        entry: OutboxEntry,
        outcome: Omit<NotifyOutcome, "deliveryId" | "event" | "threadId" | "at">
      ) =>
        Effect.gen(function* () {
          const at = yield* now
          yield* engine
            .dispatch(
              {
                type: "project.notify.record",
                commandId: outcomeCommandId(entry.deliveryId),
                projectId: entry.projectId as ProjectId,
                outcome: {
                  deliveryId: entry.deliveryId,
                  event: entry.event,
                  threadId: entry.threadId as ThreadId,
                  at,
                  ...outcome
                }
              },
              { kind: "server" }
            )
            .pipe(
              // A full disk or a failed write passes; a server shutting down sends it again at the next start.
              Effect.retry({
                while: (error: SpindleError) =>
                  error.reason === "storage-full" || error.reason === "internal",
                schedule: Schedule.spaced("1 second"),
                times: 5
              })
            )
          yield* outbox.finish(entry.deliveryId)
          const what = `Notification ${entry.deliveryId} (${entry.event}, thread ${entry.threadId}) to project ${entry.projectId}'s webhook`
          yield* outcome.ok
            ? Effect.logDebug(`${what} was delivered (attempt ${outcome.attempts})`)
            : Effect.logWarning(
                `${what} was given up after ${outcome.attempts} attempt(s): ${outcome.error ?? "no answer"}`
              )
        }).pipe(
          Effect.ignore({ log: "Warn", message: "Could not record how a notification's delivery ended" }),
          Effect.uninterruptible
        )

      const finishWith = (one: Held, outcome: Parameters<typeof settle>[1]) =>
        Effect.uninterruptible(
          Effect.suspend(() => {
            // Dropped meanwhile: the drop recorded its outcome.
            if (one.settling) return Effect.void
            one.settling = true
            return settle(one.entry, outcome)
          })
        )

      /** One POST of the delivery to the project's webhook as it is now; "gone" when it has none. */
      const attempt = (entry: OutboxEntry) =>
        Effect.gen(function* () {
          const project = yield* engine.getProject(entry.projectId as ProjectId)
          const webhook = project?.notifyWebhook ?? null
          if (webhook === null) return "gone" as const
          const secret = webhook.secretSet ? yield* secrets.get(entry.projectId) : undefined
          const headers: Record<string, string> = {
            "content-type": "application/json",
            "user-agent": `Spindle/${VERSION}`,
            "X-Spindle-Event": entry.event,
            "X-Spindle-Delivery": entry.deliveryId,
            ...(secret === undefined ? {} : { [SIGNATURE_HEADER]: sign(secret, entry.body) })
          }
          return yield* permits.withPermits(1)(post(webhook.url, entry.body, headers, settings.timeoutMs))
        })

      /** Attempts until delivered, refused for good, or out of retries; then records the outcome. */
      const deliver = (one: Held) =>
        Effect.gen(function* () {
          const { entry } = one
          const delays = settings.retryDelaysMs
          while (true) {
            // A crash after the last attempt, before its outcome was recorded.
            if (one.attempts > delays.length) {
              return yield* finishWith(one, {
                ok: false,
                status: one.status,
                error: one.error,
                attempts: one.attempts
              })
            }
            const result = yield* attempt(entry)
            if (result === "gone") {
              // The project or its webhook was removed: there is nowhere to deliver, nor to show it.
              one.settling = true
              return yield* outbox.finish(entry.deliveryId)
            }
            one.attempts += 1
            one.status = result.status
            one.error = result.kind === "delivered" ? null : result.error
            if (result.kind !== "retry" || one.attempts > delays.length) {
              return yield* finishWith(one, {
                ok: result.kind === "delivered",
                status: one.status,
                error: one.error,
                attempts: one.attempts
              })
            }
            yield* outbox.recordAttempt(entry.deliveryId, one.attempts, one.status, one.error, yield* now)
            yield* Effect.sleep(delays[one.attempts - 1] ?? 0)
          }
        }).pipe(
          Effect.catchCause((cause) =>
            Cause.hasInterruptsOnly(cause)
              ? Effect.void
              : Effect.logWarning(
                  `Notification ${one.entry.deliveryId} stopped; it is sent again at the next start`,
                  cause
                )
          ),
          Effect.ensuring(
            Effect.sync(() => {
              if (held.get(one.entry.deliveryId) === one) held.delete(one.entry.deliveryId)
            })
          )
        )

      /** Holds a delivery and sends it in a fiber of its own; past capacity the oldest is given up. */
      const admit = (entry: OutboxEntry) =>
        Effect.gen(function* () {
          if (held.has(entry.deliveryId)) return
          while (held.size >= Math.max(1, settings.capacity)) {
            const oldest = [...held.values()].find((h) => !h.settling)
            if (oldest === undefined) break
            held.delete(oldest.entry.deliveryId)
            oldest.settling = true
            if (oldest.fiber !== undefined) yield* Fiber.interrupt(oldest.fiber)
            yield* Effect.logWarning(
              `More than ${settings.capacity} notifications are waiting to be delivered: giving up the oldest (${oldest.entry.deliveryId})`
            )
            yield* settle(oldest.entry, {
              ok: false,
              status: oldest.status,
              error: `dropped: more than ${settings.capacity} notifications were waiting to be delivered`,
              attempts: oldest.attempts
            })
          }
          const one: Held = {
            entry,
            attempts: entry.attempts,
            status: entry.lastStatus,
            error: entry.lastError,
            settling: false,
            fiber: undefined
          }
          held.set(entry.deliveryId, one)
          one.fiber = yield* Effect.forkIn(deliver(one), scope)
        })

      const handle = (event: SpindleEvent) =>
        Effect.gen(function* () {
          let model = yield* engine.readModel
          if (needsChanges(event) && targetOf(event, model) !== undefined) {
            // The thread's changes as the radar counts them once it has seen this turn end (and
            // what its worktree's watch heard meanwhile); bounded, then as they stand.
            yield* radar.caughtUp(event.sequence).pipe(Effect.timeout(RADAR_WAIT), Effect.ignore)
            model = yield* engine.readModel
          }
          const notification = notificationFor(event, model)
          if (notification !== undefined) {
            const deliveryId = `dlv_${yield* randomHex(12)}`
            const entry: OutboxEntry = {
              sequence: event.sequence,
              deliveryId,
              projectId: notification.projectId,
              threadId: notification.threadId,
              event: notification.event,
              body: renderBody(notification, deliveryId),
              attempts: 0,
              lastStatus: null,
              lastError: null
            }
            if (yield* outbox.add(entry, yield* now)) yield* admit(entry)
          }
          handled = event.sequence
          checkWaiters()
        })

      const saveCursor = Effect.suspend(() => {
        const at = handled
        if (at <= saved) return Effect.void
        return Effect.map(outbox.saveCursor(at), () => {
          saved = Math.max(saved, at)
        })
      }).pipe(
        Effect.ignore({ log: "Warn", message: "Could not save how far notifications have read the log" })
      )

      const start = Effect.gen(function* () {
        const ready = yield* Effect.exit(engine.ready)
        if (ready._tag === "Failure") return
        const stored = yield* outbox.cursor
        // A first start notifies of what happens from now on, not of the log's past.
        const from = stored ?? (yield* engine.readModel).sequence
        if (stored === undefined) yield* outbox.saveCursor(from)
        handled = from
        saved = from
        checkWaiters()
        for (const entry of yield* outbox.pending) {
          // Its outcome was recorded before the server stopped: only forget it.
          if ((yield* receipts.get(outcomeCommandId(entry.deliveryId))) !== undefined) {
            yield* outbox.finish(entry.deliveryId)
            continue
          }
          yield* admit(entry)
        }
        yield* Effect.forkIn(Effect.repeat(saveCursor, Schedule.spaced(CURSOR_SAVE_INTERVAL)), scope)
        yield* followLog(engine, from, handle, "Notifications")
      }).pipe(
        Effect.catchCause((cause) =>
          Cause.hasInterruptsOnly(cause)
            ? Effect.void
            : Effect.logWarning("Notifications could not start; none are sent until a restart", cause)
        )
      )

      yield* Effect.forkScoped(start)
      // On shutdown: how far the log was read survives; deliveries still held are in the outbox.
      yield* Effect.addFinalizer(() => saveCursor)

      const caughtUp = (sequence: number) =>
        Effect.promise(
          () =>
            new Promise<void>((resolve) => {
              waiters.add({ sequence, resolve })
              checkWaiters()
            })
        )

      return { caughtUp, held: Effect.sync(() => held.size) }
    })
  )
}
