// Tool input and output as MCP carries them: arguments decoded against the contracts' schemas
// (a bad one is a tool result naming the field, which the model reads and corrects), a batch's
// entries decoded one by one, and results and errors shaped for the model.
import {
  BATCH_DEFAULT_FIELDS,
  findUnsafeInput,
  SpindleError,
  ThreadStartInput,
  type ThreadsStartRequest
} from "@spindle/contracts"
import { describeIssue } from "@spindle/shared/schemaIssue"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

const invalidArguments = (message: string, field: string) =>
  new SpindleError({
    reason: "validation",
    message: `Invalid arguments: ${message}`,
    ...(field === "" ? {} : { field })
  })

/**
 * Tool arguments as the tool's input type, or a `validation` SpindleError naming the field. Bad
 * arguments are tool results the model reads and corrects (MCP 2025-11-25, SEP-1303), not
 * JSON-RPC errors. Keys such as `__proto__` are refused first, by the same check as commands.
 */
export const decodeInput = <S extends Schema.Top>(schema: S, input: unknown) => {
  const unsafe = findUnsafeInput(input)
  if (unsafe !== undefined) {
    return Effect.fail(invalidArguments(`${unsafe.field}: ${unsafe.message}`, unsafe.field))
  }
  return Schema.decodeUnknownEffect(schema)(input ?? {}, { onExcessProperty: "error", errors: "first" }).pipe(
    Effect.mapError((error) => {
      const { field, message } = describeIssue(error.issue)
      if (field === "tags" && typeof (input as { tags?: unknown } | undefined)?.tags === "string") {
        return invalidArguments(
          'tags must be a JSON array of strings, e.g. ["auth","refactor"], not a comma-separated string.',
          field
        )
      }
      return invalidArguments(message, field)
    })
  )
}

/**
 * A batch's entries, each with the top-level defaults under it and decoded on its own: a bad entry
 * becomes that entry's validation error (its field named `threads.<i>.<field>`), not the call's.
 */
export const batchEntries = (request: typeof ThreadsStartRequest.Type) =>
  Effect.forEach(request.threads, (entry, i) => {
    const defaults = Object.fromEntries(
      BATCH_DEFAULT_FIELDS.flatMap((field) => (request[field] === undefined ? [] : [[field, request[field]]]))
    )
    return decodeInput(ThreadStartInput, { ...defaults, ...entry }).pipe(
      Effect.catch((error) =>
        Effect.succeed(
          new SpindleError({
            ...error,
            reason: error.reason,
            message: error.message,
            field: `threads.${i}${error.field === undefined ? "" : `.${error.field}`}`
          })
        )
      )
    )
  })

/** A tool failure as a result the model can act on: what failed, at which stage, the thread if any, what to try. */
export const toolError = (error: SpindleError, stage?: string | null) => ({
  isError: true,
  content: [
    {
      type: "text" as const,
      text: JSON.stringify({
        error: error.reason,
        message: error.message,
        ...(stage === undefined || stage === null ? {} : { stage }),
        ...(error.threadId === undefined ? {} : { threadId: error.threadId }),
        ...(error.field === undefined ? {} : { field: error.field })
      })
    }
  ]
})

export const toolResult = (value: Record<string, unknown>) => ({
  structuredContent: value,
  content: [{ type: "text" as const, text: JSON.stringify(value) }]
})
