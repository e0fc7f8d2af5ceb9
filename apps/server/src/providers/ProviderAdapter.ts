// What a provider adapter is: something that checks a thread's provider settings, and starts a
// session for a thread in its worktree that runs turns, steers, interrupts, answers approvals and
// reports what the agent does as ProviderReports. Sessions live in the scope they are started in:
// closing it stops the agent. Which session runs for which thread is ProviderService's business.
import type {
  ApprovalDecision,
  Project,
  ProviderKind,
  ProviderReport,
  SpindleError,
  Thread,
  ThreadAttachment,
  TurnId
} from "@spindle/contracts"
import type * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"

export interface SessionContext {
  readonly thread: Thread
  readonly project: Project
  readonly worktreePath: string
  readonly providerSessionId: string
  /** Spindle's MCP endpoint and this session's own provider token (never logged, never on a command line). */
  readonly mcp: { readonly url: string; readonly token: Redacted.Redacted<string> }
  /** The provider's conversation an earlier session had (Codex thread id): resume it instead of starting blind. */
  readonly resumeCursor: string | null
  /**
   * Records what the agent does, in order; reports given together (an item done and the turn's
   * end, say) are recorded together.
   */
  readonly report: (...reports: ReadonlyArray<ProviderReport>) => Effect.Effect<void>
}

export interface AdapterSession {
  /** The provider's conversation id, recorded so a later session can resume it. */
  readonly resumeCursor: string | null
  /** Starts a turn; answers once the provider took it (the turn's end is reported). */
  readonly startTurn: (
    turnId: TurnId,
    prompt: string,
    attachments: ReadonlyArray<ThreadAttachment>
  ) => Effect.Effect<void, SpindleError>
  /** Adds a prompt to the running turn. */
  readonly steer: (
    turnId: TurnId,
    prompt: string,
    attachments: ReadonlyArray<ThreadAttachment>
  ) => Effect.Effect<void, SpindleError>
  readonly interrupt: (turnId: TurnId) => Effect.Effect<void, SpindleError>
  /** Answers one of the session's approval requests. */
  readonly respond: (requestId: string, decision: ApprovalDecision) => Effect.Effect<void, SpindleError>
  /** Completes, with why, when the session ends by itself (its process died or exited). */
  readonly ended: Effect.Effect<string>
}

export interface ProviderAdapter {
  readonly kind: ProviderKind
  /** Whether a thread of this project may use this provider and model; checked before any side effect. */
  readonly check: (project: Project, model: string | null) => SpindleError | undefined
  readonly startSession: (context: SessionContext) => Effect.Effect<AdapterSession, SpindleError, Scope.Scope>
}
