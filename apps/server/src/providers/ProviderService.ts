// Runs threads' turns. A registry of provider adapters, at most one live session per thread, and a
// reactor (providerReactor.ts) that follows the event log: a requested turn starts (a session first, with its own
// provider token), a steer or an interrupt reaches the session, an approval answer goes back to the
// agent, and an archived or deleted thread's session stops. A session that dies mid-turn fails the
// turn with the reason and leaves the thread `session: error`; the next turn starts a new session
// (resuming the provider's conversation). On start it reconciles what a stopped server left running.
// A watchdog (turnWatchdog.ts) marks turns without progress stalled, then stops them; a session
// idle for the idle timeout is stopped (idleSessions.ts) and the next turn resumes its conversation.
import {
  type ApprovalOutcome,
  type ChildNotice,
  type ProviderKind,
  SpindleError,
  type Thread,
  type ThreadId,
  type TurnId
} from "@spindle/contracts"
import { hasLiveTurn as isLiveTurn } from "@spindle/read-model"
import { makeKeyedLock } from "@spindle/shared/keyedLock"
import { randomHex } from "@spindle/shared/random"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as RcMap from "effect/RcMap"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { ProviderTokens } from "../auth/ProviderTokens.ts"
import { ThreadProviderTokens } from "../auth/ThreadProviderTokens.ts"
import { DEFAULT_PROVIDER_SETTINGS, ServerConfig } from "../config/ServerConfig.ts"
import { Engine } from "../engine/Engine.ts"
import { EventStore } from "../persistence/EventStore.ts"
import { DEFAULT_SESSION_IDLE_TIMEOUT_MS, type IdleSessions, makeIdleSessions } from "./idleSessions.ts"
import type { AdapterSession, ProviderAdapter } from "./ProviderAdapter.ts"
import { ProviderAdapters } from "./ProviderAdapters.ts"
import { startReactor } from "./providerReactor.ts"
import { makeThreadReports, sessionChanged } from "./threadReports.ts"
import {
  DEFAULT_TURN_STALL_INTERRUPT_MS,
  DEFAULT_TURN_STALL_TIMEOUT_MS,
  makeTurnWatchdog
} from "./turnWatchdog.ts"

interface Live {
  readonly providerSessionId: string
  readonly resumeCursor: string | null
  readonly token: Redacted.Redacted<string>
  readonly session: AdapterSession
  /** Holds the session in the map of sessions; closing it stops the agent and revokes its token. */
  readonly holder: Scope.Closeable
  /** Set when Spindle stops the session on purpose, so its end is not reported as a crash. */
  stopping: boolean
  /** When its token was last found valid (epoch ms). */
  tokenCheckedAt: number
}

/** How long a token found valid is taken as valid without looking again (ProviderSettings.tokenRecheckMs). */
const DEFAULT_TOKEN_RECHECK_MS = 30_000

/** Notices as the agent reads them, one paragraph each. */
const noticesText = (notices: ReadonlyArray<ChildNotice>) =>
  notices.map((notice) => `[Spindle] ${notice.text}`).join("\n\n")

const providerError = (threadId: ThreadId, message: string) =>
  new SpindleError({ reason: "provider", threadId, message })

/** The thread's recorded attachments at these paths (Spindle's copies, as the events name them). */
const attachmentsAt = (thread: Thread | undefined, paths: ReadonlyArray<string>) =>
  paths.length === 0 ? [] : (thread?.attachments ?? []).filter((a) => paths.includes(a.path))

export class ProviderService extends Context.Service<
  ProviderService,
  {
    /**
     * Starts running turns: reconciles sessions and turns a stopped server left behind, runs
     * requested turns, then follows the log. `mcpUrl` is the endpoint sessions are given.
     */
    readonly activate: (mcpUrl: string) => Effect.Effect<void>
    /** Stops every session (called before the HTTP server closes, so agents' MCP streams end first). */
    readonly shutdown: Effect.Effect<void>
    /** The adapter for a provider, to check a thread's settings before any side effect. */
    readonly adapter: (kind: ProviderKind) => ProviderAdapter | undefined
    /** Threads with a live session now. */
    readonly liveSessions: Effect.Effect<ReadonlyArray<ThreadId>>
  }
