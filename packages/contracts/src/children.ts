// What a parent agent (over MCP) or a person (over the WebSocket and CLI) uses to run a team of
// child threads: what a thread produced, waiting for threads, a follow-up prompt, stopping one,
// and several starts in one call. Input schemas keep every property flat (some MCP clients drop
// `allOf`), with descriptions the model reads.
import * as Schema from "effect/Schema"
import { ErrorReason } from "./errors.ts"
import { ThreadId, TurnId } from "./ids.ts"
import { Prompt } from "./values.ts"

/** The agent's last message is given up to this many characters (the end is kept). */
export const MAX_OUTPUT_MESSAGE = 4_000
/** At most this many changed files are listed one by one. */
export const MAX_OUTPUT_FILES = 50

export const ChangedFile = Schema.Struct({
  path: Schema.String,
  /** Lines added and removed; null for binary files. */
  insertions: Schema.NullOr(Schema.Int),
  deletions: Schema.NullOr(Schema.Int),
  /** `untracked`: a new file not yet added to git. */
  status: Schema.Literals(["changed", "untracked"])
})

export const DiffSummary = Schema.Struct({
  /** What the changes are counted against: the merge base of the thread's branch and its base. */
  base: Schema.String,
  filesChanged: Schema.Int,
  insertions: Schema.Int,
  deletions: Schema.Int,
  files: Schema.Array(ChangedFile),
  /** True when more files changed than are listed. */
  filesTruncated: Schema.Boolean,
  /** Commits on the thread's branch that its base does not have. */
  commitsAhead: Schema.Int
}).annotate({ identifier: "DiffSummary" })
export type DiffSummary = typeof DiffSummary.Type

export const ThreadOutput = Schema.Struct({
  lastMessage: Schema.NullOr(Schema.String),
  /** True when the last message was longer than what is given. */
  lastMessageTruncated: Schema.Boolean,
  /** Files changed and commits made against the base; null without a worktree or a base to compare with. */
  diff: Schema.NullOr(DiffSummary)
}).annotate({ identifier: "ThreadOutput", description: "What a thread's agent produced so far" })
export type ThreadOutput = typeof ThreadOutput.Type

export const WaitUntil = Schema.Literals(["any", "all"])
export const WaitFor = Schema.Literals(["turn-completed", "setup-completed", "needs-approval"])
export type WaitFor = typeof WaitFor.Type

export const MAX_WAIT_SECONDS = 50
export const DEFAULT_WAIT_SECONDS = 45

export const ThreadWaitInput = Schema.Struct({
  threadIds: Schema.Array(ThreadId.annotate({ description: "A thread id" }))
    .check(Schema.isMinLength(1), Schema.isMaxLength(64))
    .annotate({
      description: "The threads to wait for (for an agent: threads it started)."
    }),
  until: Schema.optionalKey(
    WaitUntil.annotate({
      description: "any: return when one of them reaches the state; all (default): when every one has."
    })
  ),
  for: Schema.optionalKey(
    WaitFor.annotate({
      description:
        "turn-completed (default): the thread's turn ended (completed, failed or interrupted) or it will run none (bootstrap or setup failed); setup-completed: its setup ended; needs-approval: its agent asks for an approval (or its turn ended)."
    })
  ),
  timeoutSeconds: Schema.optionalKey(
    Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_WAIT_SECONDS })).annotate({
      description: `How long to wait at most, 0 to ${MAX_WAIT_SECONDS} seconds (default ${DEFAULT_WAIT_SECONDS}); on timeout the threads' states come back anyway, so call again to keep waiting.`
    })
  )
}).annotate({ identifier: "ThreadWaitInput" })
export type ThreadWaitInput = typeof ThreadWaitInput.Type

export const ThreadSendInput = Schema.Struct({
  threadId: ThreadId.annotate({ description: "A thread you started." }),
  prompt: Prompt.annotate({
    description:
      "The follow-up message: it joins the child's running turn when its agent can take one (Codex), else it starts the child's next turn."
  })
}).annotate({ identifier: "ThreadSendInput" })

export const ThreadSendOutput = Schema.Struct({
  threadId: ThreadId,
  /** The turn the prompt went to. */
  turnId: TurnId,
  /** True when it joined the running turn rather than starting a new one. */
  steered: Schema.Boolean
}).annotate({ identifier: "ThreadSendOutput" })

export const ThreadStopInput = Schema.Struct({
  threadId: ThreadId.annotate({ description: "A thread you started." }),
  archive: Schema.optionalKey(
    Schema.Boolean.annotate({
      description: "Also archive the thread (its agent's session stops; its worktree is kept)."
    })
  )
}).annotate({ identifier: "ThreadStopInput" })

/** One entry of a batch start, answered on its own: the ids always come back. */
export const ChildStartFailure = Schema.Struct({
  ok: Schema.Literal(false),
  error: Schema.Struct({
    reason: ErrorReason,
    message: Schema.String,
    /** The bootstrap stage it failed at (`validate` when nothing was made). */
    stage: Schema.String,
    field: Schema.optionalKey(Schema.String),
    threadId: Schema.optionalKey(ThreadId)
  })
})

/** Fields of a start that a batch may set once for all its entries. */
export const BATCH_DEFAULT_FIELDS = [
  "mode",
  "baseBranch",
  "baseBranchSource",
  "runSetupScript",
  "provider",
  "model",
  "runtimeMode",
  "interactionMode",
  "tags"
] as const

export const MAX_BATCH = 8

export const ThreadDiff = Schema.Struct({
  base: Schema.String,
  /** The commit the patch is taken against: where the thread's branch left its base. */
  mergeBase: Schema.String,
  /** The full patch, new untracked files included as additions. */
  patch: Schema.String,
  /** True when the patch was cut (past 4 MiB). */
  truncated: Schema.Boolean
}).annotate({ identifier: "ThreadDiff" })
export type ThreadDiff = typeof ThreadDiff.Type
