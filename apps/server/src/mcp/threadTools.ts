// The thread tools an agent calls over MCP: t3_thread_start (start a child thread), t3_thread_status
// and t3_thread_list (read the children). Thin: checks the session's capability, then calls
// ChildThreads, where the rules live.
import { SpindleError, type ThreadId, type ThreadStartInput } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { ChildThreads } from "../orchestration/ChildThreads.ts"
import type { McpInvocationContext, ProviderCapability } from "./McpInvocationContext.ts"

const requireCapability = (context: McpInvocationContext, capability: ProviderCapability) =>
  context.capabilities.includes(capability)
    ? Effect.void
    : Effect.fail(
        new SpindleError({
          reason: "forbidden",
          message: `This session's token lacks the ${capability} capability. Ask the user to start the thread from the Spindle app or CLI instead.`
        })
      )

export const startThread = (context: McpInvocationContext, input: ThreadStartInput) =>
  Effect.andThen(
    requireCapability(context, "thread-management"),
    Effect.flatMap(Effect.service(ChildThreads), (children) => children.start(context, input))
  )

export const threadStatus = (context: McpInvocationContext, threadId: ThreadId) =>
  Effect.andThen(
    requireCapability(context, "thread-read"),
    Effect.flatMap(Effect.service(ChildThreads), (children) => children.status(context, threadId))
  )

export const listThreads = (context: McpInvocationContext) =>
  Effect.andThen(
    requireCapability(context, "thread-read"),
    Effect.flatMap(Effect.service(ChildThreads), (children) => children.list(context))
  )
