// Input and output of the MCP thread tools. The tools' JSON Schemas are generated from these,
// so the model, the SDK and the server read one definition.
import * as Schema from "effect/Schema"
import * as Struct from "effect/Struct"
import { Attachments, MAX_ATTACHMENT_BYTES } from "./attachments.ts"
import { AttemptComparison, AttemptId, CheckCommand } from "./attempts.ts"
import { BootstrapResult, BootstrapTurnStatus, QueuedStartInfo } from "./bootstrap.ts"
import { BATCH_DEFAULT_FIELDS, ChildStartFailure, MAX_BATCH, ThreadOutput } from "./children.ts"
import { HostRef, ThreadId } from "./ids.ts"
import { MergeOrderEntry, ThreadOverlap } from "./radar.ts"
import { Thread } from "./thread.ts"
import { TurnStatus } from "./turns.ts"
import {
  AbsolutePath,
  InteractionMode,
  MAX_PROMPT_LENGTH,
  MAX_TAG_LENGTH,
  MAX_TITLE_LENGTH,
  ModelName,
  OnDone,
  Prompt,
  ProviderKind,
  RuntimeMode,
  Tags,
  Title,
  WorkspaceMode
} from "./values.ts"
import {
  BaseRef,
  BranchName,
  fieldsForMode,
  fromThreadAlone,
  PullRequestNumber,
  prAlone
} from "./workspaceInput.ts"

export const ClientRequestId = Schema.String.check(
  Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/u, {
    message: "clientRequestId must be 1-128 characters of letters, digits, '.', '_', ':' or '-'"
  })
)

// Descriptions say what a field means; its lengths, patterns and limits are added in words by
// toolInputSchema.ts from the JSON Schema's keywords, except the text limits JSON Schema cannot
// carry (trimmed lengths), said here from the same constants the checks use.
export const ThreadStartInput = Schema.Struct({
  prompt: Prompt.annotate({
    description: `The new agent's first message (required): at most ${MAX_PROMPT_LENGTH} characters; newlines and tabs are fine, other control characters are not.`
  }),
  title: Schema.optionalKey(
    Title.annotate({
      description: `One line of at most ${MAX_TITLE_LENGTH} characters (default: the prompt's start).`
    })
  ),
  mode: Schema.optionalKey(
    WorkspaceMode.annotate({
      description:
        "new_worktree (default): a new branch and worktree; existing_worktree: the one at worktreePath; current_checkout: yours."
    })
  ),
  worktreePath: Schema.optionalKey(
    AbsolutePath.annotate({
      description: "Required for existing_worktree, and only then: a worktree of this repository."
    })
  ),
  branch: Schema.optionalKey(
    BranchName.annotate({
      description: "New branch name, only for new_worktree (default spindle/<8 hex>)."
    })
  ),
  baseBranch: Schema.optionalKey(
    BaseRef.annotate({ description: "Ref to start the new worktree from, only for new_worktree." })
  ),
  pr: Schema.optionalKey(
    PullRequestNumber.annotate({
      description:
        "Only for new_worktree, not with branch or baseBranch: a pull request on origin, on a new branch."
    })
  ),
  baseBranchSource: Schema.optionalKey(
    Schema.Literals(["default", "source", "parent"]).annotate({
      description:
        "Only for new_worktree without baseBranch: 'source' starts from your branch, 'parent' from your HEAD now, 'default' (default) from the project's default branch."
    })
  ),
  includeUncommitted: Schema.optionalKey(
    Schema.Boolean.annotate({
      description:
        "Only with baseBranchSource 'parent': also take your uncommitted changes (not ignored files) as one commit; your files stay as they are."
    })
  ),
  runSetupScript: Schema.optionalKey(
    Schema.Boolean.annotate({
      description: "Run the project's setup script (default: true for new_worktree)."
    })
  ),
  provider: Schema.optionalKey(
    ProviderKind.annotate({
      description: "The new agent (default: yours); any but codex (no sandbox) needs a full-access caller."
    })
  ),
  model: Schema.optionalKey(
    ModelName.annotate({
      description: "The new agent's model (default: yours, unless provider changes)."
    })
  ),
  runtimeMode: Schema.optionalKey(
    RuntimeMode.annotate({
      description:
        "What the new agent may do without asking, least to most as listed; never more than yours (default: yours)."
    })
  ),
  interactionMode: Schema.optionalKey(
    InteractionMode.annotate({
      description: "default, or plan (the agent plans first); a plan thread's children plan too."
    })
  ),
  onDone: Schema.optionalKey(
    OnDone.annotate({
      description: "wake (default): its end starts a turn for you if idle."
    })
  ),
  tags: Schema.optionalKey(
    Tags.annotate({
      description: `A JSON array of one-line strings of at most ${MAX_TAG_LENGTH} characters, e.g. ["auth","refactor"].`
    })
  ),
  attachments: Schema.optionalKey(
    Attachments.annotate({
      description: `Images or text files for the first prompt: a worktree file or base64 bytes (${MAX_ATTACHMENT_BYTES / 1024 / 1024} MiB each).`
    })
  ),
  clientRequestId: Schema.optionalKey(
    ClientRequestId.annotate({
      description: "A retry with the same id returns the same thread."
    })
  ),
  queue: Schema.optionalKey(
    Schema.Boolean.annotate({
      description: "false: refuse past a limit instead of queueing until a slot frees (default true)."
    })
  ),
  host: Schema.optionalKey(
    HostRef.annotate({
      description: "The host (id or name) to run it on, with a checkout of the project (default: yours)."
    })
  )
})
  .check(
    fieldsForMode({
      new_worktree: { refused: ["worktreePath"] },
      existing_worktree: {
        refused: ["branch", "baseBranch", "baseBranchSource", "pr", "includeUncommitted"],
        required: ["worktreePath"]
      },
      current_checkout: {
        refused: ["worktreePath", "branch", "baseBranch", "baseBranchSource", "pr", "includeUncommitted"]
      }
    }),
    prAlone(["branch", "baseBranch", "baseBranchSource", "includeUncommitted"]),
    fromThreadAlone("baseBranchSource", (input) => input.baseBranchSource === "parent", []),
    Schema.makeFilter((input: { readonly baseBranch?: string; readonly baseBranchSource?: string }) =>
      input.baseBranch !== undefined && input.baseBranchSource !== undefined
        ? {
            path: ["baseBranchSource"],
            issue: "applies only without baseBranch; pass one of the two"
          }
        : undefined
    )
  )
  .annotate({ identifier: "ThreadStartInput" })
