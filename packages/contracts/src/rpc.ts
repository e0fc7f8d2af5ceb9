// The WebSocket API as an Effect RPC group: one definition for the server, the TypeScript client
// and the JSON frames documented in docs/protocol.md. Each method declares the client scope it
// needs (`RequiredScope`), which the `Authorized` middleware checks on every call.
import * as Context from "effect/Context"
import * as Rpc from "effect/rpc/Rpc"
import * as RpcGroup from "effect/rpc/RpcGroup"
import * as RpcMiddleware from "effect/rpc/RpcMiddleware"
import * as Schema from "effect/Schema"
import { AttemptComparison, AttemptId, AttemptPickRequest, AttemptPickResult } from "./attempts.ts"
import { BootstrapAwait, BootstrapResult, QueuedBootstrapResult } from "./bootstrap.ts"
import { ThreadDiff, ThreadOutput, WaitFor, WaitUntil } from "./children.ts"
import { ClientCommand } from "./commands.ts"
import { SpindleError } from "./errors.ts"
import { SpindleEvent } from "./events.ts"
import { Host } from "./hosts.ts"
import { ProjectId, Sequence, ThreadId } from "./ids.ts"
import { ArchiveResult, ProjectRemoveResult, WorktreeEntry } from "./lifecycle.ts"
import { IssuedProviderToken, ProviderCapability } from "./mcp.ts"
import { ThreadMergeRequest, ThreadMergeResult } from "./merge.ts"
import { Project } from "./project.ts"
import { ProjectOverlaps, ThreadChildrenRadar, ThreadOverlap } from "./radar.ts"
import { DispatchResult, Snapshot } from "./readModel.ts"
import { Thread } from "./thread.ts"
import {
  type ClientScope,
  ClientTokenCreateInput,
  CreatedClientToken,
  ListedToken,
  OwnerTokenRotation,
  TokenRevokeInput
} from "./tokens.ts"

/** The client scope an RPC needs: reads need `read`, commands `operate`, tokens `admin`. */
export class RequiredScope extends Context.Service<RequiredScope, ClientScope>()(
  "spindle/rpc/RequiredScope"
) {}

/** The client whose token a call was authorized with (its id, never the token). */
export class CallingClient extends Context.Service<CallingClient, { readonly tokenId: string }>()(
  "spindle/rpc/CallingClient"
) {}

/**
 * Checks every call's token (the call's own headers, which may override the handshake's) against
 * the RPC's `RequiredScope`, and provides the `CallingClient` to its handler.
 */
export class Authorized extends RpcMiddleware.Service<Authorized, { provides: CallingClient }>()(
  "spindle/rpc/Authorized",
  { error: SpindleError }
) {}

export const ServerStatus = Schema.Struct({
  status: Schema.Literals(["starting", "ready", "failed"]),
  version: Schema.String,
  uptimeMs: Schema.Number,
  /** The last event sequence. */
  sequence: Sequence,
  /** Whether this server runs threads' turns (false: `--providers off`, turns stay requested). */
  providers: Schema.optionalKey(Schema.Boolean),
  /** Where its state lives: `sqlite` (the home's file) or the Postgres URL without its password. */
  store: Schema.optionalKey(Schema.String),
  /** This server's host among those sharing its store. */
  host: Schema.optionalKey(Schema.Struct({ id: Schema.String, name: Schema.String }))
}).annotate({ identifier: "ServerStatus" })

export const CommandResult = Schema.Union([
  BootstrapResult,
  QueuedBootstrapResult,
  ArchiveResult,
  ProjectRemoveResult,
  DispatchResult
]).annotate({
  identifier: "CommandResult",
  description:
    "A BootstrapResult for a bootstrapped thread.turn.start (a QueuedBootstrapResult when it was queued past a limit), an ArchiveResult for thread.archive/unarchive/delete, a ProjectRemoveResult for project.remove, a DispatchResult otherwise"
})

