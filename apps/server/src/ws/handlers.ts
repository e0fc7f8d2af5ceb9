// The RPC handlers: authorize each call against the client's token and scope, then call one
// service. No domain logic lives here; errors are the services' own SpindleErrors.
import {
  DEFAULT_WAIT_SECONDS,
  RpcScopes,
  SpindleError,
  SpindleRpcs,
  type SpindleRpcTag,
  type ThreadId
} from "@spindle/contracts"
import { randomHex } from "@spindle/shared/random"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Headers from "effect/http/Headers"
import * as Stream from "effect/Stream"
import { ClientTokens } from "../auth/ClientTokens.ts"
import { ProviderTokens } from "../auth/ProviderTokens.ts"
import { ThreadProviderTokens } from "../auth/ThreadProviderTokens.ts"
import { listTokens, revokeToken } from "../auth/tokenAdmin.ts"
import { BoardSignIn } from "../board/BoardSignIn.ts"
import { StartupGate } from "../bootstrap/StartupGate.ts"
import { Commands } from "../commands/Commands.ts"
import { DEFAULT_PROVIDER_SETTINGS, ServerConfig } from "../config/ServerConfig.ts"
import { Engine } from "../engine/Engine.ts"
import { threadNotFound } from "../engine/notFound.ts"
import { WorktreeReport } from "../lifecycle/WorktreeReport.ts"
import { EventStore } from "../persistence/EventStore.ts"
import { ThreadWatch } from "../reads/ThreadWatch.ts"
import { SetupScripts } from "../setup/SetupScripts.ts"
import { setupLogStream } from "../setup/setupLog.ts"
import { VERSION } from "../version.ts"
import { tokenFromHeaders } from "./credentials.ts"
import { boundedEvents } from "./subscription.ts"

const asWire = (error: unknown): SpindleError =>
  error instanceof SpindleError
    ? error
    : new SpindleError({ reason: "internal", message: "The server failed; see its log. Retry the request." })

