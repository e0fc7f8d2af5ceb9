// Records a thread's provider reports through the engine, one at a time and in order. Streaming
// text (message and command output deltas) is coalesced: consecutive updates of one item that
// arrive together become one event, and a batch that carried any waits a moment for more, so a
// chatty agent costs a few events a second, not one per token; anything else (an item done, the
// turn's end) ends that wait, so it is never held back. Reports that no longer fit the
// thread (a turn that already ended) are refused by the decider and dropped here.
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
  readonly record: (report: ProviderReport) => Effect.Effect<void>
  /** Completes once everything recorded before it is in the log. */
  readonly flush: Effect.Effect<void>
}

const keepEnd = (text: string) =>
  text.length > MAX_ITEM_TEXT ? text.slice(text.length - MAX_ITEM_TEXT) : text

const join = (a: string | undefined, b: string | undefined) =>
  a === undefined && b === undefined ? undefined : keepEnd(`${a ?? ""}${b ?? ""}`)

/** Merges runs of `updated` reports of the same item into one. */
export const coalesce = (reports: ReadonlyArray<ProviderReport>): Array<ProviderReport> => {
  const out: Array<ProviderReport> = []
  for (const report of reports) {
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
    /** Ends the pause after a streamed batch early: something arrived that should not wait. */
    let wake = yield* Deferred.make<void>()
    /** Whether something that should not wait is in the queue. */
    let waiting = false
    const urgent = (entry: Entry) =>
      !("report" in entry) || entry.report.type !== "turn-item" || entry.report.phase !== "updated"
    const write = (report: ProviderReport) =>
      Effect.flatMap(randomHex(12), (hex) =>
        engine.dispatch(
          { type: "thread.provider.record", commandId: `prv-${hex}` as never, threadId, report },
          { kind: "provider-session", sessionId: sessionId() }
        )
      ).pipe(
        Effect.catch((error) =>
          Effect.logDebug(`Dropped a provider report: ${error.message}`).pipe(
            Effect.annotateLogs({ threadId, report: report.type })
          )
        )
      )
    const worker = Effect.gen(function* () {
      while (true) {
        const batch = yield* Queue.takeAll(queue)
        waiting = false
        const reports: Array<ProviderReport> = []
        const streamed = batch.some(
          (entry) =>
            "report" in entry && entry.report.type === "turn-item" && entry.report.phase === "updated"
        )
        for (const entry of batch) {
          if ("report" in entry) {
            reports.push(entry.report)
            continue
          }
          for (const report of coalesce(reports.splice(0))) yield* write(report)
          yield* Deferred.succeed(entry.flushed, undefined)
        }
        for (const report of coalesce(reports)) yield* write(report)
        if (streamed) {
          // More streaming text gathers for a moment; anything else (an item done, the turn's end,
          // a flush) is recorded at once, with the text that came before it.
          wake = yield* Deferred.make<void>()
          if (!waiting) yield* Effect.raceFirst(Effect.sleep(COALESCE_MS), Deferred.await(wake))
        }
      }
    })
    yield* Effect.forkScoped(worker)
    const offer = (entry: Entry) =>
      Effect.suspend(() => {
        if (!urgent(entry)) return Effect.asVoid(Queue.offer(queue, entry))
        waiting = true
        return Effect.andThen(Queue.offer(queue, entry), Deferred.succeed(wake, undefined))
      })
    return {
      record: (report) => offer({ report }),
      flush: Effect.gen(function* () {
        const flushed = yield* Deferred.make<void>()
        yield* offer({ flushed })
        yield* Deferred.await(flushed)
      })
    }
  })