export const SetupLogItem = Schema.Union([
  /** The run's log file as written so far (first item). */
  Schema.Struct({ kind: Schema.Literal("log"), run: Schema.NullOr(Schema.Int), text: Schema.String }),
  Schema.Struct({
    kind: Schema.Literal("line"),
    run: Schema.Int,
    stream: Schema.Literals(["stdout", "stderr"]),
    line: Schema.String
  })
]).annotate({ identifier: "SetupLogItem" })
export type SetupLogItem = typeof SetupLogItem.Type

/** A one-time code that signs a browser in to the board (`GET /signin?code=…`). */
export const BoardSignInCode = Schema.Struct({
  code: Schema.String,
  /** The path to open on the server, code included: `/signin?code=…`. */
  path: Schema.String,
  /** The code is refused after this time (a minute after it was made) or after its first use. */
  expiresAt: Schema.String
}).annotate({ identifier: "BoardSignInCode" })
export type BoardSignInCode = typeof BoardSignInCode.Type

export const SpindleRpcs = RpcGroup.make(
  Rpc.make("server.getStatus", { success: ServerStatus, error: SpindleError }).annotate(
    RequiredScope,
    "read"
  ),
  /** Every host sharing this server's store, with its state and load (one, on the embedded store). */
  Rpc.make("hosts.list", { success: Schema.Array(Host), error: SpindleError }).annotate(
    RequiredScope,
    "read"
  ),
  Rpc.make("orchestration.dispatchCommand", {
    payload: {
      /** A client command; the server names the field at fault in one it refuses. */
      command: ClientCommand,
      /** For bootstraps: answer once the workspace exists, or (default) once the turn is requested. */
      await: Schema.optionalKey(BootstrapAwait)
    },
    success: CommandResult,
    error: SpindleError
  }).annotate(RequiredScope, "operate"),
  Rpc.make("orchestration.getSnapshot", { success: Snapshot, error: SpindleError }).annotate(
    RequiredScope,
    "read"
  ),
  Rpc.make("orchestration.subscribe", {
    payload: {
      /** Events after this sequence are replayed, then live ones follow. 0 for everything. */
      fromSequence: Sequence
    },
    success: SpindleEvent,
    error: SpindleError,
    stream: true
  }).annotate(RequiredScope, "read"),
  Rpc.make("thread.get", { payload: { threadId: ThreadId }, success: Thread, error: SpindleError }).annotate(
    RequiredScope,
    "read"
  ),
  /** The thread with what its agent produced (last message, files and commits against its base). */
  Rpc.make("thread.show", {
    payload: { threadId: ThreadId },
    success: Schema.Struct({
      thread: Thread,
      output: ThreadOutput,
      /** The conflict radar: live threads whose changes overlap this one's. */
      overlaps: Schema.optionalKey(Schema.Array(ThreadOverlap))
    }),
    error: SpindleError
  }).annotate(RequiredScope, "read"),
  /** A thread's live children: their changes, the overlaps among them and the suggested merge order. */
  Rpc.make("thread.children", {
    payload: { threadId: ThreadId },
    success: ThreadChildrenRadar,
    error: SpindleError
  }).annotate(RequiredScope, "read"),
  /** The conflict radar's overlaps between live threads, of one project or of all. */
  Rpc.make("radar.overlaps", {
    payload: { projectId: Schema.optionalKey(ProjectId) },
    success: Schema.Array(ProjectOverlaps),
    error: SpindleError
  }).annotate(RequiredScope, "read"),
  /** The thread's full patch against its base. */
  Rpc.make("thread.diff", {
    payload: { threadId: ThreadId },
    success: ThreadDiff,
    error: SpindleError
  }).annotate(RequiredScope, "read"),
  /** Waits until threads reach a state (at most an hour per call); answers their states either way. */
  Rpc.make("thread.wait", {
    payload: {
      threadIds: Schema.Array(ThreadId).check(Schema.isMinLength(1), Schema.isMaxLength(256)),
      until: Schema.optionalKey(WaitUntil),
      for: Schema.optionalKey(WaitFor),
      timeoutSeconds: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 3600 })))
    },
    success: Schema.Struct({
      done: Schema.Boolean,
      timedOut: Schema.Boolean,
      reached: Schema.Array(ThreadId),
      threads: Schema.Array(Thread)
    }),
    error: SpindleError
  }).annotate(RequiredScope, "read"),
  /** The thread's last events (at most `limit`, default 200, before `beforeSequence` if given), oldest first. */
  Rpc.make("thread.events", {
    payload: {
      threadId: ThreadId,
      limit: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1000 }))),
      beforeSequence: Schema.optionalKey(Sequence)
    },
    success: Schema.Array(SpindleEvent),
    error: SpindleError
  }).annotate(RequiredScope, "read"),
  /** Merges the thread's branch into its parent's branch, else its base branch, or `into` (dryRun: only says what would happen). */
  Rpc.make("thread.merge", {
    payload: ThreadMergeRequest,
    success: ThreadMergeResult,
    error: SpindleError
  }).annotate(RequiredScope, "operate"),
  /** An attempt's variants compared: turn state, diff stat, files both changed, check exit codes. */
  Rpc.make("attempt.show", {
    payload: { attemptId: AttemptId },
    success: AttemptComparison,
    error: SpindleError
  }).annotate(RequiredScope, "read"),
  /** Merges the chosen variant (as thread.merge) and archives the others (archive keeps unmerged work). */
  Rpc.make("attempt.pick", {
    payload: AttemptPickRequest,
    success: AttemptPickResult,
    error: SpindleError
  }).annotate(RequiredScope, "operate"),
  Rpc.make("thread.streamSetupLog", {
    payload: { threadId: ThreadId },
    success: SetupLogItem,
    error: SpindleError,
    stream: true
  }).annotate(RequiredScope, "read"),
  Rpc.make("project.list", { success: Schema.Array(Project), error: SpindleError }).annotate(
    RequiredScope,
    "read"
  ),
  /** Every worktree under Spindle's root: its thread, size, state and what the cleanup would do. */
  Rpc.make("worktree.list", {
    payload: { projectId: Schema.optionalKey(ProjectId) },
    success: Schema.Array(WorktreeEntry),
    error: SpindleError
  }).annotate(RequiredScope, "read"),
  /** Does what worktree.list says (each entry re-checked right before); answers each entry's result. */
  Rpc.make("worktree.cleanup", {
    payload: { projectId: Schema.optionalKey(ProjectId) },
    success: Schema.Array(WorktreeEntry),
    error: SpindleError
  }).annotate(RequiredScope, "operate"),
  Rpc.make("token.create", {
    payload: { input: ClientTokenCreateInput },
    success: CreatedClientToken,
    error: SpindleError
  }).annotate(RequiredScope, "admin"),
  /** Tokens of both kinds (client and provider), revoked and expired ones included, newest first. */
  Rpc.make("token.list", { success: Schema.Array(ListedToken), error: SpindleError }).annotate(
    RequiredScope,
    "admin"
  ),
  /** Revokes a token of either kind by id; the owner token only with `force`. Idempotent. */
  Rpc.make("token.revoke", { payload: TokenRevokeInput, success: ListedToken, error: SpindleError }).annotate(
    RequiredScope,
    "admin"
  ),
  /** Writes a new owner token to <home>/owner-token, then revokes the previous one. */
  Rpc.make("token.rotateOwner", { success: OwnerTokenRotation, error: SpindleError }).annotate(
    RequiredScope,
    "admin"
  ),
  Rpc.make("token.issueMcp", {
    /** A provider session token for an agent working in `threadId` (default capabilities: both). */
    payload: { threadId: ThreadId, capabilities: Schema.optionalKey(Schema.Array(ProviderCapability)) },
    success: IssuedProviderToken,
    error: SpindleError
  }).annotate(RequiredScope, "admin"),
  /**
   * A one-time code for the web board, valid for a minute: the browser trades it at
   * `/signin?code=…` for an HttpOnly cookie bound to a new client token with `read` and `operate`.
   */
  Rpc.make("board.createSignInCode", { success: BoardSignInCode, error: SpindleError }).annotate(
    RequiredScope,
    "admin"
  )
).middleware(Authorized)

export type SpindleRpcTag = typeof SpindleRpcs extends RpcGroup.RpcGroup<infer R> ? R["_tag"] : never