>()("spindle/providers/ProviderService") {
  static readonly layer = Layer.effect(
    ProviderService,
    Effect.gen(function* () {
      const engine = yield* Engine
      const eventStore = yield* EventStore
      const threadTokens = yield* ThreadProviderTokens
      const tokens = yield* ProviderTokens
      const adapters = yield* ProviderAdapters
      const config = yield* ServerConfig
      const settings = config.providers ?? DEFAULT_PROVIDER_SETTINGS
      const scope = yield* Effect.scope
      // Recorders outlive the shutdown finalizer below (a child scope made first closes last), so
      // the turns it interrupts are still recorded.
      const recorderScope = yield* Scope.fork(scope)

      const live = new Map<ThreadId, Live>()
      const locked = makeKeyedLock<ThreadId>()
      let mcpUrl = ""

      const { report, record, endTurn } = yield* makeThreadReports(
        engine,
        recorderScope,
        (threadId) => live.get(threadId)?.providerSessionId ?? "spindle"
      )

      /** Ends a live session: its process stops, then its token is revoked (the session's release). */
      const closeLive = Effect.fn("ProviderService.closeLive")(function* (threadId: ThreadId, session: Live) {
        session.stopping = true
        if (live.get(threadId) === session) live.delete(threadId)
        yield* idle.forget(threadId, session.providerSessionId)
        yield* Scope.close(session.holder, Exit.void)
      })

      /** What happens when a session ends without Spindle asking: the turn fails, the session is in error. */
      const onEnded = Effect.fn("ProviderService.onEnded")(function* (
        threadId: ThreadId,
        session: Live,
        why: string
      ) {
        return yield* locked(
          threadId,
          Effect.gen(function* () {
            if (session.stopping || live.get(threadId) !== session) return
            yield* closeLive(threadId, session)
            yield* Effect.logWarning(`The agent's session ended: ${why}`).pipe(
              Effect.annotateLogs({ threadId })
            )
            const thread = yield* engine.getThread(threadId)
            if (thread?.latestTurn !== null && thread !== undefined && isLiveTurn(thread)) {
              yield* endTurn(
                threadId,
                thread.latestTurn.turnId,
                "failed",
                `The agent's session ended during the turn: ${why}. Send the prompt again to start a new session.`
              )
            }
            yield* report(threadId, sessionChanged("error", session.providerSessionId, null, why))
          })
        )
      })

      /**
       * A thread's session as a resource: its token and its process are acquired in the entry's
       * scope, so whatever interrupts the start (a stop, a shutdown) at any point releases both,
       * and closing the last holder stops the process, then revokes the token.
       */
      const sessions = yield* RcMap.make({
        lookup: Effect.fn("ProviderService.acquireSession")(function* (threadId: ThreadId) {
          const thread = yield* engine.getThread(threadId)
          if (thread === undefined)
            return yield* providerError(threadId, `Thread ${threadId} no longer exists.`)
          const adapter = adapters.get(thread.provider)
          const project = yield* engine.getProject(thread.projectId)
          if (adapter === undefined || project === undefined) {
            return yield* providerError(
              thread.id,
              adapter === undefined
                ? `No provider ${thread.provider} is available on this server.`
                : `Project ${thread.projectId} no longer exists.`
            )
          }
          const refused = adapter.check(project, thread.model)
          if (refused !== undefined) return yield* refused
          const worktreePath = thread.workspace.worktreePath
          if (worktreePath === null) {
            return yield* providerError(thread.id, `Thread ${thread.id} has no worktree to run the agent in.`)
          }
          const providerSessionId = `ps_${yield* randomHex(8)}`
          const resumeCursor = thread.session.resumeCursor
          yield* report(thread.id, sessionChanged("starting", providerSessionId, resumeCursor))
          const issued = yield* Effect.acquireRelease(
            threadTokens
              .issueForThread({
                threadId: thread.id,
                providerSessionId,
                capabilities: ["thread-management", "thread-read"]
              })
              .pipe(
                Effect.mapError((error) =>
                  error instanceof SpindleError
                    ? error
                    : providerError(thread.id, `Could not issue the session's token: ${error.message}`)
                )
              ),
            (token) =>
              tokens
                .revoke(token.id)
                .pipe(Effect.ignore({ log: "Warn", message: "Could not revoke an ended session's token" }))
          )
          const started = yield* adapter
            .startSession({
              thread,
              project,
              worktreePath,
              providerSessionId,
              mcp: { url: mcpUrl, token: Redacted.make(issued.token) },
              resumeCursor,
              report: (...reports) =>
                Effect.andThen(
                  Effect.andThen(
                    idle.touch(thread.id, providerSessionId),
                    Effect.forEach(reports, (r) => watchdog.observe(thread.id, r), { discard: true })
                  ),
                  record(thread.id, ...reports)
                )
            })
            .pipe(
              Effect.tapError((error) =>
                report(thread.id, sessionChanged("error", providerSessionId, null, error.message))
              )
            )
          return {
            providerSessionId,
            resumeCursor: started.resumeCursor ?? resumeCursor,
            token: Redacted.make(issued.token),
            session: started
          }
        })
      })

      /** The thread's live session, started (with its own token) if there is none. */
      const ensureSession = Effect.fn("ProviderService.ensureSession")(function* (thread: Thread) {
        const existing = live.get(thread.id)
        if (existing !== undefined) return existing
        // The holder's scope keeps the session; it is registered before anything can interrupt.
        const session = yield* Effect.uninterruptibleMask((restore) =>
          Effect.gen(function* () {
            const holder = yield* Scope.make()
            const acquired = yield* restore(RcMap.get(sessions, thread.id)).pipe(
              Scope.provide(holder),
              Effect.onError(() => Scope.close(holder, Exit.void))
            )
            const session: Live = {
              ...acquired,
              holder,
              stopping: false,
              tokenCheckedAt: yield* Clock.currentTimeMillis
            }
            live.set(thread.id, session)
            return session
          })
        )
        yield* idle.touch(thread.id, session.providerSessionId)
        yield* report(thread.id, sessionChanged("running", session.providerSessionId, session.resumeCursor))
        yield* Effect.forkIn(
          Effect.flatMap(session.session.ended, (why) => onEnded(thread.id, session, why)),
          scope
        )
        return session
      })

      /**
       * A session's token lives 24 hours at most and 2 hours unused. A turn uses it (which keeps an
       * idle session's token alive); one that stopped working means a new session, which resumes
       * the agent's conversation with a new token. One found valid a moment ago (tokenRecheckMs) is
       * not looked up again: back-to-back turns do not each wait for the store, and a token revoked
       * by hand within that moment still fails the agent's calls at the MCP endpoint.
       */
      const recheckMs = settings.tokenRecheckMs ?? DEFAULT_TOKEN_RECHECK_MS
      const renewIfExpired = Effect.fn("ProviderService.renewIfExpired")(function* (threadId: ThreadId) {
        const session = live.get(threadId)
        if (session === undefined) return
        const now = yield* Clock.currentTimeMillis
        if (now - session.tokenCheckedAt < recheckMs) return
        const valid = yield* Effect.exit(tokens.resolve(Redacted.value(session.token)))
        if (Exit.isSuccess(valid)) {
          session.tokenCheckedAt = now
          return
        }
        yield* closeLive(threadId, session)
        yield* report(threadId, sessionChanged("stopped", session.providerSessionId, null))
        yield* Effect.logInfo("Restarted an agent session whose token had expired").pipe(
          Effect.annotateLogs({ threadId })
        )
      })

      const runTurn = (
        threadId: ThreadId,
        turnId: TurnId,
        prompt: string,
        attachmentPaths: ReadonlyArray<string> = []
      ) =>
        locked(
          threadId,
          Effect.gen(function* () {
            const thread = yield* engine.getThread(threadId)
            if (thread === undefined || thread.status !== "active" || !isLiveTurn(thread, turnId)) return
            if (thread.latestTurn?.status !== "requested") return
            yield* renewIfExpired(threadId)
            // Notices about its children that waited for this turn go first.
            const notices = thread.childNotices
            const outcome = yield* Effect.exit(
              Effect.flatMap(ensureSession(thread), (session) =>
                session.session.startTurn(
                  turnId,
                  notices.length === 0 ? prompt : `${noticesText(notices)}\n\n${prompt}`,
                  attachmentsAt(thread, attachmentPaths)
                )
              )
            )
            if (Exit.isSuccess(outcome)) yield* watchdog.watch(threadId, turnId)
            const running = live.get(threadId)
            if (running !== undefined) yield* idle.touch(threadId, running.providerSessionId)
            if (Exit.isSuccess(outcome) && notices.length > 0) {
              yield* report(threadId, {
                type: "notices-delivered",
                noticeIds: notices.map((n) => n.noticeId)
              })
            }
            if (Exit.isFailure(outcome)) {
              const error = Cause.squash(outcome.cause)
              const message = error instanceof SpindleError ? error.message : String(error)
              yield* endTurn(threadId, turnId, "failed", message)
            }
          })
        )

      const steer = Effect.fn("ProviderService.steer")(function* (
        threadId: ThreadId,
        turnId: TurnId,
        prompt: string,
        attachmentPaths: ReadonlyArray<string> = []
      ) {
        return yield* locked(
          threadId,
          Effect.gen(function* () {
            const session = live.get(threadId)
            const thread = yield* engine.getThread(threadId)
            const attachments = attachmentsAt(thread, attachmentPaths)
            const steered =
              session === undefined
                ? false
                : Exit.isSuccess(yield* Effect.exit(session.session.steer(turnId, prompt, attachments)))
            if (steered) return
            // The prompt did not reach the turn: it starts the next turn instead, once this one
            // has ended (at once if it already has; an agent that takes no prompt mid-turn waits).
            const commandId = `steer-${yield* randomHex(8)}`
            const startNext = engine
              .dispatch(
                {
                  type: "thread.turn.send",
                  commandId: commandId as never,
                  turnId: commandId as never,
                  threadId,
                  prompt,
                  attachments
                },
                { kind: "server" }
              )
              .pipe(
                Effect.catch((error) =>
                  Effect.logWarning(`A steering prompt could not start a turn: ${error.message}`).pipe(
                    Effect.annotateLogs({ threadId })
                  )
                )
              )
            const turnEnded = engine.getThread(threadId).pipe(
              Effect.map((thread) => thread === undefined || !isLiveTurn(thread, turnId)),
              Effect.repeat({ until: (ended) => ended, schedule: Schedule.spaced("250 millis") })
            )
            yield* Effect.forkIn(Effect.andThen(turnEnded, startNext), scope)
          })
        )
      })

      const interrupt = Effect.fn("ProviderService.interrupt")(function* (
        threadId: ThreadId,
        turnId: TurnId
      ) {
        return yield* locked(
          threadId,
          Effect.gen(function* () {
            const thread = yield* engine.getThread(threadId)
            if (thread === undefined || !isLiveTurn(thread, turnId)) return
            const session = live.get(threadId)
            const asked =
              session !== undefined &&
              thread.latestTurn?.status === "running" &&
              Exit.isSuccess(yield* Effect.exit(session.session.interrupt(turnId)))
            // No session took it (the turn had not started): it ends here.
            if (!asked)
              yield* endTurn(threadId, turnId, "interrupted", "Interrupted before the agent started it.")
          })
        )
      })

      const respond = Effect.fn("ProviderService.respond")(function* (
        threadId: ThreadId,
        requestId: string,
        outcome: ApprovalOutcome
      ) {
        if (outcome === "expired") return
        const session = live.get(threadId)
        if (session === undefined) return
        yield* session.session
          .respond(requestId, outcome)
          .pipe(
            Effect.catch((error) =>
              Effect.logWarning(`An approval answer did not reach the agent: ${error.message}`).pipe(
                Effect.annotateLogs({ threadId, requestId })
              )
            )
          )
      })

      /** Into the agent's running turn when it can take a prompt mid-turn; else they wait for its next turn. */
      const deliver = Effect.fn("ProviderService.deliver")(function* (threadId: ThreadId) {
        return yield* locked(
          threadId,
          Effect.gen(function* () {
            const thread = yield* engine.getThread(threadId)
            const session = live.get(threadId)
            const turn = thread?.latestTurn
            if (thread === undefined || thread.childNotices.length === 0 || session === undefined) return
            if (turn?.status !== "running") return
            const notices = thread.childNotices
            const steered = yield* Effect.exit(session.session.steer(turn.turnId, noticesText(notices), []))
            if (Exit.isSuccess(steered)) {
              yield* report(threadId, {
                type: "notices-delivered",
                noticeIds: notices.map((n) => n.noticeId)
              })
            }
          })
        )
      })

      /** Stops a thread's session on purpose (archive, delete, shutdown); a live turn ends interrupted. */
      const stop = Effect.fn("ProviderService.stop")(function* (threadId: ThreadId, why: string) {
        return yield* locked(
          threadId,
          Effect.gen(function* () {
            const session = live.get(threadId)
            if (session === undefined) return
            yield* closeLive(threadId, session)
            const thread = yield* engine.getThread(threadId)
            if (thread?.latestTurn != null && isLiveTurn(thread)) {
              yield* endTurn(threadId, thread.latestTurn.turnId, "interrupted", why)
            }
            yield* report(threadId, sessionChanged("stopped", session.providerSessionId, null))
          })
        )
      })

      const watchdog = yield* makeTurnWatchdog(
        {
          stallAfterMs: settings.turnStallTimeoutMs ?? DEFAULT_TURN_STALL_TIMEOUT_MS,
          interruptAfterMs: settings.turnStallInterruptMs ?? DEFAULT_TURN_STALL_INTERRUPT_MS
        },
        {
          thread: engine.getThread,
          report,
          stop,
          endTurn: (id, turnId, why) => endTurn(id, turnId, "interrupted", why)
        }
      )

      /** Stops a session nobody used for the idle timeout; the thread keeps its conversation to resume. */
      const stopIfIdle = Effect.fn("ProviderService.stopIfIdle")(function* (
        threadId: ThreadId,
        providerSessionId: string,
        why: string
      ) {
        return yield* locked(
          threadId,
          Effect.gen(function* () {
            const session = live.get(threadId)
            if (session?.providerSessionId !== providerSessionId) return false
            const thread = yield* engine.getThread(threadId)
            if (thread !== undefined && (isLiveTurn(thread) || thread.pendingApprovals.length > 0))
              return false
            yield* closeLive(threadId, session)
            yield* report(threadId, sessionChanged("stopped", providerSessionId, null, null, why))
            yield* Effect.logInfo(`Stopped an idle agent session: ${why}`).pipe(
              Effect.annotateLogs({ threadId, providerSessionId })
            )
            return true
          })
        )
      })
      const idle: IdleSessions = yield* makeIdleSessions(
        settings.sessionIdleTimeoutMs ?? DEFAULT_SESSION_IDLE_TIMEOUT_MS,
        {
          stopIfIdle
        }
      )

      const activated = yield* Deferred.make<void>()
      const activate = Effect.fn("ProviderService.activate")(function* (url: string) {
        if (!settings.enabled || (yield* Deferred.isDone(activated))) return
        mcpUrl = url
        yield* Deferred.succeed(activated, undefined)
        yield* startReactor(
          { engine, eventStore, report, endTurn, scope },
          { runTurn, steer, interrupt, respond, stop, deliver }
        )
      })

      // Shutdown: every session stops (its turn interrupted) while the engine can still record it.
      const shutdown = Effect.suspend(() =>
        Effect.forEach([...live.keys()], (threadId) => stop(threadId, "Spindle shut down during the turn."), {
          concurrency: "unbounded",
          discard: true
        })
      ).pipe(
        Effect.timeout("10 seconds"),
        Effect.ignore,
        // Whatever could not be stopped in time still goes with the server.
        Effect.andThen(
          Effect.suspend(() =>
            Effect.forEach([...live.values()], (session) => Scope.close(session.holder, Exit.void), {
              discard: true
            })
          )
        )
      )
      yield* Effect.addFinalizer(() => shutdown)

      return {
        activate,
        shutdown,
        adapter: (kind: ProviderKind) => adapters.get(kind),
        liveSessions: Effect.sync(() => [...live.keys()])
      }
    })
  )
}
