// `<home>/config.json`: the settings of `spindle serve`, as a file. The same settings as its flags
// (flags > environment > this file > defaults), each key optional; unknown keys are refused.
import * as Schema from "effect/Schema"

const Whole = (minimum: number, maximum: number) => Schema.Int.check(Schema.isBetween({ minimum, maximum }))

export const ServerConfigFile = Schema.Struct({
  store: Schema.optionalKey(
    Schema.String.annotate({
      description:
        "A postgres:// URL to keep the state in, shared by several hosts (--store); default the SQLite file in the home"
    })
  ),
  hostName: Schema.optionalKey(
    Schema.String.annotate({ description: "This host's name among the hosts sharing a store (--host-name)" })
  ),
  clusterSecretFile: Schema.optionalKey(
    Schema.String.annotate({
      description:
        "A file holding the secret the hosts sharing a store sign their calls to each other with (--cluster-secret-file)"
    })
  ),
  advertiseUrl: Schema.optionalKey(
    Schema.String.annotate({
      description:
        "The URL other hosts reach this one at (--advertise-url); default the address it listens on"
    })
  ),
  host: Schema.optionalKey(Schema.String.annotate({ description: "Address to bind (--host)" })),
  port: Schema.optionalKey(Whole(0, 65_535).annotate({ description: "Port, 0 for any free one (--port)" })),
  logLevel: Schema.optionalKey(Schema.Literals(["debug", "info", "warn", "error"])),
  logFormat: Schema.optionalKey(Schema.Literals(["pretty", "json"])),
  allowedOrigins: Schema.optionalKey(
    Schema.Array(Schema.String).annotate({ description: "Browser origins let in (--allow-origin)" })
  ),
  worktreeRoots: Schema.optionalKey(
    Schema.Array(Schema.String).annotate({
      description:
        "Absolute directories existing_worktree may adopt from, besides each project's checkout's parent and <home>/worktrees (--worktree-root)"
    })
  ),
  maxBootstrapsPerProject: Schema.optionalKey(Whole(1, 100_000)),
  maxThreadsPerProject: Schema.optionalKey(Whole(1, 100_000)),
  maxRunningTurns: Schema.optionalKey(
    Whole(1, 100_000).annotate({
      description:
        "Turns running at once on this host; starts past it are queued (--max-running-turns; default: the number of cores)"
    })
  ),
  providers: Schema.optionalKey(Schema.Literals(["on", "off"])),
  threadPorts: Schema.optionalKey(
    Schema.String.check(Schema.isPattern(/^\d{1,5}-\d{1,5}$/)).annotate({
      description: "FIRST-LAST, the ports thread blocks come from (--thread-ports)"
    })
  ),
  codexBin: Schema.optionalKey(Schema.String),
  codexConfig: Schema.optionalKey(
    Schema.Array(Schema.String).annotate({ description: "Codex config overrides KEY=VALUE (--codex-config)" })
  ),
  turnStallTimeout: Schema.optionalKey(
    Schema.Union([Schema.String, Schema.Number]).annotate({
      description:
        "No progress from a running turn for this long marks it stalled: 90s, 5m, 1h, seconds as a number, 0 for never (--turn-stall-timeout; default 5m)"
    })
  ),
  turnStallInterrupt: Schema.optionalKey(
    Schema.Union([Schema.String, Schema.Number]).annotate({
      description:
        "No progress for this long stops the stalled turn, 0 for never (--turn-stall-interrupt; default 30m)"
    })
  ),
  sessionIdleTimeout: Schema.optionalKey(
    Schema.Union([Schema.String, Schema.Number]).annotate({
      description:
        "An agent session with no turn for this long is stopped (its process ends, its token is revoked); the next prompt resumes its conversation. 0 or off for never (--session-idle-timeout; default 15m)"
    })
  ),
  agentEnv: Schema.optionalKey(
    Schema.Array(Schema.String).annotate({
      description: "Variables for every agent, NAME=VALUE or NAME to pass the server's own (--agent-env)"
    })
  )
}).annotate({ identifier: "ServerConfigFile", description: "spindle serve's settings in <home>/config.json" })
export type ServerConfigFile = typeof ServerConfigFile.Type