export type ThreadStartInput = typeof ThreadStartInput.Type

/**
 * What the tool answers: the bootstrap's result, without the engine's sequence and the timing; a
 * start queued past a limit has no worktree yet (null), turn.status `queued` and its `queue` place.
 */
export const ThreadStartOutput = BootstrapResult.mapFields((fields) => ({
  ...Struct.omit(fields, ["sequence", "durationMs"]),
  worktreePath: Schema.NullOr(fields.worktreePath),
  turn: Schema.Struct({ status: Schema.Union([BootstrapTurnStatus, Schema.Literal("queued")]) }),
  queue: Schema.optionalKey(QueuedStartInfo)
})).annotate({
  identifier: "ThreadStartOutput"
})
export type ThreadStartOutput = typeof ThreadStartOutput.Type

export const ThreadStatusInput = Schema.Struct({ threadId: ThreadId }).annotate({
  identifier: "ThreadStatusInput"
})

/**
 * t3_thread_status: the child as the contracts' Thread (the same object `spindle thread show
 * --json` prints), and beside it what its agent produced (last message, files changed, commits).
 */
export const ThreadStatusOutput = Schema.Struct({
  thread: Thread,
  output: ThreadOutput,
  /** The conflict radar: live threads of the project whose changes overlap this thread's. */
  overlaps: Schema.optionalKey(Schema.Array(ThreadOverlap)),
  /** For a thread with live children: the order to merge them back with the fewest conflicts. */
  mergeOrder: Schema.optionalKey(Schema.Array(MergeOrderEntry)),
  /** For a variant of an attempt (best of N): every variant compared. */
  attempt: Schema.optionalKey(AttemptComparison)
}).annotate({ identifier: "ThreadStatusOutput" })
export type ThreadStatusOutput = typeof ThreadStatusOutput.Type

/** What each listed thread's agent produced, keyed by thread id (every thread in `threads` has one). */
export const ThreadOutputs = Schema.Record(Schema.String, ThreadOutput).annotate({
  description: "What each thread's agent produced so far, by thread id."
})

/** t3_thread_list takes no arguments; any given are refused rather than ignored. */
export const ThreadListInput = Schema.Record(Schema.String, Schema.Unknown)
  .check(
    Schema.makeFilter((input: { readonly [key: string]: unknown }) => {
      const given = Object.keys(input)[0]
      return given === undefined
        ? undefined
        : { path: [given], issue: "t3_thread_list takes no arguments; leave it out" }
    })
  )
  .annotate({ identifier: "ThreadListInput" })

export const ThreadListOutput = Schema.Struct({
  /** Oldest first. */
  threads: Schema.Array(Thread),
  outputs: ThreadOutputs
}).annotate({ identifier: "ThreadListOutput" })
export type ThreadListOutput = typeof ThreadListOutput.Type

const startFields = ThreadStartInput.fields

/**
 * A batch's defaults, described briefly: their meaning and rules are the entries' own, and Codex
 * drops every description of a tool whose schema passes 5000 characters.
 */
