// The RPC handlers: each calls one service once the `Authorized` middleware (authorized.ts) has
// checked the caller's token and scope. No domain logic lives here; errors are the services' own
// SpindleErrors.
import {
  type Actor,
  CallingClient,
  DEFAULT_WAIT_SECONDS,
  SpindleRpcs,
  type ThreadId
} from "@spindle/contracts"
import { randomHex } from "@spindle/shared/random"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { ClientTokens } from "../auth/ClientTokens.ts"
import { ProviderTokens } from "../auth/ProviderTokens.ts"
import { ThreadProviderTokens } from "../auth/ThreadProviderTokens.ts"
import { listTokens, revokeToken } from "../auth/tokenAdmin.ts"
import { BoardSignIn } from "../board/BoardSignIn.ts"
import { StartupGate } from "../bootstrap/StartupGate.ts"
import { Attempts } from "../children/Attempts.ts"
import { ThreadMerge } from "../children/ThreadMerge.ts"
import { ClusterCalls } from "../cluster/ClusterCalls.ts"
import { Commands } from "../commands/Commands.ts"
import { DEFAULT_PROVIDER_SETTINGS, ServerConfig } from "../config/ServerConfig.ts"
import { describeStore } from "../config/Store.ts"
import { Engine } from "../engine/Engine.ts"
import { threadNotFound } from "../engine/notFound.ts"
import { Hosts } from "../hosts/Hosts.ts"
import { WorktreeReport } from "../lifecycle/WorktreeReport.ts"
import { EventStore } from "../persistence/EventStore.ts"
import { ConflictRadar } from "../radar/ConflictRadar.ts"
import { ThreadWatch } from "../reads/ThreadWatch.ts"
import { SetupScripts } from "../setup/SetupScripts.ts"
import { setupLogStream } from "../setup/setupLog.ts"
import { VERSION } from "../version.ts"
import { asWire } from "./authorized.ts"
import { boundedEvents } from "./subscription.ts"

/** The client a call was authorized for, as the actor of what it does. */
const callerActor = Effect.gen(function* () {
  const caller = yield* CallingClient
  const actor: Actor = { kind: "client", tokenId: caller.tokenId }
  return actor
})

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
    const merges = yield* ThreadMerge
    const radar = yield* ConflictRadar
    const attempts = yield* Attempts
    const hosts = yield* Hosts
    const cluster = yield* ClusterCalls

    const existing = (threadId: ThreadId) =>
      Effect.flatMap(engine.getThread(threadId), (thread) =>
        thread === undefined ? Effect.fail(threadNotFound(threadId)) : Effect.succeed(thread)
      )

    return {
      "server.getStatus": () =>
        Effect.gen(function* () {
          const state = yield* gate.state
          const model = yield* engine.readModel
          return {
            status: state.status,
            version: VERSION,
            uptimeMs: (yield* Clock.currentTimeMillis) - startedAt,
            sequence: model.sequence,
            providers: (config.providers ?? DEFAULT_PROVIDER_SETTINGS).enabled,
            store: config.store === undefined ? "sqlite" : describeStore(config.store),
            host: { id: hosts.self.id, name: hosts.self.name }
          }
        }),
      "orchestration.dispatchCommand": ({ command, await: awaitWhat }) =>
        Effect.flatMap(callerActor, (actor) =>
          commands.dispatch(command, actor, awaitWhat === undefined ? {} : { await: awaitWhat })
        ),
      "hosts.list": () => hosts.list,
      "orchestration.getSnapshot": () => engine.snapshot,
      "orchestration.subscribe": ({ fromSequence }) => boundedEvents(engine, fromSequence),
      "thread.get": ({ threadId }) => existing(threadId),
      "thread.show": ({ threadId }) =>
        Effect.gen(function* () {
          const thread = yield* existing(threadId)
          const [output, overlaps] = yield* Effect.all([watch.output(thread), radar.overlapsOf(thread)], {
            concurrency: 2
          })
          return { thread, output, overlaps }
        }),
      "thread.children": ({ threadId }) => Effect.flatMap(existing(threadId), radar.children),
      "radar.overlaps": ({ projectId }) => radar.overlaps(projectId),
      // A thread another host owns is read, and merged, where its worktree is.
      "thread.diff": ({ threadId }) =>
        Effect.gen(function* () {
          const thread = yield* existing(threadId)
          const owner = yield* cluster.elsewhere(thread)
          if (owner === undefined) return yield* watch.diff(thread)
          return yield* cluster.diff(owner, thread.id, yield* callerActor)
        }),
      "thread.wait": (payload) =>
        Effect.gen(function* () {
          const threadIds = [...new Set(payload.threadIds)]
          yield* Effect.forEach(threadIds, existing, { discard: true })
          return yield* watch.wait({
            threadIds,
            until: payload.until ?? "all",
            for: payload.for ?? "turn-completed",
            timeoutMs: (payload.timeoutSeconds ?? DEFAULT_WAIT_SECONDS) * 1000
          })
        }),
      "thread.events": ({ threadId, limit, beforeSequence }) =>
        Effect.andThen(
          existing(threadId),
          eventStore.recentOfThread(threadId, limit ?? 200, beforeSequence).pipe(Effect.mapError(asWire))
        ),
      "thread.merge": (request) =>
        Effect.gen(function* () {
          const actor = yield* callerActor
          const owner = yield* cluster.elsewhere(yield* engine.getThread(request.threadId))
          if (owner !== undefined) return yield* cluster.merge(owner, request, actor)
          return yield* gate.enqueue(merges.merge(request, actor))
        }),
      "attempt.show": ({ attemptId }) => attempts.show(attemptId),
      "attempt.pick": (request) =>
        Effect.flatMap(callerActor, (actor) => gate.enqueue(attempts.pick(request, actor))),
      // Another host's thread: its setup log is streamed from that host, where the file is.
      "thread.streamSetupLog": ({ threadId }) =>
        Stream.unwrap(
          Effect.gen(function* () {
            const owner = yield* cluster.elsewhere(yield* engine.getThread(threadId as ThreadId))
            if (owner === undefined) return setupLogStream(engine, setupScripts, threadId as ThreadId)
            return cluster.setupLog(owner, threadId as ThreadId, yield* callerActor)
          })
        ),
      "project.list": () => Effect.map(engine.snapshot, (snapshot) => snapshot.projects),
      "worktree.list": ({ projectId }) => report.list(projectId),
      "worktree.cleanup": ({ projectId }) =>
        Effect.flatMap(callerActor, (actor) => gate.enqueue(report.cleanup(projectId, actor))),
      "token.create": ({ input }) => tokens.create(input).pipe(Effect.mapError(asWire)),
      "token.list": () => listTokens(tokens, providerTokens).pipe(Effect.mapError(asWire)),
      "token.revoke": (input) => revokeToken(tokens, providerTokens, input).pipe(Effect.mapError(asWire)),
      "token.rotateOwner": () => tokens.rotateOwnerToken().pipe(Effect.mapError(asWire)),
      "token.issueMcp": ({ threadId, capabilities }) =>
        Effect.gen(function* () {
          return yield* threadTokens.issueForThread({
            threadId,
            providerSessionId: `manual-${yield* randomHex(6)}`,
            capabilities: capabilities ?? ["thread-management", "thread-read"]
          })
        }).pipe(Effect.mapError(asWire)),
      "board.createSignInCode": () => boardSignIn.createCode()
    }
  })
)
