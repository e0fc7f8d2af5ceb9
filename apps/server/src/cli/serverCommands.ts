// `spindle serve` (runs the server: its settings and the server itself are imported only here),
// `spindle status` (is a server running for this home: url, version, uptime, threads by state)
// and `spindle stop` (SIGTERM to that server, then wait until it is gone).
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { discover, readServerInfo, resolveHome, withClient } from "./connect.ts"
import { CliFailure, EXIT } from "./errors.ts"
import { globalOptions } from "./globals.ts"
import { print } from "./output.ts"
import { threadState } from "./threadView.ts"

const text = (name: string, description: string) =>
  Flag.String(name).pipe(Flag.withDescription(description), Flag.optional)

export const serveCommand = Command.make(
  "serve",
  {
    store: text(
      "store",
      "postgres://USER@HOST:PORT/DB: keep the state in this Postgres database, which several hosts may share (SPINDLE_STORE, config store; default sqlite: the SQLite file in the home)"
    ),
    hostName: text(
      "host-name",
      "This host's name among the hosts sharing a store (SPINDLE_HOST_NAME, config hostName; default the machine's name)"
    ),
    clusterSecretFile: text(
      "cluster-secret-file",
      "A file whose first line is the secret the hosts sharing a store sign their calls to each other with; every host of the store needs the same (SPINDLE_CLUSTER_SECRET_FILE, config clusterSecretFile). Without it this host runs alone on its store"
    ),
    advertiseUrl: text(
      "advertise-url",
      "The URL other hosts reach this one at (SPINDLE_ADVERTISE_URL, config advertiseUrl; default the address it listens on)"
    ),
    host: text("host", "Address to bind (SPINDLE_HOST, config host; default 127.0.0.1)"),
    port: text("port", "Port, 0 for any free one (SPINDLE_PORT, config port; default 5757)"),
    logLevel: text("log-level", "debug | info | warn | error (SPINDLE_LOG_LEVEL; default info)"),
    logFormat: text("log-format", "pretty | json (SPINDLE_LOG_FORMAT; default pretty)"),
    allowOrigin: Flag.String("allow-origin").pipe(
      Flag.withDescription("Let a browser origin reach the server (repeatable; config allowedOrigins)"),
      Flag.atLeast(0)
    ),
    worktreeRoot: Flag.String("worktree-root").pipe(
      Flag.withDescription(
        "A directory existing_worktree threads may adopt from, besides each project's checkout's parent and <home>/worktrees (repeatable; SPINDLE_WORKTREE_ROOTS, ':'-separated; config worktreeRoots)"
      ),
      Flag.atLeast(0)
    ),
    maxBootstrapsPerProject: text(
      "max-bootstraps-per-project",
      "Bootstraps at once in one project (SPINDLE_MAX_BOOTSTRAPS_PER_PROJECT; default 4)"
    ),
    maxThreadsPerProject: text(
      "max-threads-per-project",
      "Active threads in one project (SPINDLE_MAX_THREADS_PER_PROJECT; default 64)"
    ),
    maxRunningTurns: text(
      "max-running-turns",
      "Turns running at once on this host; starts past it are queued and start in order as turns end (SPINDLE_MAX_RUNNING_TURNS; default: the number of cores)"
    ),
    providers: text(
      "providers",
      "on | off: run threads' turns with their agent (SPINDLE_PROVIDERS; default on); off records turns as requested"
    ),
    threadPorts: text(
      "thread-ports",
      "FIRST-LAST: ports thread blocks come from (SPINDLE_THREAD_PORTS; default 20000-32767)"
    ),
    codexBin: text("codex-bin", "The Codex CLI (SPINDLE_CODEX_BIN; default codex on PATH)"),
    codexConfig: Flag.String("codex-config").pipe(
      Flag.withDescription(
        "A Codex config override KEY=VALUE, as codex -c takes it (repeatable; SPINDLE_CODEX_CONFIG, one per line)"
      ),
      Flag.atLeast(0)
    ),
    turnStallTimeout: text(
      "turn-stall-timeout",
      "A running turn with no progress from its agent for this long is marked stalled: 90s, 5m, 1h, 0 for never (SPINDLE_TURN_STALL_TIMEOUT; default 5m)"
    ),
    turnStallInterrupt: text(
      "turn-stall-interrupt",
      "A turn with no progress for this long is stopped, with the reason, 0 for never (SPINDLE_TURN_STALL_INTERRUPT; default 30m)"
    ),
    sessionIdleTimeout: text(
      "session-idle-timeout",
      "An agent session with no turn for this long is stopped (process ended, token revoked); the next prompt resumes its conversation. 90s, 15m, 1h, 0 or off for never (SPINDLE_SESSION_IDLE_TIMEOUT; default 15m)"
    ),
    agentEnv: Flag.String("agent-env").pipe(
      Flag.withDescription(
        "NAME=VALUE, or NAME to pass the server's own, for every agent on top of its allowlist (repeatable; SPINDLE_AGENT_ENV, one per line)"
      ),
      Flag.atLeast(0)
    )
  },
  (flags) =>
    Effect.gen(function* () {
      const options = yield* globalOptions
      const home = resolveHome(options.home, process.env)
      const o = Option.getOrUndefined
      const { resolveServeSettings } = yield* Effect.promise(() => import("./serveSettings.ts"))
      const settings = yield* resolveServeSettings(
        {
          store: o(flags.store),
          hostName: o(flags.hostName),
          clusterSecretFile: o(flags.clusterSecretFile),
          advertiseUrl: o(flags.advertiseUrl),
          host: o(flags.host),
          port: o(flags.port),
          logLevel: o(flags.logLevel),
          logFormat: o(flags.logFormat),
          allowOrigin: flags.allowOrigin,
          worktreeRoot: flags.worktreeRoot,
          maxBootstrapsPerProject: o(flags.maxBootstrapsPerProject),
          maxThreadsPerProject: o(flags.maxThreadsPerProject),
          maxRunningTurns: o(flags.maxRunningTurns),
          providers: o(flags.providers),
          threadPorts: o(flags.threadPorts),
          codexBin: o(flags.codexBin),
          codexConfig: flags.codexConfig,
          agentEnv: flags.agentEnv,
          turnStallTimeout: o(flags.turnStallTimeout),
          turnStallInterrupt: o(flags.turnStallInterrupt),
          sessionIdleTimeout: o(flags.sessionIdleTimeout)
        },
        home,
        process.env
      )
      const { serve } = yield* Effect.promise(() => import("../main.ts"))
      const failed = (message: string) =>
        Effect.fail(new CliFailure({ code: EXIT.failed, reason: "serve-failed", message }))
      yield* serve(settings).pipe(
        Effect.catchTags({
          DatabaseError: (error) => failed(error.message),
          HomeLockError: (error) => failed(error.message),
          HostError: (error) => failed(error.message),
          ServeError: (error) =>
            failed(
              `cannot listen on ${settings.host}:${settings.port} (${String(error.cause ?? error.message)}). ` +
                "Is another server running there? Pass --port 0 or another port."
            )
        })
      )
    })
).pipe(
  Command.withDescription(
    `Run the server (also: npm start). Each setting comes from its flag, else its environment
variable, else <home>/config.json (keys: store, hostName, clusterSecretFile, advertiseUrl, host, port, logLevel, logFormat, allowedOrigins,
worktreeRoots, maxBootstrapsPerProject, maxThreadsPerProject, maxRunningTurns, providers, threadPorts, codexBin, codexConfig,
agentEnv, turnStallTimeout, turnStallInterrupt, sessionIdleTimeout),
else its default. SIGTERM or Ctrl-C stops it cleanly (exit 0).`
  )
)

