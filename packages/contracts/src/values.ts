// Small value schemas shared by the read models, commands and events.
import * as Schema from "effect/Schema"

/** An ISO-8601 timestamp in UTC, as produced by `DateTime.formatIso`. */
export const IsoTimestamp = Schema.String.check(
  Schema.isPattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/u, {
    message: "expected an ISO-8601 UTC timestamp such as 2026-01-01T00:00:00.000Z"
  })
)

/** A bounded, non-empty string that must not be only whitespace. */
export const boundedText = (max: number) =>
  Schema.String.check(
    Schema.isMaxLength(max, { message: `must be at most ${max} characters` }),
    Schema.isPattern(/\S/u, { message: "must not be empty or only whitespace" })
  )

export const Title = boundedText(200)

/** An absolute path on the server's machine. */
export const AbsolutePath = Schema.String.check(
  Schema.isMaxLength(4096, { message: "paths must be at most 4096 characters" }),
  Schema.isStartingWith("/", { message: "must be an absolute path (starting with '/')" })
)

export const ProviderKind = Schema.Literals(["codex", "command"]).annotate({
  description: "The agent provider that runs the thread's turns"
})
export type ProviderKind = typeof ProviderKind.Type

export const ModelName = boundedText(200)

export const RuntimeMode = Schema.Literals(["approval-required", "auto-accept-edits", "full-access"])
export type RuntimeMode = typeof RuntimeMode.Type

export const InteractionMode = Schema.Literals(["default", "plan"])
export type InteractionMode = typeof InteractionMode.Type

export const WorkspaceMode = Schema.Literals(["new_worktree", "existing_worktree", "current_checkout"])
export type WorkspaceMode = typeof WorkspaceMode.Type

/** A tag on a thread; a list of tags is always a JSON array, never a comma-separated string. */
export const Tag = boundedText(64)
export const Tags = Schema.Array(Tag).check(Schema.isMaxLength(32, { message: "at most 32 tags" }))

/** The longest first prompt we accept (trimmed). */
export const MAX_PROMPT_LENGTH = 120_000
export const Prompt = boundedText(MAX_PROMPT_LENGTH)

export const SetupScript = boundedText(20_000).annotate({
  description: "A shell command run with /bin/sh -c in the new worktree"
})

export const SetupTimeoutSeconds = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 86_400 }))
export const DEFAULT_SETUP_TIMEOUT_SECONDS = 900

/** Who caused an event: a client token, a provider session, or the server itself. */
export const Actor = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("client"), tokenId: Schema.String }),
  Schema.Struct({ kind: Schema.Literal("provider-session"), sessionId: Schema.String }),
  Schema.Struct({ kind: Schema.Literal("server") })
])
export type Actor = typeof Actor.Type
