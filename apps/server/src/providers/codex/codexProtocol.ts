// The subset of the Codex app-server protocol (JSON-RPC lines over stdio, v2) that Spindle speaks,
// written from the JSON Schemas `codex app-server generate-json-schema` emits. Only the fields we
// read are declared; everything else a message carries is ignored, so newer Codex versions that add
// fields still decode. Request params we send are typed here too.
import * as Schema from "effect/Schema"

// ---- what we send -----------------------------------------------------------------------------

export type CodexAskForApproval = "untrusted" | "on-request" | "never"
export type CodexSandboxMode = "read-only" | "workspace-write" | "danger-full-access"

export interface CodexTextInput {
  readonly type: "text"
  readonly text: string
  readonly text_elements: ReadonlyArray<never>
}

export interface CodexThreadStartParams {
  readonly cwd: string
  readonly model?: string
  readonly approvalPolicy: CodexAskForApproval
  readonly sandbox: CodexSandboxMode
  /** Config overrides for this thread (dotted keys, as `-c`); they win over `-c` and config.toml. */
  readonly config?: Readonly<Record<string, unknown>>
  readonly developerInstructions: string
}

export interface CodexThreadResumeParams extends CodexThreadStartParams {
  readonly threadId: string
}

export interface CodexTurnStartParams {
  readonly threadId: string
  readonly input: ReadonlyArray<CodexTextInput>
}

/** Decisions for command and file-change approval requests. */
export type CodexApprovalDecision = "accept" | "acceptForSession" | "decline" | "cancel"

// ---- what we read -----------------------------------------------------------------------------

export const CodexThreadStartResponse = Schema.Struct({
  thread: Schema.Struct({ id: Schema.String }),
  /** The model the thread runs (what a collaboration mode's settings must name). */
  model: Schema.optionalKey(Schema.String)
})
export const CodexTurnStartResponse = Schema.Struct({ turn: Schema.Struct({ id: Schema.String }) })

export const CodexTurnStatus = Schema.Literals(["completed", "interrupted", "failed", "inProgress"])

export const CodexTurn = Schema.Struct({
  id: Schema.String,
  status: CodexTurnStatus,
  error: Schema.optionalKey(Schema.NullOr(Schema.Struct({ message: Schema.String })))
})

const Nullable = <S extends Schema.Top>(schema: S) => Schema.optionalKey(Schema.NullOr(schema))

export const CodexThreadItem = Schema.Union([
  Schema.Struct({ type: Schema.Literal("agentMessage"), id: Schema.String, text: Schema.String }),
  Schema.Struct({
    type: Schema.Literal("reasoning"),
    id: Schema.String,
    summary: Schema.optionalKey(Schema.Array(Schema.String)),
    content: Schema.optionalKey(Schema.Array(Schema.String))
  }),
  Schema.Struct({
    type: Schema.Literal("commandExecution"),
    id: Schema.String,
    command: Schema.String,
    cwd: Nullable(Schema.String),
    aggregatedOutput: Nullable(Schema.String),
    exitCode: Nullable(Schema.Int),
    status: Schema.String
  }),
  Schema.Struct({
    type: Schema.Literal("fileChange"),
    id: Schema.String,
    changes: Schema.Array(
      Schema.Struct({ path: Schema.String, kind: Schema.Struct({ type: Schema.String }) })
    ),
    status: Schema.String
  }),
  Schema.Struct({
    type: Schema.Literal("mcpToolCall"),
    id: Schema.String,
    server: Schema.String,
    tool: Schema.String,
    status: Schema.String,
    error: Nullable(Schema.Struct({ message: Schema.String })),
    result: Nullable(Schema.Struct({ content: Schema.Array(Schema.Unknown) }))
  }),
  /** Plan mode's proposed plan, which Codex takes out of the agent's message. */
  Schema.Struct({ type: Schema.Literal("plan"), id: Schema.String, text: Schema.String }),
  Schema.Struct({ type: Schema.String, id: Schema.String })
])
export type CodexThreadItem = typeof CodexThreadItem.Type

const turnScoped = { threadId: Schema.String, turnId: Schema.String }

export const CodexTokenUsageBreakdown = Schema.Struct({
  inputTokens: Schema.Int,
  cachedInputTokens: Schema.Int,
  outputTokens: Schema.Int,
  reasoningOutputTokens: Schema.Int,
  totalTokens: Schema.Int
})

export const CodexRateLimitWindow = Schema.Struct({
  usedPercent: Schema.Number,
  windowDurationMins: Nullable(Schema.Number),
  /** Unix seconds. */
  resetsAt: Nullable(Schema.Number)
})

