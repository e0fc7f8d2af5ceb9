// The MCP tools as the model sees them: names, descriptions, annotations, and JSON Schemas
// generated from the contracts (an object at the root, as MCP requires; inputs shaped by
// toolInputSchema so their rules survive what Codex does to them). Built when asked for, not at
// import: generating the schemas costs tens of milliseconds of server startup.
import {
  BATCH_DEFAULT_FIELDS,
  DEFAULT_WAIT_SECONDS,
  MAX_BATCH,
  MAX_WAIT_SECONDS,
  STOP_WAIT_SECONDS,
  ThreadListOutput,
  ThreadMergeRequest,
  ThreadMergeResult,
  ThreadSendInput,
  ThreadSendOutput,
  ThreadStartInput,
  ThreadStartOutput,
  ThreadStatusInput,
  ThreadStatusOutput,
  ThreadStopInput,
  ThreadStopOutput,
  ThreadsStartInput,
  ThreadsStartOutput,
  ThreadWaitInput,
  ThreadWaitOutput,
  toJsonSchema,
  toolInputSchema
} from "@spindle/contracts"
import type * as Schema from "effect/Schema"

/** An output schema: an object at the root, with the other definitions kept under `$defs`. */
export const toolSchema = (schema: Schema.Top): Record<string, unknown> => {
  const {
    $schema: _dialect,
    $ref,
    $defs,
    ...rest
  } = toJsonSchema(schema) as {
    $schema?: string
    $ref?: string
    $defs?: Record<string, Record<string, unknown>>
  } & Record<string, unknown>
  if (typeof $ref !== "string" || $defs === undefined) return { type: "object", ...rest }
  const name = $ref.replace("#/$defs/", "")
  const { [name]: root, ...others } = $defs
  return { ...root, ...(Object.keys(others).length > 0 ? { $defs: others } : {}) }
}

export const THREAD_START = "t3_thread_start"
export const THREAD_STATUS = "t3_thread_status"
export const THREAD_LIST = "t3_thread_list"
export const THREADS_START = "t3_threads_start"
export const THREAD_WAIT = "t3_thread_wait"
export const THREAD_SEND = "t3_thread_send"
export const THREAD_STOP = "t3_thread_stop"
export const THREAD_MERGE = "t3_thread_merge"

const write = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false }
const read = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }

export const makeToolDefinitions = () =>
  [
    {
      name: THREAD_START,
      title: "Start another thread",
      description:
        "Start a new Spindle thread: another coding agent working in its own git worktree (or in a given worktree, or in this checkout), with the given first prompt. " +
        "Use this ONLY when the user explicitly asks you to start, spawn or create another thread or agent; never to delegate work on your own initiative. " +
        "It returns once the child's workspace exists (it does not wait for setup or the child's work). Pass clientRequestId to make a retry return the same thread.",
      inputSchema: toolInputSchema(ThreadStartInput),
      outputSchema: toolSchema(ThreadStartOutput),
      annotations: write
    },
    {
      name: THREADS_START,
      title: "Start several threads",
      description:
        `Start 1 to ${MAX_BATCH} new Spindle threads in one call, each like t3_thread_start; fields at the top level are defaults for every entry. ` +
        "Use this ONLY when the user explicitly asks for several threads or agents. Each entry is answered on its own: {ok: true, threadId, branch, worktreePath, ...} or {ok: false, error: {reason, message, stage}}. " +
        "If they would not all fit under your limit of live children, nothing is started.",
      inputSchema: toolInputSchema(ThreadsStartInput, BATCH_DEFAULT_FIELDS),
      outputSchema: toolSchema(ThreadsStartOutput),
      annotations: write
    },
    {
      name: THREAD_WAIT,
      title: "Wait for threads you started",
      description:
        `Wait until threads you started reach a state (their turn ended, by default), at most timeoutSeconds (default ${DEFAULT_WAIT_SECONDS}, at most ${MAX_WAIT_SECONDS}). ` +
        "Returns at once when they already have; on timeout returns their current states, so call it again to keep waiting. " +
        "Answers {done, timedOut, reached, threads, outputs}: each thread is Spindle's Thread object (status, workspace, bootstrap, setup, latestTurn with its status and reason; latestTurn is null before its first turn is requested), " +
        "and outputs[threadId] is what its agent produced: its last message and its changes (files, lines, commits against its base); overlaps lists live threads whose changes touch the same lines as theirs.",
      inputSchema: toolInputSchema(ThreadWaitInput),
      outputSchema: toolSchema(ThreadWaitOutput),
      annotations: read
    },
    {
      name: THREAD_SEND,
      title: "Send a prompt to a thread you started",
      description:
        "A follow-up message to a thread you started: it joins the thread's running turn when its agent can take one (Codex), else it starts the thread's next turn.",
      inputSchema: toolInputSchema(ThreadSendInput),
      outputSchema: toolSchema(ThreadSendOutput),
      annotations: write
    },
    {
      name: THREAD_STOP,
      title: "Stop a thread you started",
      description:
        "Interrupts the running turn of a thread you started; with archive: true also archives it (its agent stops; its worktree is kept). " +
        `Waits up to ${STOP_WAIT_SECONDS} s for the turn to end, then answers {interrupted, turnStatus, archived, thread}: turnStatus is how the turn ended (completed or failed when it finished before the stop reached the agent; interrupted; running when it had not ended yet; null when none was running), interrupted is true only when it ended interrupted, thread is Spindle's Thread object after the stop.`,
      inputSchema: toolInputSchema(ThreadStopInput),
      outputSchema: toolSchema(ThreadStopOutput),
      annotations: { ...write, destructiveHint: true }
    },
    {
      name: THREAD_MERGE,
      title: "Merge a thread you started",
      description:
        "Merges the branch of a thread you started into your branch (or into `into`), once its turn has ended and its work is committed. " +
        "Default strategy: ff-only when your branch has not moved since the child forked, else merge; squash makes one commit. With dryRun: true nothing is written and the answer says what would change or conflict. " +
        "Answers {strategy, target, source, upToDate, before, commit, files, conflicts}. A conflict is refused (nothing written) naming the files and line ranges: ask the child to merge your branch into its own and resolve them, then merge again.",
      inputSchema: toolInputSchema(ThreadMergeRequest),
      outputSchema: toolSchema(ThreadMergeResult),
      annotations: write
    },
    {
      name: THREAD_STATUS,
      title: "Status of a thread you started",
      description:
        "A thread this thread started (or this thread itself), as {thread, output, overlaps?, mergeOrder?}: thread is Spindle's Thread object (the same as 'spindle thread show --json': status, workspace with branch and worktreePath, bootstrap, setup with its status and log tail, latestTurn with its status and reason, pending approvals); " +
        "output is what its agent produced: its last message and its changes (files, lines, commits against its base). " +
        "overlaps lists live threads whose changes touch the same lines of the same files (a likely merge conflict); mergeOrder, for a thread with live children, is the order to merge them back with the fewest conflicts.",
      inputSchema: toolInputSchema(ThreadStatusInput),
      outputSchema: toolSchema(ThreadStatusOutput),
      annotations: read
    },
    {
      name: THREAD_LIST,
      title: "Threads you started",
      description:
        "The threads this thread started, oldest first, as {threads, outputs}: each thread is Spindle's Thread object (bootstrap, setup, latestTurn and its status), and outputs[threadId] is what its agent produced (last message, files changed, commits).",
      inputSchema: { type: "object", properties: {}, additionalProperties: false },
      outputSchema: toolSchema(ThreadListOutput),
      annotations: read
    }
  ] as const