export const HandlersLayer = SpindleRpcs.toLayer(
  Effect.gen(function* () {
    const tokens = yield* ClientTokens
    const providerTokens = yield* ProviderTokens
    const threadTokens = yield* ThreadProviderTokens
    const commands = yield* Commands
    const engine = yield* Engine
    const gate = yield* StartupGate
    const setupScripts = yield* SetupScripts
    const startedAt = yield* Clock.currentTimeMillis
    const config = yield* ServerConfig
    const watch = yield* ThreadWatch
    const report = yield* WorktreeReport
    const boardSignIn = yield* BoardSignIn
    const eventStore = yield* EventStore

    const existing = (threadId: ThreadId) =>
      Effect.flatMap(engine.getThread(threadId), (thread) =>
        thread === undefined ? Effect.fail(threadNotFound(threadId)) : Effect.succeed(thread)
      )

    /**
     * Every call is authorized from its own headers: the handshake's come first, but a client
     * may add its own per call, so whatever token is there is checked in full.
     */
    const authorized = (tag: SpindleRpcTag, headers: Headers.Headers) =>
      Effect.gen(function* () {
        const principal = yield* tokens.resolve(tokenFromHeaders(headers))
        yield* tokens.authorize(principal, RpcScopes[tag])
        return principal
      }).pipe(Effect.mapError(asWire))

    return {
      "server.getStatus": (_, { headers }) =>
        Effect.gen(function* () {
          yield* authorized("server.getStatus", headers)
          const state = yield* gate.state
          const model = yield* engine.readModel
          return {
            status: state.status,
            version: VERSION,
            uptimeMs: (yield* Clock.currentTimeMillis) - startedAt,
            sequence: model.sequence,
            providers: (config.providers ?? DEFAULT_PROVIDER_SETTINGS).enabled
          }
        }),
      "orchestration.dispatchCommand": ({ command, await: awaitWhat }, { headers }) =>
        Effect.gen(function* () {
          const principal = yield* authorized("orchestration.dispatchCommand", headers)
          return yield* commands.dispatch(
            command,
            { kind: "client", tokenId: principal.tokenId },
            awaitWhat === undefined ? {} : { await: awaitWhat }
          )
        }),
      "orchestration.getSnapshot": (_, { headers }) =>
        Effect.andThen(authorized("orchestration.getSnapshot", headers), engine.snapshot),
      "orchestration.subscribe": ({ fromSequence }, { headers }) =>
        Stream.unwrap(
          Effect.map(authorized("orchestration.subscribe", headers), () =>
            boundedEvents(engine, fromSequence)
          )
        ),
      "thread.get": ({ threadId }, { headers }) =>
        Effect.gen(function* () {
          yield* authorized("thread.get", headers)
          const thread = yield* engine.getThread(threadId)
          if (thread === undefined) {
            return yield* threadNotFound(threadId)
          }
          return thread
        }),
      "thread.show": ({ threadId }, { headers }) =>
        Effect.gen(function* () {
          yield* authorized("thread.show", headers)
          const thread = yield* existing(threadId)
          return { thread, output: yield* watch.output(thread) }
        }),
      "thread.diff": ({ threadId }, { headers }) =>
        Effect.gen(function* () {
          yield* authorized("thread.diff", headers)
          return yield* watch.diff(yield* existing(threadId))
        }),
      "thread.wait": (payload, { headers }) =>
        Effect.gen(function* () {
          yield* authorized("thread.wait", headers)
          const threadIds = [...new Set(payload.threadIds)]
          yield* Effect.forEach(threadIds, existing, { discard: true })
          return yield* watch.wait({
            threadIds,
            until: payload.until ?? "all",
            for: payload.for ?? "turn-completed",
            timeoutMs: (payload.timeoutSeconds ?? DEFAULT_WAIT_SECONDS) * 1000
          })
        }),
      "thread.events": ({ threadId, limit, beforeSequence }, { headers }) =>
        Effect.gen(function* () {
          yield* authorized("thread.events", headers)
          yield* existing(threadId)
          return yield* eventStore
            .recentOfThread(threadId, limit ?? 200, beforeSequence)
            .pipe(Effect.mapError(asWire))
        }),
      "thread.streamSetupLog": ({ threadId }, { headers }) =>
        Stream.unwrap(
          Effect.as(
            authorized("thread.streamSetupLog", headers),
            setupLogStream(engine, setupScripts, threadId as ThreadId)
          )
        ),
      "project.list": (_, { headers }) =>
        Effect.andThen(
          authorized("project.list", headers),
          Effect.map(engine.snapshot, (snapshot) => snapshot.projects)
        ),
      "worktree.list": ({ projectId }, { headers }) =>
        Effect.andThen(authorized("worktree.list", headers), report.list(projectId)),
      "worktree.cleanup": ({ projectId }, { headers }) =>
        Effect.gen(function* () {
          const principal = yield* authorized("worktree.cleanup", headers)
          return yield* gate.enqueue(
            report.cleanup(projectId, { kind: "client", tokenId: principal.tokenId })
          )
        }),
      "token.create": ({ input }, { headers }) =>
        Effect.andThen(authorized("token.create", headers), tokens.create(input)).pipe(
          Effect.mapError(asWire)
        ),
      "token.list": (_, { headers }) =>
        Effect.andThen(authorized("token.list", headers), listTokens(tokens, providerTokens)).pipe(
          Effect.mapError(asWire)
        ),
      "token.revoke": (input, { headers }) =>
        Effect.andThen(authorized("token.revoke", headers), revokeToken(tokens, providerTokens, input)).pipe(
          Effect.mapError(asWire)
        ),
      "token.rotateOwner": (_, { headers }) =>
        Effect.andThen(authorized("token.rotateOwner", headers), tokens.rotateOwnerToken()).pipe(
          Effect.mapError(asWire)
        ),
      "token.issueMcp": ({ threadId, capabilities }, { headers }) =>
        Effect.gen(function* () {
          yield* authorized("token.issueMcp", headers)
          return yield* threadTokens.issueForThread({
            threadId,
            providerSessionId: `manual-${yield* randomHex(6)}`,
            capabilities: capabilities ?? ["thread-management", "thread-read"]
          })
        }).pipe(Effect.mapError(asWire)),
      "board.createSignInCode": (_, { headers }) =>
        Effect.andThen(authorized("board.createSignInCode", headers), boardSignIn.createCode())
    }
  })
)