/** The notifications we map, by method. */
export const CodexNotifications = {
  "turn/started": Schema.Struct({ threadId: Schema.String, turn: CodexTurn }),
  "turn/completed": Schema.Struct({ threadId: Schema.String, turn: CodexTurn }),
  "item/started": Schema.Struct({ ...turnScoped, item: CodexThreadItem }),
  "item/completed": Schema.Struct({ ...turnScoped, item: CodexThreadItem }),
  "item/agentMessage/delta": Schema.Struct({ ...turnScoped, itemId: Schema.String, delta: Schema.String }),
  "item/commandExecution/outputDelta": Schema.Struct({
    ...turnScoped,
    itemId: Schema.String,
    delta: Schema.String
  }),
  "item/reasoning/summaryTextDelta": Schema.Struct({
    ...turnScoped,
    itemId: Schema.String,
    delta: Schema.String
  }),
  "thread/tokenUsage/updated": Schema.Struct({
    ...turnScoped,
    tokenUsage: Schema.Struct({ total: CodexTokenUsageBreakdown, last: CodexTokenUsageBreakdown })
  })
} as const
export type CodexNotificationMethod = keyof typeof CodexNotifications

/**
 * Notifications about the agent's trouble, by method (Codex 0.171's schema): Spindle records them
 * as notices on the thread. Thread-scoped ones name no thread when they concern the whole process.
 */
export const CodexNoticeNotifications = {
  error: Schema.Struct({
    ...turnScoped,
    error: Schema.Struct({ message: Schema.String, additionalDetails: Nullable(Schema.String) }),
    willRetry: Schema.Boolean
  }),
  warning: Schema.Struct({ threadId: Nullable(Schema.String), message: Schema.String }),
  guardianWarning: Schema.Struct({ threadId: Nullable(Schema.String), message: Schema.String }),
  configWarning: Schema.Struct({
    summary: Schema.String,
    details: Nullable(Schema.String),
    path: Nullable(Schema.String)
  }),
  deprecationNotice: Schema.Struct({ summary: Schema.String, details: Nullable(Schema.String) }),
  "mcpServer/startupStatus/updated": Schema.Struct({
    threadId: Nullable(Schema.String),
    name: Schema.String,
    status: Schema.String,
    error: Nullable(Schema.String)
  }),
  "model/rerouted": Schema.Struct({
    ...turnScoped,
    fromModel: Schema.String,
    toModel: Schema.String,
    reason: Schema.Unknown
  }),
  "thread/status/changed": Schema.Struct({
    threadId: Schema.String,
    status: Schema.Struct({ type: Schema.String })
  }),
  "account/rateLimits/updated": Schema.Struct({
    rateLimits: Schema.Struct({
      limitName: Nullable(Schema.String),
      primary: Nullable(CodexRateLimitWindow),
      secondary: Nullable(CodexRateLimitWindow),
      rateLimitReachedType: Nullable(Schema.String)
    })
  })
} as const
export type CodexNoticeMethod = keyof typeof CodexNoticeNotifications

/** The approval requests we answer, by method; any other request from Codex is declined. */
export const CodexApprovalRequests = {
  "item/commandExecution/requestApproval": Schema.Struct({
    ...turnScoped,
    itemId: Schema.String,
    command: Nullable(Schema.String),
    cwd: Nullable(Schema.String),
    reason: Nullable(Schema.String),
    /** What Codex offers for this request (strings, or objects for amendments we never send). */
    availableDecisions: Nullable(Schema.Array(Schema.Unknown))
  }),
  "item/fileChange/requestApproval": Schema.Struct({
    ...turnScoped,
    itemId: Schema.String,
    reason: Nullable(Schema.String),
    grantRoot: Nullable(Schema.String)
  })
} as const
export type CodexApprovalMethod = keyof typeof CodexApprovalRequests

// ---- plan mode (experimental in Codex 0.171: `initialize` must opt into `experimentalApi`) ------

export type CodexModeKind = "plan" | "default"

/** `turn/start`'s `collaborationMode`; `developer_instructions: null` means the mode's built-in ones. */
export interface CodexCollaborationMode {
  readonly mode: CodexModeKind
  readonly settings: {
    readonly model: string
    readonly reasoning_effort: string | null
    readonly developer_instructions: null
  }
}

/** `collaborationMode/list`: Codex's presets, as its own UI offers them. */
export const CodexCollaborationModeList = Schema.Struct({
  data: Schema.Array(
    Schema.Struct({
      name: Schema.String,
      mode: Schema.optionalKey(Schema.NullOr(Schema.String)),
      model: Schema.optionalKey(Schema.NullOr(Schema.String)),
      reasoning_effort: Schema.optionalKey(Schema.NullOr(Schema.String))
    })
  )
})

/** `item/tool/requestUserInput`: the model's `request_user_input` questions (plan mode). */
export const CodexUserInputRequest = Schema.Struct({
  ...turnScoped,
  itemId: Schema.String,
  questions: Schema.Array(
    Schema.Struct({
      id: Schema.String,
      header: Schema.String,
      question: Schema.String,
      options: Nullable(Schema.Array(Schema.Struct({ label: Schema.String, description: Schema.String })))
    })
  )
})
