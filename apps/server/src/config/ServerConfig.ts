// Server settings, resolved once from flags and environment at start. It only holds values;
// parsing lives in cli/, directory creation in main.ts.
import { homedir } from "node:os"
import { join, resolve } from "node:path"
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import { type Store, sqliteStore } from "./Store.ts"

export const DEFAULT_PORT = 5757
export const DEFAULT_HOST = "127.0.0.1"

export type LogLevel = "debug" | "info" | "warn" | "error"
export type LogFormat = "pretty" | "json"

export interface ServerSettings {
  readonly host: string
  /** 0 asks the system for a free port. */
  readonly port: number
  /** Holds the database (unless `store` names another), logs, tokens and worktrees. */
  readonly home: string
  /** Where the state lives; absent: the embedded SQLite file in the home. */
  readonly store?: Store
  /** This host's name among the store's hosts (`--host-name`); absent: the machine's name. */
  readonly hostName?: string
  /**
   * The secret hosts sharing a store sign their calls to each other with (`--cluster-secret-file`);
   * absent: this host runs alone on its store.
   */
  readonly clusterSecret?: Redacted.Redacted<string>
  /** The URL other hosts reach this one at (`--advertise-url`); absent: the address it listens on. */
  readonly advertiseUrl?: string
  readonly logLevel: LogLevel
  readonly logFormat: LogFormat
  /** Extra `Origin` values allowed to reach the HTTP server (browsers). */
  readonly allowedOrigins: ReadonlyArray<string>
  /**
   * Directories (absolute) `existing_worktree` may adopt from, besides each project's checkout's
   * parent and `<home>/worktrees`.
   */
  readonly worktreeRoots?: ReadonlyArray<string>
  /** Per-project and host limits; past them starts are queued (or answer `capacity`). */
  readonly limits: Limits
  /**
   * "off" serves /mcp without provider tokens (tools then refuse to act): only for protocol
   * conformance runs against a throwaway instance. Default "required".
   */
  readonly mcpAuth?: "required" | "off"
  /** How threads' turns are run; absent: the defaults (providers on, `codex` on PATH). */
  readonly providers?: ProviderSettings
  /** The ports thread blocks come from (default 20000-32767). */
  readonly threadPorts?: { readonly first: number; readonly last: number }
  /** How often the retention policy runs (default hourly). */
  readonly retentionIntervalMs?: number
  /** How often the worktree pool looks for a moved default branch (default 5 minutes). */
  readonly poolIntervalMs?: number
  /** How long a parent's wake waits for more of its children to end, so they wake it once (default 5 s). */
  readonly childWakeWindowMs?: number
  /** WebSocket heartbeats: ping interval, and unanswered pings before a connection is dropped. */
  readonly heartbeat?: { readonly intervalMs: number; readonly maxMissed: number }
  /** MCP sessions held at once, per provider token and in all (default 16 and 256). */
  readonly mcpSessions?: McpSessionLimits
  /**
   * How long a client may take to send a whole request, headers and body (default 30 s); a client
   * that stalls mid-request is answered 408 and its connection closed.
   */
  readonly requestTimeoutMs?: number
  /** How project webhooks are delivered; absent parts take the defaults (DEFAULT_NOTIFY_SETTINGS). */
  readonly notify?: Partial<NotifySettings>
}

export interface NotifySettings {
  /** How long one POST to a webhook may take before it counts as failed. */
  readonly timeoutMs: number
  /** The waits before each retry of a failed delivery: one attempt, then one more per entry. */
  readonly retryDelaysMs: ReadonlyArray<number>
  /** Deliveries held at once (sending or waiting to retry); past it the oldest is given up, logged. */
  readonly capacity: number
  /** POSTs in flight at once. */
  readonly concurrency: number
}

export const DEFAULT_NOTIFY_SETTINGS: NotifySettings = {
  timeoutMs: 5_000,
  retryDelaysMs: [1_000, 2_000, 4_000, 8_000, 16_000],
  capacity: 256,
  concurrency: 4
}

