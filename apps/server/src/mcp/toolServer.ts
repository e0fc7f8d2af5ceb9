// The MCP server of one /mcp session (the SDK's low-level Server): the tools listed, and each
// tools/call decoded with the tool's input schema, run for the session's thread by threadTools and
// answered with the tool's output schema. Errors become tool results the model can read.
import type { CallToolRequest } from "@modelcontextprotocol/sdk/types.js"
import {
  SpindleError,
  ThreadListInput,
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
  ThreadsStartOutput,
  ThreadsStartRequest,
  ThreadWaitInput,
  ThreadWaitOutput
} from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { Engine } from "../engine/Engine.ts"
import { VERSION } from "../version.ts"
import type { McpInvocationContext } from "./McpInvocationContext.ts"
import {
  listThreads,
  mergeThread,
  sendToThread,
  startAttempt,
  startThread,
  startThreads,
  stopThread,
  threadStatus,
  waitThreads
} from "./threadTools.ts"
import {
  makeToolDefinitions,
  THREAD_LIST,
  THREAD_MERGE,
  THREAD_SEND,
  THREAD_START,
  THREAD_STATUS,
  THREAD_STOP,
  THREAD_WAIT,
  THREADS_START
} from "./toolDefinitions.ts"
import { batchEntries, decodeInput, toolError, toolResult } from "./toolIo.ts"

/**
 * What /mcp needs of the SDK at run time, and the tools' definitions, made once, on the first
 * request that opens a session.
 */
export const loadSdk = async () => {
  const sdk = await import("./sdk.ts")
  return {
    tools: makeToolDefinitions(),
    Server: sdk.Server,
    Transport: sdk.WebStandardStreamableHTTPServerTransport,
    ErrorCode: sdk.ErrorCode,
    ListToolsRequestSchema: sdk.ListToolsRequestSchema,
    ListPromptsRequestSchema: sdk.ListPromptsRequestSchema,
    ListResourcesRequestSchema: sdk.ListResourcesRequestSchema,
    ListResourceTemplatesRequestSchema: sdk.ListResourceTemplatesRequestSchema,
    /**
     * tools/call with its params left as sent. The SDK parses a request with the handler's schema
     * before its own tools/call check, so with CallToolRequestSchema a non-object `arguments` threw
     * a parse error (-32603, "internal") and `arguments` reached us as a copy. With this schema the
     * SDK's check answers -32602 (invalid params), and the arguments arrive as parsed from JSON, so a
     * `__proto__` key in them is seen and refused rather than silently turned into a prototype.
     */
    LooseCallToolRequestSchema: sdk.CallToolRequestSchema.extend({
      params: sdk.RequestSchema.shape.params
    })
  }
}
export type Sdk = Awaited<ReturnType<typeof loadSdk>>

/** What the tools need to run. */
export type ToolServices = Effect.Services<ReturnType<typeof startThread>>

/**
 * Runs a tool call's effect in the server's runtime: its fibers are the server's (interrupted when
 * it shuts down), and `signal` (the MCP request's: the client cancelled, or its session closed)
 * interrupts it.
 */
export type RunTool = <A>(
  effect: Effect.Effect<A, never, ToolServices>,
  options: { readonly signal: AbortSignal }
) => Promise<A>

