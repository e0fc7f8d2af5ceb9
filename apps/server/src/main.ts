// The composition root: every layer of the server wired together, and the startup sequence
// (listen, catch up, ready). Nothing here holds domain logic.
import { chmodSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import type * as NodeHttp from "node:http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { SpindleError } from "@spindle/contracts"
import { isDirectory } from "@spindle/shared/fs"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServer from "effect/http/HttpServer"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import { ClientTokens } from "./auth/ClientTokens.ts"
import { ProviderTokens } from "./auth/ProviderTokens.ts"
import { ThreadProviderTokens } from "./auth/ThreadProviderTokens.ts"
import { BoardAssets } from "./board/BoardAssets.ts"
import { BoardSignIn } from "./board/BoardSignIn.ts"
import { boardRoutes } from "./board/boardRoutes.ts"
import { BootstrapRecovery } from "./bootstrap/BootstrapRecovery.ts"
import { BootstrapTurnStartDispatcher } from "./bootstrap/BootstrapTurnStartDispatcher.ts"
import { crashPointsFromEnv } from "./bootstrap/CrashPoints.ts"
import { SetupRunner } from "./bootstrap/SetupRunner.ts"
import { StartupGate } from "./bootstrap/StartupGate.ts"
import { Attempts } from "./children/Attempts.ts"
import { CheckRunner } from "./children/CheckRunner.ts"
import { ChildThreads } from "./children/ChildThreads.ts"
import { CleanCheckouts } from "./children/CleanCheckouts.ts"
import { ParentWakes } from "./children/ParentWakes.ts"
import { ThreadMerge } from "./children/ThreadMerge.ts"
import { ClusterCalls } from "./cluster/ClusterCalls.ts"
import { Commands } from "./commands/Commands.ts"
import * as HostIdentity from "./config/HostIdentity.ts"
import {
  DEFAULT_PROVIDER_SETTINGS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  ServerConfig,
  type ServerSettings,
  serverInfoPath,
  storeOf
} from "./config/ServerConfig.ts"
import { describeStore } from "./config/Store.ts"
import { Engine } from "./engine/Engine.ts"
import { GitLayer } from "./git/GitLayer.ts"
import { type HostError, Hosts, LeaseLost } from "./hosts/Hosts.ts"
import { clusterRoute } from "./http/clusterRoute.ts"
import { healthRoute } from "./http/health.ts"
import { hostGuard } from "./http/hostGuard.ts"
import { ArchiveRecovery } from "./lifecycle/ArchiveRecovery.ts"
import { Retention } from "./lifecycle/Retention.ts"
import { ThreadLifecycle } from "./lifecycle/ThreadLifecycle.ts"
import { WorktreeReport } from "./lifecycle/WorktreeReport.ts"
import * as Logging from "./logging.ts"
import { mcpRoute } from "./mcp/McpEndpoint.ts"
import { Notify } from "./notify/Notify.ts"
import * as Database from "./persistence/Database.ts"
import { holdHomeLock } from "./persistence/HomeLock.ts"
import { WorktreePool } from "./pool/WorktreePool.ts"
import { ThreadPorts } from "./ports/ThreadPorts.ts"
import { ProviderAdapters } from "./providers/ProviderAdapters.ts"
import { ProviderService } from "./providers/ProviderService.ts"
import { StartQueue } from "./queue/StartQueue.ts"
import { ConflictRadar } from "./radar/ConflictRadar.ts"
import { ThreadWatch } from "./reads/ThreadWatch.ts"
import { SetupScripts } from "./setup/SetupScripts.ts"
import { VERSION } from "./version.ts"
import { SUBPROTOCOL } from "./ws/credentials.ts"
import { DEFAULT_HEARTBEAT, heartbeatSocket } from "./ws/heartbeat.ts"
import { MAX_FRAME_BYTES, WsLayer } from "./ws/WsServer.ts"

/** Creates `<home>` (mode 0700) if needed; warns when an existing one is open to others. */
export const prepareHome = (home: string) =>
  Effect.gen(function* () {
    if (!isDirectory(home)) {
      mkdirSync(home, { recursive: true, mode: 0o700 })
      chmodSync(home, 0o700)
      return
    }
    const mode = statSync(home).mode & 0o777
    if ((mode & 0o077) !== 0) {
      yield* Effect.logWarning(
        `${home} is readable by other users (mode ${mode.toString(8)}); run 'chmod 700 ${home}' to keep tokens private.`
      )
    }
  })

/** Domain services over the database: engine, gate, git, setup, bootstrap, command door. */
export const CoreLayer = (settings: ServerSettings) =>
  Layer.mergeAll(
    ChildThreads.layer,
    BootstrapRecovery.layer,
    ArchiveRecovery.layer,
    ClientTokens.layer,
    ProviderService.layer,
    WorktreeReport.layer,
    Retention.layer,
    StartQueue.layer,
    Notify.layer
  ).pipe(
    Layer.provideMerge(ParentWakes.layer),
    Layer.provideMerge(Layer.merge(Attempts.layer, CheckRunner.layer)),
    Layer.provideMerge(
      ThreadMerge.layer.pipe(
        Layer.provideMerge(CleanCheckouts.layer),
        Layer.provideMerge(ConflictRadar.layer)
      )
    ),
    Layer.provideMerge(ThreadProviderTokens.layer.pipe(Layer.provideMerge(ProviderTokens.layer))),
    Layer.provideMerge(Commands.layer.pipe(Layer.provideMerge(ClusterCalls.layer))),
    Layer.provideMerge(ThreadLifecycle.layer),
    Layer.provideMerge(ThreadWatch.layer),
    Layer.provideMerge(BootstrapTurnStartDispatcher.layer),
    Layer.provideMerge(WorktreePool.layer),
    Layer.provideMerge(ThreadPorts.layer),
    Layer.provideMerge(SetupRunner.layer),
    Layer.provideMerge(SetupScripts.layer),
    Layer.provideMerge(Hosts.layer.pipe(Layer.provideMerge(Engine.layer))),
    Layer.provideMerge(Database.layer(storeOf(settings))),
    Layer.provideMerge(StartupGate.layer),
    Layer.provideMerge(GitLayer),
    Layer.provideMerge(ProviderAdapters.layer),
    Layer.provideMerge(
      Layer.merge(ServerConfig.layer(settings), HostIdentity.layer(settings.home, settings.hostName))
    ),
    Layer.provideMerge(crashPointsFromEnv(process.env)),
    Layer.provide(NodeServices.layer)
  )

/**
 * Test-only: with SPINDLE_TEST_HOLD_STARTUP naming a file, startup stays in `starting` until that
 * file exists (at most 30 s), so tests can observe the gate. Unset, it does nothing.
 */
const holdForTests = Effect.suspend(() => {
  const hold = process.env.SPINDLE_TEST_HOLD_STARTUP
  if (hold === undefined) return Effect.void
  return Effect.sync(() => existsSync(hold)).pipe(
    Effect.repeat({ until: (present) => present, schedule: Schedule.spaced("10 millis") }),
    Effect.timeout("30 seconds"),
    Effect.ignore
  )
})

/** Runs after the port listens: catch up, then open the gate; writes `<home>/server.json`. */
const Startup = Layer.effectDiscard(
  Effect.gen(function* () {
    const config = yield* ServerConfig
    const engine = yield* Engine
    const recovery = yield* BootstrapRecovery
    const archives = yield* ArchiveRecovery
    const gate = yield* StartupGate
    const tokens = yield* ClientTokens
    const providers = yield* ProviderService
    const wakes = yield* ParentWakes
    const checks = yield* CheckRunner
    const retention = yield* Retention
    const pool = yield* WorktreePool
    const hosts = yield* Hosts
    const queue = yield* StartQueue
    const server = yield* HttpServer.HttpServer
    const url = HttpServer.formatAddress(server.address)
    const infoPath = serverInfoPath(config)
    const startup = Effect.gen(function* () {
      yield* engine.ready
      // In the store's hosts, heartbeating until the server stops; other hosts call it there.
      yield* hosts.register(config.advertiseUrl ?? url)
      yield* holdForTests
      yield* recovery.recover
      yield* archives.recover
      // Sessions and turns a stopped server left behind are settled before anything new arrives.
      yield* providers.activate(`${url}/mcp`)
      // Children that ended while the server was down wake their parents now.
      yield* wakes.start
      // Variants whose turn completed while the server was down get their check now.
      yield* checks.start
      writeFileSync(infoPath, `${JSON.stringify({ pid: process.pid, url, version: VERSION }, null, 2)}\n`, {
        mode: 0o600
      })
      const owner = yield* tokens.ensureOwnerToken()
      yield* gate.markReady
      // Queued starts resume in their order once new commands may arrive beside them.
      yield* queue.start
      yield* retention.start
      yield* pool.start
      yield* Effect.logInfo(
        `Spindle ${VERSION} ready on ${url} (home: ${config.home}${config.store === undefined ? "" : `; store: ${describeStore(config.store)}`})`
      )
      yield* Effect.logInfo(
        `${owner.created ? "Created an owner token in" : "The owner token is in"} ${owner.path}. Clients connect to ${url.replace(/^http/, "ws")}/ws with "Authorization: Bearer <token>".`
      )
      const agents = config.providers ?? DEFAULT_PROVIDER_SETTINGS
      yield* Effect.logInfo(
        agents.enabled
          ? `Threads run their agent (Codex: ${agents.codexBin}${agents.codexConfig.length > 0 ? ` with ${agents.codexConfig.length} config override(s)` : ""}); each session reaches ${url}/mcp with its own token.`
          : "Providers are off (--providers off): turns are recorded as requested and no agent runs."
      )
    }).pipe(
      Effect.catchCause((cause) => {
        const error = Cause.squash(cause)
        const failure =
          error instanceof SpindleError
            ? error
            : new SpindleError({ reason: "internal", message: `Startup failed: ${String(error)}` })
        return Effect.andThen(gate.markFailed(failure), Effect.logError(`Startup failed: ${failure.message}`))
      })
    )
    yield* Effect.forkScoped(startup)
    yield* Effect.addFinalizer(() =>
      Effect.all([
        // The queue first (a turn ended by the shutdown starts nothing), then the agents: their
        // processes hold MCP streams the HTTP server would otherwise wait for.
        Effect.andThen(queue.stop, providers.shutdown),
        Effect.sync(() => rmSync(infoPath, { force: true })),
        Effect.logInfo("Spindle stopped")
      ])
    )
  })
)

/**
 * node:http as the CommonJS module, not through `import`: its ESM facade reads every export,
 * including the lazy fetch and WebSocket ones, which loads undici (~40 ms of `spindle serve`'s
 * startup) for a server that does not use it until a request needs it.
 */
const nodeHttp = () => process.getBuiltinModule("node:http") as typeof NodeHttp

export const ServerLayer = (settings: ServerSettings) => {
  // A client that stalls mid-request (headers, or part of a body) is answered 408 and closed by
  // node:http itself, for every route at once; a response that streams for long is not affected.
  const requestTimeout = settings.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  const serverOptions = {
    requestTimeout,
    headersTimeout: Math.min(60_000, requestTimeout),
    // How often node looks for such clients (30 s by default, which would double the bound).
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(requestTimeout / 4)))
  }
  const http = NodeHttpServer.layer(() => nodeHttp().createServer(serverOptions), {
    host: settings.host,
    port: settings.port,
    gracefulShutdownTimeout: "5 seconds",
    websocket: {
      maxPayload: MAX_FRAME_BYTES,
      WebSocket: heartbeatSocket(settings.heartbeat ?? DEFAULT_HEARTBEAT),
      // Browsers offer `spindle` plus `bearer.<token>`; answer with `spindle`, never the token.
      handleProtocols: (protocols: Set<string>) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false)
    }
  })
  const routes = Layer.mergeAll(healthRoute, hostGuard, WsLayer, mcpRoute, boardRoutes, clusterRoute).pipe(
    Layer.provide(Layer.mergeAll(BoardSignIn.layer, BoardAssets.layer))
  )
  return Layer.mergeAll(
    HttpRouter.serve(routes, { disableListenLog: true, disableLogger: true }),
    Startup
  ).pipe(Layer.provideMerge(http), Layer.provideMerge(CoreLayer(settings)))
}

/** `spindle serve`: runs until SIGINT/SIGTERM, then finishes in-flight commands and exits 0. */
export const serve = (settings: ServerSettings) =>
  Effect.gen(function* () {
    yield* prepareHome(settings.home)
    // Before the database, migrations, recovery or server.json: a second server touches nothing.
    yield* holdHomeLock(settings.home)
    // A host whose lease on a shared store lapsed stops (hosts/Hosts.ts): the race ends the server.
    const leaseLost = yield* Deferred.make<never, HostError>()
    return yield* Effect.raceFirst(
      Layer.launch(ServerLayer(settings)).pipe(Effect.provideService(LeaseLost, leaseLost)),
      Deferred.await(leaseLost)
    )
  }).pipe(
    Effect.scoped,
    Logging.logDefects,
    Effect.provide(Logging.layer({ level: settings.logLevel, format: settings.logFormat }))
  )

/** Shutdown by signal is a clean exit; anything else keeps its failure exit code. */
export const teardown = <E, A>(exit: Exit.Exit<E, A>, onExit: (code: number) => void) => {
  if (Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause)) return onExit(0)
  return onExit(1)
}
