// Branded identifiers. Ids are chosen by clients (commands are idempotent by id), so they are
// restricted to characters that are safe in file names and log lines.
import * as Schema from "effect/Schema"

const idString = (brand: string) =>
  Schema.String.check(
    Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/u, {
      message: `${brand} must be 1-128 characters of letters, digits, '-' or '_', starting with a letter or digit`
    })
  ).annotate({ description: `${brand}: 1-128 of [A-Za-z0-9_-], starting alphanumeric` })

export const ProjectId = idString("ProjectId").pipe(Schema.brand("ProjectId"))
export type ProjectId = typeof ProjectId.Type

export const ThreadId = idString("ThreadId").pipe(Schema.brand("ThreadId"))
export type ThreadId = typeof ThreadId.Type

export const TurnId = idString("TurnId").pipe(Schema.brand("TurnId"))
export type TurnId = typeof TurnId.Type

export const CommandId = idString("CommandId").pipe(Schema.brand("CommandId"))
export type CommandId = typeof CommandId.Type

export const EventId = idString("EventId").pipe(Schema.brand("EventId"))
export type EventId = typeof EventId.Type

/** A global, gapless position in the event log, starting at 1. */
export const Sequence = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
export type Sequence = typeof Sequence.Type

/** A host of the store, by its id (`host_…`) or its name (`--host-name`). */
export const HostRef = Schema.String.check(
  Schema.isPattern(/^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$/u, {
    message: "A host is named by its id (host_…) or its name: 1-64 letters, digits, spaces, '.', '_' or '-'"
  })
).annotate({ description: "A host's id (host_…) or name" })
