// How a `spindle` command ends when it does not succeed: one error with the exit code a script can
// rely on and a stable `reason`, printed as a line on stderr or, with --json, as
// {"error": {...}} on stdout. CLI-internal (it never crosses the wire), so Data, not Schema:
// Schema would cost every command its load time.
import * as Data from "effect/Data"

export const EXIT = {
  ok: 0,
  /** The server said no (the operation failed). */
  failed: 1,
  /** Bad usage, checked before connecting. */
  usage: 2,
  /** No server, or it refused the token. */
  unreachable: 3,
  /** `thread wait` ran out of time. */
  timeout: 4,
  interrupted: 130
} as const

export class CliFailure extends Data.TaggedError("CliFailure")<{
  readonly code: number
  readonly reason: string
  readonly message: string
  /** More fields for the JSON form (ids, the server's error). */
  readonly details?: Record<string, unknown>
  /** Said as "reason: message" on stderr (the server's refusals); JSON keeps them apart. */
  readonly showReason?: boolean
}> {}

/** A usage mistake found before connecting: exit 2, naming the flag and what it takes. */
export const usageError = (message: string) => new CliFailure({ code: EXIT.usage, reason: "usage", message })

export const EXIT_CODES_HELP = `Exit codes: 0 ok, 1 the operation failed (the server said no), 2 bad usage (checked before
connecting), 3 server unreachable or token refused, 4 timed out waiting (thread wait), 130 interrupted.`
