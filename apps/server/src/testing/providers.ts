// Test wiring for provider tests: the real server in process with providers on, a project on a
// real repository, the real Codex CLI pointed at the loopback fake model with its own CODEX_HOME,
// and helpers that wait (bounded) on a thread's events. Not shipped.
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync
} from "node:fs"
import { delimiter, join } from "node:path"
import type { BootstrapResult, ProjectId, SpindleEvent, ThreadId } from "@spindle/contracts"
import { threadOfEvent } from "@spindle/read-model"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { Commands } from "../commands/Commands.ts"
import type { ProviderSettings, ServerSettings } from "../config/ServerConfig.ts"
import type { Engine } from "../engine/Engine.ts"
import type { FakeAnthropic } from "./fakeAnthropic.ts"
import { type FakeModel, startFakeModel } from "./fakeModel.ts"
import { gitRepo, serverActor, tempDir } from "./fixtures.ts"
import { inProcessServer } from "./inProcessServer.ts"
import { REPO_ROOT } from "./serverProcess.ts"

/** Anything shaped like a provider token. */
export const TOKEN = /spn_[A-Za-z0-9_-]{20,}/

/**
 * Every file under `dir` whose bytes hold something shaped like a provider token (symbolic links,
 * such as Codex's helper links to its own 300 MB binary, are not followed).
 */
export const filesWithTokens = (dir: string): Array<string> =>
  readdirSync(dir, { recursive: true, encoding: "utf8" }).flatMap((relative) => {
    const path = join(dir, relative)
    try {
      return lstatSync(path).isFile() && TOKEN.test(readFileSync(path).toString("latin1")) ? [relative] : []
    } catch {
      return []
    }
  })

export const CODEX_BIN = join(REPO_ROOT, "node_modules", ".bin", "codex")
export const SPINDLE_BIN = join(REPO_ROOT, "apps", "server", "bin", "spindle.mjs")
/**
 * What Claude Code needs to run offline against the fake Anthropic API: the API's address and a
 * dummy key, its quiet switches, the fake as its proxy (so nothing leaves loopback), and its own
 * configuration folder and home in `config`.
 */
export const claudeEnv = (
  fake: Pick<FakeAnthropic, "env" | "proxyEnv">,
  config: string
): Record<string, string> => ({
  ...fake.env(),
  ...fake.proxyEnv(),
  CLAUDE_CONFIG_DIR: config,
  HOME: config,
  // The `claude` preset's program, claude-code-acp, from the dev dependency.
  PATH: [join(REPO_ROOT, "node_modules", ".bin"), process.env.PATH ?? ""].join(delimiter)
})

/** The Claude Code ACP adapter (a dev dependency), run with the Node running the tests. */
export const CLAUDE_ACP_ADAPTER = join(
  REPO_ROOT,
  "node_modules",
  "@zed-industries",
  "claude-code-acp",
  "dist",
  "index.js"
)

/**
 * A CODEX_HOME for one test, removed after it; outside /tmp, where Codex will not put its helpers.
 * Removal retries: a Codex that is still stopping may write one last file while the folder goes.
 */
export const codexHome = Effect.acquireRelease(
  Effect.sync(() => {
    const root = join(REPO_ROOT, "node_modules", ".cache", "spindle-codex-homes")
    mkdirSync(root, { recursive: true })
    return mkdtempSync(join(root, "home-"))
  }),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }))
)

/** The loopback fake Responses model, closed with the scope. */
export const fakeModel = Effect.acquireRelease(
  Effect.promise(() => startFakeModel()),
  (model) => Effect.promise(() => model.close())
)

/** Provider settings that run the real Codex against `model`, in `home`. */
export const codexAgainst = (model: FakeModel, home: string): ProviderSettings => ({
  enabled: true,
  codexBin: CODEX_BIN,
  codexConfig: model.codexConfig(),
  codexHome: home
})

export const PROJECT = "p1" as ProjectId

/** A 1x1 PNG, base64: an image attachment. */
export const PIXEL_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

/** Providers on, with the server's defaults: for command-provider tests (nothing runs Codex). */
export const providersOn: ProviderSettings = { enabled: true, codexBin: "codex", codexConfig: [] }

