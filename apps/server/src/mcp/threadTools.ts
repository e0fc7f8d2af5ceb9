// The thread tools an agent calls over MCP: start children (one or several), read them, wait for
// them, send them a prompt, merge their work back, stop them. Thin: checks the session's capability, then calls
// ChildThreads, where the rules live.
import {
  SpindleError,
  type ThreadId,
  type ThreadMergeRequest,
  type ThreadStartInput,
  type ThreadWaitInput
} from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { ChildThreads } from "../children/ChildThreads.ts"
import type { BatchRequest } from "../children/childBatch.ts"
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

/** Runs `f` with ChildThreads once the caller's token has `capability`. */
const withChildren = <A>(
  context: McpInvocationContext,
  capability: ProviderCapability,
  f: (children: ChildThreads["Service"]) => Effect.Effect<A, SpindleError>
) => Effect.andThen(requireCapability(context, capability), Effect.flatMap(Effect.service(ChildThreads), f))

export const startThread = (context: McpInvocationContext, input: ThreadStartInput) =>
  withChildren(context, "thread-management", (children) => children.start(context, input))

export const startThreads = (context: McpInvocationContext, request: BatchRequest) =>
  withChildren(context, "thread-management", (children) => children.startMany(context, request))

export const startAttempt = (
  context: McpInvocationContext,
  spec: Parameters<ChildThreads["Service"]["startAttempt"]>[1],
  request: BatchRequest
) => withChildren(context, "thread-management", (children) => children.startAttempt(context, spec, request))

export const threadStatus = (context: McpInvocationContext, threadId: ThreadId) =>
  withChildren(context, "thread-read", (children) => children.status(context, threadId))

export const listThreads = (context: McpInvocationContext) =>
  withChildren(context, "thread-read", (children) => children.list(context))

export const waitThreads = (context: McpInvocationContext, input: ThreadWaitInput) =>
  withChildren(context, "thread-read", (children) => children.wait(context, input))

export const sendToThread = (context: McpInvocationContext, threadId: ThreadId, prompt: string) =>
  withChildren(context, "thread-management", (children) => children.send(context, threadId, prompt))

export const mergeThread = (context: McpInvocationContext, request: ThreadMergeRequest) =>
  withChildren(context, "thread-management", (children) => children.merge(context, request))

export const stopThread = (context: McpInvocationContext, threadId: ThreadId, archive: boolean) =>
  withChildren(context, "thread-management", (children) => children.stop(context, threadId, archive))
