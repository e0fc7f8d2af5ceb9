// Records a thread's provider reports through the engine, in order; what comes together shares one
// transaction. Streaming text (message and command output deltas, and the start of a message or of
// reasoning) waits a moment for more before it is recorded: consecutive updates of one item become
// one event, so a chatty agent costs a few events a second, not one per token, and a short message
// whose end comes within that moment is recorded once, done (its `completed` carries the whole
// text). Anything else (an item done, a command starting, the turn's end) ends the wait, so it is
// never held back. Reports that no longer fit the thread (a turn that already ended) are refused by
// the decider and dropped here.
import { MAX_ITEM_TEXT, type ProviderReport, type ThreadId } from "@spindle/contracts"
import { randomHex } from "@spindle/shared/random"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import type { Engine } from "../engine/Engine.ts"

/** How long streaming updates gather before they are recorded. */
const COALESCE_MS = 150

type Entry = { readonly report: ProviderReport } | { readonly flushed: Deferred.Deferred<void> }

export interface ReportRecorder {
  /** Queues reports in order; the ones given together are written together. */
  readonly record: (...reports: ReadonlyArray<ProviderReport>) => Effect.Effect<void>
  /** Completes once everything recorded before it is in the log. */
  readonly flush: Effect.Effect<void>
}

const keepEnd = (text: string) =>
  text.length > MAX_ITEM_TEXT ? text.slice(text.length - MAX_ITEM_TEXT) : text

const join = (a: string | undefined, b: string | undefined) =>
  a === undefined && b === undefined ? undefined : keepEnd(`${a ?? ""}${b ?? ""}`)

/** Items whose `completed` report carries their whole text, so it stands in for what came before. */
const TEXT_ITEMS: ReadonlySet<string> = new Set(["agent-message", "reasoning"])

/** A message's or reasoning's `turn/item` key when the report is of one, done (its `completed`) or not. */
const textItemKey = (report: ProviderReport, done: boolean) =>
  report.type === "turn-item" && TEXT_ITEMS.has(report.item.kind) && (report.phase === "completed") === done
    ? `${report.turnId}/${report.item.id}`
    : undefined

/** Streaming: an item's update, or a message or reasoning under way. Everything else is urgent. */
const streams = (report: ProviderReport) =>
  (report.type === "turn-item" && report.phase === "updated") || textItemKey(report, false) !== undefined

/**
 * Merges runs of `updated` reports of the same item into one, and drops the start and updates of a
 * message or reasoning whose `completed` is in the same batch.
 */
export const coalesce = (reports: ReadonlyArray<ProviderReport>): Array<ProviderReport> => {
  const done = new Set(reports.flatMap((r) => textItemKey(r, true) ?? []))
  const out: Array<ProviderReport> = []
  for (const report of reports) {
    const progress = textItemKey(report, false)
    if (progress !== undefined && done.has(progress)) continue
    const last = out.at(-1)
    if (
      report.type === "turn-item" &&
      report.phase === "updated" &&
      last?.type === "turn-item" &&
      last.phase === "updated" &&
      last.turnId === report.turnId &&
      last.item.id === report.item.id
    ) {
      const text = join(last.item.text, report.item.text)
      const output = join(last.item.output, report.item.output)
      out[out.length - 1] = {
        ...last,
        item: {
          ...last.item,
          ...(text === undefined ? {} : { text }),
          ...(output === undefined ? {} : { output })
        }
      }
    } else out.push(report)
  }
  return out
}

export const makeReportRecorder = (
  engine: Engine["Service"],
  threadId: ThreadId,
  sessionId: () => string
): Effect.Effect<ReportRecorder, never, Scope.Scope> =>
  Effect.gen(function* () {
    const queue = yield* Queue.unbounded<Entry>()
    /** Ends the pause for streaming text early: something arrived that should not wait. */
    let wake = yield* Deferred.make<void>()
    /** Whether something that should not wait is in the queue. */
    let waiting = false
    const urgent = (entry: Entry) => !("report" in entry) || !streams(entry.report)
    /** Records reports in order, queued together so that they share one transaction. */
    const write = (reports: ReadonlyArray<ProviderReport>) =>
      Effect.gen(function* () {
        if (reports.length === 0) return
        const commands = yield* Effect.forEach(reports, (report) =>
          Effect.map(randomHex(12), (hex) => ({
            type: "thread.provider.record" as const,
            commandId: `prv-${hex}` as never,
            threadId,
            report
          }))
        )
        const outcomes = yield* engine.dispatchAll(commands, {
          kind: "provider-session",
          sessionId: sessionId()
        })
        for (const [i, outcome] of outcomes.entries()) {
          if (outcome._tag === "Failure") {
            yield* Effect.logDebug(`Dropped a provider report: ${outcome.failure.message}`).pipe(
              Effect.annotateLogs({ threadId, report: reports[i]?.type })
            )
          }
        }
      })
    const worker = Effect.gen(function* () {
      while (true) {
        const batch = yield* Queue.takeAll(queue)
        waiting = false
        if (!batch.some(urgent)) {
          // Only streaming text so far: more gathers for a moment, unless something that should
          // not wait (an item done, the turn's end, a flush) comes first.
          wake = yield* Deferred.make<void>()
          if (!waiting) yield* Effect.raceFirst(Effect.sleep(COALESCE_MS), Deferred.await(wake))
          batch.push(...(yield* Queue.clear(queue)))
          waiting = false
        }
        const reports: Array<ProviderReport> = []
        for (const entry of batch) {
          if ("report" in entry) {
            reports.push(entry.report)
            continue
          }
          yield* write(coalesce(reports.splice(0)))
          yield* Deferred.succeed(entry.flushed, undefined)
        }
        yield* write(coalesce(reports))
      }
    })
    yield* Effect.forkScoped(worker)
    const offer = (...entries: ReadonlyArray<Entry>) =>
      Effect.suspend(() => {
        if (!entries.some(urgent)) return Effect.asVoid(Queue.offerAll(queue, entries))
        waiting = true
        return Effect.andThen(Queue.offerAll(queue, entries), Deferred.succeed(wake, undefined))
      })
    return {
      record: (...reports) => offer(...reports.map((report) => ({ report }))),
      flush: Effect.gen(function* () {
        const flushed = yield* Deferred.make<void>()
        yield* offer({ flushed })
        yield* Deferred.await(flushed)
      })
    }
  })