export interface McpSessionLimits {
  readonly perToken: number
  readonly total: number
}

export const DEFAULT_MCP_SESSION_LIMITS: McpSessionLimits = { perToken: 16, total: 256 }
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

export interface ProviderSettings {
  /** false: turns are recorded as requested and never run (a server that only prepares workspaces). */
  readonly enabled: boolean
  /** The Codex CLI: an absolute path or a name looked up on PATH (a project may set its own). */
  readonly codexBin: string
  /** `codex -c KEY=VALUE` overrides for every Codex session (a project's come after, and win). */
  readonly codexConfig: ReadonlyArray<string>
  /** CODEX_HOME for Codex sessions; absent: the server's own environment decides (~/.codex). */
  readonly codexHome?: string
  /**
   * Variables every agent gets on top of the allowlist of the server's own (`--agent-env`), resolved
   * at start; a project's `agentEnv` wins over these.
   */
  readonly agentEnv?: Readonly<Record<string, string>>
  /** A running turn with no progress for this long is marked stalled (default 5 minutes; 0: never). */
  readonly turnStallTimeoutMs?: number
  /** A running turn with no progress for this long is stopped (default 30 minutes; 0: never). */
  readonly turnStallInterruptMs?: number
  /** A session with no turn and nothing from its agent for this long is stopped (default 15 minutes; 0: never). */
  readonly sessionIdleTimeoutMs?: number
  /**
   * A turn starts without looking the session's token up again when it was found valid this
   * recently (default 30 seconds; 0: every turn looks).
   */
  readonly tokenRecheckMs?: number
}

export const DEFAULT_PROVIDER_SETTINGS: ProviderSettings = {
  enabled: true,
  codexBin: "codex",
  codexConfig: []
}

export interface Limits {
  /** Bootstraps running at once in one project. */
  readonly bootstrapsPerProject: number
  /** Active (not archived) threads in one project. */
  readonly activeThreadsPerProject: number
  /** How deep agents may nest threads (a thread an agent started is at depth 1). */
  readonly spawnDepth: number
  /** Active child threads one thread may have. */
  readonly childrenPerThread: number
  /**
   * Turns running at once on this host, counted as threads holding a turn slot (a bootstrap
   * under way, or a turn requested or running); Infinity: no limit. `spindle serve` defaults it
   * to the number of cores.
   */
  readonly runningTurns: number
  /** Times in an hour a thread's children may wake it (start a turn for their results), at most 100. */
  readonly wakesPerHour: number
}

export const DEFAULT_LIMITS: Limits = {
  bootstrapsPerProject: 16,
  activeThreadsPerProject: 200,
  spawnDepth: 3,
  childrenPerThread: 8,
  runningTurns: Number.POSITIVE_INFINITY,
  wakesPerHour: 20
}

/** The limits admission decides against; the defaults unless the server's settings say otherwise. */
export const AdmissionLimits = Context.Reference<Limits>("spindle/config/AdmissionLimits", {
  defaultValue: () => DEFAULT_LIMITS
})

export class ServerConfig extends Context.Service<ServerConfig, ServerSettings>()(
  "spindle/config/ServerConfig"
) {
  static readonly layer = (settings: ServerSettings) =>
    Layer.mergeAll(Layer.succeed(ServerConfig, settings), Layer.succeed(AdmissionLimits, settings.limits))
}

/** `<home>` from `--home`, then `SPINDLE_HOME`, then `~/.spindle`. */
export const resolveHome = (flag: string | undefined, env: NodeJS.ProcessEnv): string =>
  resolve(flag ?? env.SPINDLE_HOME ?? join(homedir(), ".spindle"))

export const databasePath = (settings: Pick<ServerSettings, "home">) => join(settings.home, "spindle.db")
/** The store the settings name: `store`, else the SQLite file in the home. */
export const storeOf = (settings: Pick<ServerSettings, "home" | "store">): Store =>
  settings.store ?? sqliteStore(databasePath(settings))
export const serverInfoPath = (settings: Pick<ServerSettings, "home">) => join(settings.home, "server.json")