const batchDefaults = Object.fromEntries(
  BATCH_DEFAULT_FIELDS.map((name) => [
    name,
    startFields[name].annotate({ description: "Default for the entries." })
  ])
) as { readonly [K in (typeof BATCH_DEFAULT_FIELDS)[number]]: (typeof startFields)[K] }

/**
 * Best of N in t3_threads_start: one entry, started `variants` times as one attempt. Plain here to
 * keep the tool's schema small; their rules (2 to 8, one model or provider per variant, not both)
 * are VariantsRequest's, checked by the server.
 */
const variantFields = {
  variants: Schema.optionalKey(
    Schema.Int.annotate({ description: "Best of N (2-8): the one entry started N times." })
  ),
  models: Schema.optionalKey(Schema.Array(Schema.String).annotate({ description: "One model per variant." })),
  providers: Schema.optionalKey(
    Schema.Array(Schema.String).annotate({ description: "One provider per variant." })
  )
}

/**
 * A batch entry's fields whose long descriptions t3_thread_start already gives: pointed at there,
 * which keeps t3_threads_start's schema under the 5000 characters past which Codex drops them all.
 */
const BRIEF_ENTRY_FIELDS = [
  "mode",
  "worktreePath",
  "pr",
  "baseBranchSource",
  "includeUncommitted",
  "provider",
  "runtimeMode",
  "interactionMode",
  "tags",
  "attachments",
  "queue",
  "host"
] as const

const entryFields = {
  ...startFields,
  ...(Object.fromEntries(
    BRIEF_ENTRY_FIELDS.map((name) => [
      name,
      startFields[name].annotate({ description: "As in t3_thread_start." })
    ])
  ) as { readonly [K in (typeof BRIEF_ENTRY_FIELDS)[number]]: (typeof startFields)[K] })
}

/** Several children in one call; fields at the top level are defaults for every entry. */
export const ThreadsStartInput = Schema.Struct({
  threads: Schema.Array(
    Schema.Struct(entryFields).annotate({
      description: "One thread to start: the same fields as t3_thread_start."
    })
  )
    .check(Schema.isMinLength(1), Schema.isMaxLength(MAX_BATCH))
    .annotate({
      description: "The threads to start."
    }),
  ...batchDefaults,
  ...variantFields
}).annotate({ identifier: "ThreadsStartInput" })

/** How the server reads a batch: entries one by one, so a bad entry is that entry's error. */
export const ThreadsStartRequest = Schema.Struct({
  threads: Schema.Array(Schema.Record(Schema.String, Schema.Unknown)).check(
    Schema.isMinLength(1, { message: "give at least one thread to start" }),
    Schema.isMaxLength(MAX_BATCH, { message: `at most ${MAX_BATCH} threads in one call` })
  ),
  ...Struct.pick(startFields, BATCH_DEFAULT_FIELDS),
  ...variantFields,
  /** Read only to refuse it (forbidden): a check command is a person's to name. */
  check: Schema.optionalKey(CheckCommand)
})

export const ChildStartSuccess = Schema.Struct({ ok: Schema.Literal(true), ...ThreadStartOutput.fields })

export const ThreadsStartOutput = Schema.Struct({
  threads: Schema.Array(Schema.Union([ChildStartSuccess, ChildStartFailure])),
  /** With variants: the attempt the threads are variants of (t3_thread_status of one compares them). */
  attemptId: Schema.optionalKey(AttemptId)
}).annotate({ identifier: "ThreadsStartOutput" })
export type ThreadsStartOutput = typeof ThreadsStartOutput.Type

export const ThreadWaitOutput = Schema.Struct({
  /** True when the threads reached the state before the timeout. */
  done: Schema.Boolean,
  timedOut: Schema.Boolean,
  /** The threads that reached it. */
  reached: Schema.Array(ThreadId),
  /** Every thread waited for, reached or not, in its state now. */
  threads: Schema.Array(Thread),
  outputs: ThreadOutputs,
  /** The conflict radar: overlaps of the waited threads' changes with other live threads'. */
  overlaps: Schema.optionalKey(Schema.Array(ThreadOverlap))
}).annotate({ identifier: "ThreadWaitOutput" })
export type ThreadWaitOutput = typeof ThreadWaitOutput.Type

/** How long t3_thread_stop waits for the interrupted turn to end before it answers. */
export const STOP_WAIT_SECONDS = 15

export const ThreadStopOutput = Schema.Struct({
  /** True when the running turn ended interrupted (not when it completed or failed before the stop reached it). */
  interrupted: Schema.Boolean,
  /**
   * How the turn that was running ended: completed, failed or interrupted; running when it had not
   * ended within STOP_WAIT_SECONDS; null when no turn was running.
   */
  turnStatus: Schema.NullOr(TurnStatus),
  archived: Schema.Boolean,
  /** The thread after the stop. */
  thread: Thread
}).annotate({ identifier: "ThreadStopOutput" })
export type ThreadStopOutput = typeof ThreadStopOutput.Type
