// Records a thread's provider reports through the engine, one at a time and in order. Streaming
// text (message and command output deltas) is coalesced: consecutive updates of one item that
// arrive together become one event, and a batch that carried any waits a moment before the next,
// so a chatty agent costs a few events a second, not one per token. Reports that no longer fit the
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
        if (streamed) yield* Effect.sleep(COALESCE_MS)
      }
    })
    yield* Effect.forkScoped(worker)
    return {
      record: (report) => Effect.asVoid(Queue.offer(queue, { report })),
      flush: Effect.gen(function* () {
        const flushed = yield* Deferred.make<void>()
        yield* Queue.offer(queue, { flushed })
        yield* Deferred.await(flushed)
      })
    }
  })