/** How the turn ended, when the last of `events` is its end. */
export const turnEndOf = (events: ReadonlyArray<SpindleEvent>) => {
  const last = events.at(-1)
  return last?.type === "thread.turn-ended" ? last.payload : undefined
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Waits (at most 5 s) until none of the processes is alive; fails the test otherwise. */
export const allGone = (pids: ReadonlyArray<number>) =>
  Effect.sync(() => pids.some(isAlive)).pipe(
    Effect.repeat({ until: (any) => !any, schedule: Schedule.spaced("20 millis") }),
    Effect.timeoutOrElse({
      duration: "5 seconds",
      orElse: () => Effect.die(new Error(`processes ${pids.join(", ")} are still alive`))
    })
  )

export const processAlive = isAlive

/** The server with providers on and project p1 on a fresh repository (extra project settings allowed). */
export const providerWorld = (
  providers: ProviderSettings,
  project: Record<string, unknown> = {},
  overrides: Partial<ServerSettings> = {}
) =>
  Effect.gen(function* () {
    const repo = yield* gitRepo
    return yield* worldOn(yield* inProcessServer({ providers, ...overrides }), repo, project)
  })

/**
 * Project p1 on `repo` in a running server (created unless it is there: a server restarted over the
 * same home has it), and ways to start and drive its threads.
 */
export const worldOn = (
  server: Effect.Success<ReturnType<typeof inProcessServer>>,
  repo: string,
  project: Record<string, unknown> = {}
) =>
  Effect.gen(function* () {
    const commands = Context.get(server.context, Commands)
    if ((yield* server.engine.getProject(PROJECT)) === undefined) {
      yield* commands.dispatch(
        {
          type: "project.create",
          commandId: "create-p1",
          projectId: PROJECT,
          workspaceRoot: repo,
          ...project
        },
        serverActor
      )
    }
    let n = 0
    /** Bootstraps a thread (new worktree, no setup) and answers once its turn is requested. */
    const start = (threadId: string, prompt: string, createThread: Record<string, unknown> = {}) =>
      commands.dispatch(
        {
          type: "thread.turn.start",
          commandId: `start-${threadId}-${++n}`,
          threadId,
          prompt,
          bootstrap: {
            createThread: { projectId: PROJECT, ...createThread },
            workspace: { mode: "new_worktree" },
            runSetupScript: false
          }
        },
        serverActor
      ) as Effect.Effect<BootstrapResult, import("@spindle/contracts").SpindleError>
    const send = (command: Record<string, unknown>) =>
      commands.dispatch({ commandId: `cmd-${++n}-${Date.now()}`, ...command }, serverActor)
    /** A follow-up turn on `threadId`, answered with the thread's events once it has ended. */
    const followUp = (threadId: string, prompt: string, turnId: string) =>
      Effect.andThen(
        send({ type: "thread.turn.start", threadId, prompt, turnId }),
        turnEnded(server.engine, threadId, turnId)
      )
    return { repo, server, commands, engine: server.engine, start, send, followUp }
  })

/** The thread's events from the start of the log until (and with) the first that `until` accepts; bounded. */
export const eventsUntil = (
  engine: Engine["Service"],
  threadId: ThreadId | string,
  until: (event: SpindleEvent) => boolean,
  timeout: `${number} seconds` = "60 seconds"
) =>
  engine.events(0).pipe(
    Stream.filter((event) => threadOfEvent(event) === threadId),
    Stream.takeUntil(until),
    Stream.runCollect,
    Effect.map((events) => Array.from(events)),
    Effect.timeoutOrElse({
      duration: timeout,
      // Says what did come, so a failure in a loaded run can be read from its log.
      orElse: () =>
        Effect.flatMap(engine.readModel, (model) =>
          engine.events(0).pipe(
            Stream.take(model.sequence),
            Stream.filter((event) => threadOfEvent(event) === threadId),
            Stream.runCollect,
            Effect.orDie,
            Effect.flatMap((seen) =>
              Effect.die(
                new Error(
                  `thread ${threadId}: the awaited event did not come within ${timeout}; its events: ${Array.from(
                    seen,
                    (e) => e.type
                  ).join(", ")}`
                )
              )
            )
          )
        )
    })
  )

/** Waits for the thread's latest turn to end; answers the thread's events up to then. */
export const turnEnded = (engine: Engine["Service"], threadId: ThreadId | string, turnId?: string) =>
  eventsUntil(
    engine,
    threadId,
    (e) => e.type === "thread.turn-ended" && (turnId === undefined || e.payload.turnId === turnId)
  )

/** The server with Codex against a fresh fake model and CODEX_HOME, and project p1. */
export const codexWorld = (
  project: Record<string, unknown> = {},
  providers: Partial<ProviderSettings> = {}
) =>
  Effect.gen(function* () {
    const model = yield* fakeModel
    const home = yield* codexHome
    const world = yield* providerWorld({ ...codexAgainst(model, home), ...providers }, project)
    return { ...world, model, codexHome: home }
  })

/**
 * A `codex` that copies its stdin (the JSON-RPC Spindle sends it) to `<dir>/<pid>.log` after a line
 * with its working directory, then runs the real one: the only way a test can see a session's
 * token, which Spindle sends Codex in the thread's config and nowhere else.
 */
export const codexTap = Effect.gen(function* () {
  const dir = yield* tempDir("spindle-codex-tap-")
  const bin = join(dir, "codex")
  writeFileSync(bin, `#!/bin/sh\nlog="${dir}/$$.log"\npwd > "$log"\ntee -a "$log" | "${CODEX_BIN}" "$@"\n`, {
    mode: 0o755
  })
  /** The session token Spindle sent the Codex started in `cwd` (the first, if there were several). */
  const tokenFor = (cwd: string): string | undefined => {
    for (const name of readdirSync(dir).filter((n) => n.endsWith(".log"))) {
      const [where = "", ...lines] = readFileSync(join(dir, name), "utf8").split("\n")
      if (where !== cwd) continue
      const token = /"Bearer (sp[nc]_[A-Za-z0-9_-]+)"/.exec(lines.join("\n"))?.[1]
      if (token !== undefined) return token
    }
    return undefined
  }
  return { bin, tokenFor }
})

/** The pid of the `codex app-server` working in `cwd`, from /proc. */
export const codexPid = (cwd: string): number | undefined => {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8")
      if (cmdline.includes("app-server") && readlinkSync(`/proc/${entry}/cwd`) === cwd) return Number(entry)
    } catch {
      // The process ended while we looked.
    }
  }
  return undefined
}