/** A function that makes one session's MCP server, its tools run by `runTool`. */
export const makeToolServer = (engine: Engine["Service"], runTool: RunTool) => {
  /** Runs a tool and answers its result encoded by the tool's output schema (the one in outputSchema). */
  const run = <A, I>(
    output: Schema.Codec<A, I>,
    effect: Effect.Effect<A, SpindleError, ToolServices>,
    signal: AbortSignal
  ) =>
    runTool(
      effect.pipe(
        Effect.flatMap((value) => Effect.orDie(Schema.encodeEffect(output)(value))),
        Effect.map((encoded) => toolResult(encoded as Record<string, unknown>)),
        // A bootstrap that got as far as creating the thread records the stage it failed at.
        Effect.catch((error) =>
          Effect.map(
            error.threadId === undefined ? Effect.succeed(undefined) : engine.getThread(error.threadId),
            (thread) =>
              toolError(error, thread?.bootstrap.status === "failed" ? thread.bootstrap.stage : "validate")
          )
        ),
        // A bug still answers the call, with a result the model can report.
        Effect.catchDefect((defect) =>
          Effect.as(
            Effect.logError("MCP tool call failed", defect),
            toolError(
              new SpindleError({
                reason: "internal",
                message:
                  "The server failed on this call; see its log. Retry, or ask the user to check Spindle."
              })
            )
          )
        )
      ),
      { signal }
    ).catch(() =>
      // Interrupted: the client that cancelled reads no answer; one the shutdown cut off reads this.
      toolError(
        new SpindleError({
          reason: "unavailable",
          message: "Spindle stopped during this call. Retry it once the server is back."
        })
      )
    )

  return (sdk: Sdk) => {
    const server = new sdk.Server(
      { name: "spindle", version: VERSION },
      { capabilities: { tools: {}, logging: {}, resources: {}, prompts: {} } }
    )
    server.setRequestHandler(sdk.ListToolsRequestSchema, async () => ({ tools: [...sdk.tools] }))
    // Codex lists resources on connect; Spindle has none, and says so rather than "method not found".
    server.setRequestHandler(sdk.ListResourcesRequestSchema, async () => ({ resources: [] }))
    server.setRequestHandler(sdk.ListResourceTemplatesRequestSchema, async () => ({
      resourceTemplates: []
    }))
    // No prompts either: a client that lists them learns that, as with resources.
    server.setRequestHandler(sdk.ListPromptsRequestSchema, async () => ({ prompts: [] }))
    server.setRequestHandler(sdk.LooseCallToolRequestSchema, async (loose, extra) => {
      // The SDK has checked the request against CallToolRequestSchema by now (-32602 if not).
      const request = loose as CallToolRequest
      const context = extra.authInfo?.extra?.context as McpInvocationContext | undefined
      if (context === undefined) {
        return toolError(
          new SpindleError({
            reason: "unauthorized",
            message:
              "This MCP session has no provider token, so it cannot act for a thread. Connect with a token from 'spindle token issue-mcp'."
          })
        )
      }
      const args = request.params.arguments
      /** The tool's arguments decoded with `input`, then `f`, answered with `output`. */
      const tool = <S extends Schema.Top & { readonly DecodingServices: never }, A, I>(
        input: S,
        output: Schema.Codec<A, I>,
        f: (value: S["Type"]) => Effect.Effect<A, SpindleError, ToolServices>
      ) => run(output, Effect.flatMap(decodeInput(input, args), f), extra.signal)
      switch (request.params.name) {
        case THREAD_START:
          return tool(ThreadStartInput, ThreadStartOutput, (input) => startThread(context, input))
        case THREAD_STATUS:
          return tool(ThreadStatusInput, ThreadStatusOutput, (input) => threadStatus(context, input.threadId))
        case THREAD_LIST:
          return tool(ThreadListInput, ThreadListOutput, () => listThreads(context))
        case THREADS_START:
          return tool(ThreadsStartRequest, ThreadsStartOutput, (request) =>
            Effect.flatMap(batchEntries(request), (entries) => {
              const { variants, models, providers, check } = request
              return variants === undefined &&
                models === undefined &&
                providers === undefined &&
                check === undefined
                ? startThreads(context, entries)
                : startAttempt(
                    context,
                    {
                      ...(variants === undefined ? {} : { variants }),
                      ...(models === undefined ? {} : { models }),
                      ...(providers === undefined ? {} : { providers }),
                      ...(check === undefined ? {} : { check })
                    },
                    entries
                  )
            })
          )
        case THREAD_WAIT:
          return tool(ThreadWaitInput, ThreadWaitOutput, (input) => waitThreads(context, input))
        case THREAD_SEND:
          return tool(ThreadSendInput, ThreadSendOutput, (input) =>
            sendToThread(context, input.threadId, input.prompt)
          )
        case THREAD_MERGE:
          return tool(ThreadMergeRequest, ThreadMergeResult, (input) => mergeThread(context, input))
        case THREAD_STOP:
          return tool(ThreadStopInput, ThreadStopOutput, (input) =>
            stopThread(context, input.threadId, input.archive ?? false)
          )
        default:
          // A plain error with a code: an McpError's message already carries "MCP error -32602:",
          // which the client's own McpError would then repeat.
          throw Object.assign(
            new Error(`Unknown tool ${request.params.name}. Call tools/list for the tools.`),
            {
              code: sdk.ErrorCode.InvalidParams
            }
          )
      }
    })
    return server
  }
}
