// The MCP tools as the model sees them: names, descriptions, annotations, and JSON Schemas
// generated from the contracts (inlined to an object at the root, as MCP requires).
import {
  ChildThreadStatus,
  ThreadListOutput,
  ThreadStartInput,
  ThreadStartOutput,
  ThreadStatusInput,
  toJsonSchema
} from "@spindle/contracts"
import type * as Schema from "effect/Schema"

/** An object schema at the root, with the other definitions kept under `$defs`. */
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

export const toolDefinitions = [
  {
    name: THREAD_START,
    title: "Start another thread",
    description:
      "Start a new Spindle thread: another coding agent working in its own git worktree (or in a given worktree, or in this checkout), with the given first prompt. " +
      "Use this ONLY when the user explicitly asks you to start, spawn or create another thread or agent; never to delegate work on your own initiative. " +
      "It returns once the child's workspace exists (it does not wait for setup or the child's work). Pass clientRequestId to make a retry return the same thread.",
    inputSchema: toolSchema(ThreadStartInput),
    outputSchema: toolSchema(ThreadStartOutput),
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false }
  },
  {
    name: THREAD_STATUS,
    title: "Status of a thread you started",
    description: "Bootstrap, setup (status and log tail) and turn state of a thread this thread started.",
    inputSchema: toolSchema(ThreadStatusInput),
    outputSchema: toolSchema(ChildThreadStatus),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }
  },
  {
    name: THREAD_LIST,
    title: "Threads you started",
    description: "The threads this thread started, with their bootstrap, setup and turn state.",
    inputSchema: { type: "object", properties: {}, additionalProperties: false },
    outputSchema: toolSchema(ThreadListOutput),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }
  }
] as const
