// The one error that crosses the wire. `reason` is stable and machine-readable; `message` says
// what was wrong and what to do about it.
import * as Schema from "effect/Schema"
import { CommandId, ProjectId, ThreadId } from "./ids.ts"

export const ErrorReason = Schema.Literals([
  "validation",
  "not-found",
  "conflict",
  "capacity",
  "git",
  "setup",
  "provider",
  "unauthorized",
  "forbidden",
  "unavailable",
  /** The store could not write: its disk (or the database) is full. Nothing was applied. */
  "storage-full",
  "internal"
])
export type ErrorReason = typeof ErrorReason.Type

export class SpindleError extends Schema.TaggedError<SpindleError>()("SpindleError", {
  reason: ErrorReason,
  message: Schema.String,
  /** The input field at fault, as a dotted path (validation errors). */
  field: Schema.optionalKey(Schema.String),
  commandId: Schema.optionalKey(CommandId),
  projectId: Schema.optionalKey(ProjectId),
  threadId: Schema.optionalKey(ThreadId),
  path: Schema.optionalKey(Schema.String),
  /** For a subscriber cut off for being slow: the last sequence it received; resume from there. */
  sequence: Schema.optionalKey(Schema.Int)
}) {}
