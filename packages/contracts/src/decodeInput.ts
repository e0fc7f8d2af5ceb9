// Turns untrusted input into a client command or a token request, or a `validation` error that
// names the field. Internal commands are never accepted here, whatever their shape. The server
// checks what it is sent with these; a client may check before sending (the CLI does), so a
// refusal names the same field whichever side made it.
import { describeIssue } from "@spindle/shared/schemaIssue"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { type ClientCommand, ClientCommandSchemas } from "./commands.ts"
import { SpindleError } from "./errors.ts"
import { ClientTokenCreateInput } from "./tokens.ts"
import { findUnsafeInput } from "./values.ts"

const knownTypes = Object.keys(ClientCommandSchemas)

const invalid = (message: string, field?: string) =>
  new SpindleError({ reason: "validation", message, ...(field === undefined ? {} : { field }) })

export const decodeClientCommand = (input: unknown): Effect.Effect<ClientCommand, SpindleError> => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return Effect.fail(invalid("A command must be a JSON object with a 'type' field.", "type"))
  }
  const unsafe = findUnsafeInput(input)
  if (unsafe !== undefined) {
    return Effect.fail(invalid(`Invalid command: ${unsafe.field}: ${unsafe.message}`, unsafe.field))
  }
  const type = (input as { readonly type?: unknown }).type
  if (typeof type !== "string") {
    return Effect.fail(invalid(`A command needs a string 'type', one of: ${knownTypes.join(", ")}.`, "type"))
  }
  // Own keys only: `constructor` or `toString` must not find Object.prototype's members.
  if (!Object.hasOwn(ClientCommandSchemas, type)) {
    return Effect.fail(
      invalid(
        `Unknown command type '${type.slice(0, 80)}'. Expected one of: ${knownTypes.join(", ")}.`,
        "type"
      )
    )
  }
  const schema = ClientCommandSchemas[type as keyof typeof ClientCommandSchemas]
  return Schema.decodeUnknownEffect(schema)(input, { onExcessProperty: "error", errors: "first" }).pipe(
    Effect.mapError((error) => {
      const { field, message } = describeIssue(error.issue)
      return invalid(`Invalid ${type} command: ${message}`, field)
    })
  ) as Effect.Effect<ClientCommand, SpindleError>
}

const decodeTokenInput = Schema.decodeUnknownEffect(ClientTokenCreateInput)

export const decodeClientTokenCreateInput = (
  input: unknown
): Effect.Effect<ClientTokenCreateInput, SpindleError> =>
  decodeTokenInput(input, { onExcessProperty: "error", errors: "first" }).pipe(
    Effect.mapError((error) => {
      const { field, message } = describeIssue(error.issue)
      return invalid(`Invalid client token request: ${message}`, field === "" ? undefined : field)
    })
  )
