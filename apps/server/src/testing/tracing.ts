// A tracer that keeps every span it is asked for, to see what ran and how it ended. Not shipped.
import * as Exit from "effect/Exit"
import * as Tracer from "effect/Tracer"

export interface RecordedSpan {
  readonly name: string
  /** Undefined while the span is open; then whether it ended by interruption. */
  ended?: "interrupted" | "done"
}

export const recordingTracer = () => {
  const spans: Array<RecordedSpan> = []
  const tracer = Tracer.make({
    span: (options) => {
      const recorded: RecordedSpan = { name: options.name }
      spans.push(recorded)
      const span = new Tracer.NativeSpan(options)
      const end = span.end.bind(span)
      span.end = (endTime, exit) => {
        recorded.ended = Exit.hasInterrupts(exit) ? "interrupted" : "done"
        end(endTime, exit)
      }
      return span
    }
  })
  return { tracer, spans, named: (name: string) => spans.filter((span) => span.name === name) }
}