const noServer = (home: string) =>
  new CliFailure({
    code: EXIT.unreachable,
    reason: "no-server",
    message: `no server is running for ${home}. Start one with 'spindle serve'.`,
    details: { home }
  })

export const statusCommand = Command.make("status", {}, () =>
  Effect.gen(function* () {
    const options = yield* globalOptions
    const { home, url } = discover(options, process.env)
    if (url === undefined) return yield* noServer(home)
    const info = readServerInfo(home)
    const status = yield* withClient((client) =>
      Effect.gen(function* () {
        const server = yield* client["server.getStatus"]()
        const { threads } = yield* client["orchestration.getSnapshot"]()
        const byState: Record<string, number> = {}
        for (const thread of threads) byState[threadState(thread)] = (byState[threadState(thread)] ?? 0) + 1
        return {
          home,
          url,
          pid: info?.url === url ? (info.pid ?? null) : null,
          status: server.status,
          version: server.version,
          uptimeMs: server.uptimeMs,
          providers: server.providers ?? true,
          store: server.store ?? "sqlite",
          host: server.host ?? null,
          threads: { total: threads.length, byState }
        }
      })
    )
    yield* print(status, (s) =>
      [
        `Spindle ${s.version} ${s.status} at ${s.url}${s.pid === null ? "" : ` (pid ${s.pid})`}, up ${Math.round(s.uptimeMs / 1000)} s`,
        `  home ${s.home}${s.providers ? "" : "  (providers off: turns stay requested)"}`,
        `  store ${s.store}${s.host === null ? "" : `  host ${s.host.name} (${s.host.id})`}`,
        `  threads ${s.threads.total}${
          s.threads.total === 0
            ? ""
            : `: ${Object.entries(s.threads.byState)
                .map(([state, n]) => `${n} ${state}`)
                .join(", ")}`
        }`
      ].join("\n")
    )
  })
).pipe(
  Command.withDescription(
    "Is a server running for this home: its url, version, uptime, threads by state (exit 3 if none)"
  )
)

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export const stopCommand = Command.make("stop", {}, () =>
  Effect.gen(function* () {
    const options = yield* globalOptions
    const home = resolveHome(options.home, process.env)
    const info = readServerInfo(home)
    if (info?.pid === undefined || info.url === undefined || !alive(info.pid)) return yield* noServer(home)
    const pid = info.pid
    // Only a server that answers at the url it wrote is the process to signal: a stale server.json
    // (after a crash) may name a pid that now belongs to something else.
    yield* withClient((client) => client["server.getStatus"]())
    process.kill(pid, "SIGTERM")
    const gone = yield* Effect.gen(function* () {
      for (let i = 0; i < 300; i++) {
        if (!alive(pid)) return true
        yield* Effect.sleep("50 millis")
      }
      return false
    })
    if (!gone) {
      return yield* new CliFailure({
        code: EXIT.failed,
        reason: "still-running",
        message: `the server (pid ${pid}) is still running 15 s after SIGTERM. See its log; 'kill -9 ${pid}' ends it at once.`
      })
    }
    yield* print({ home, pid, stopped: true }, (r) => `Stopped the server for ${r.home} (pid ${r.pid}).`)
  })
).pipe(Command.withDescription("Stop the server running for this home (SIGTERM, then wait until it is gone)"))
