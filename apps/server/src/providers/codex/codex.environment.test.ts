// What the real Codex (fake model) and the commands its agent runs can see of Spindle's secrets
// and of the server's environment: the session token reaches Spindle's MCP endpoint and nowhere
// else (no file under CODEX_HOME, shell snapshots included; not the agent's shell), and the agent's
// shell gets the allowlisted environment, not the server's credentials nor Codex's model key.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { SpindleEvent, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { tempDir } from "../../testing/fixtures.ts"
import { codexPid, codexWorld, filesWithTokens, TOKEN, turnEnded } from "../../testing/providers.ts"

/** Codex's shell snapshots under `home`, once at least one is written in full (bounded: 60 s). */
const snapshotsWritten = (home: string) =>
  Effect.sync(() => {
    const dir = join(home, "shell_snapshots")
    if (!existsSync(dir)) return []
    // Codex writes to a temporary name, then renames to `<id>.sh` once the capture is complete.
    return readdirSync(dir)
      .filter((name) => name.endsWith(".sh"))
      .map((name) => join(dir, name))
      .filter((path) => statSync(path).size > 0)
  }).pipe(
    Effect.repeat({ until: (found) => found.length > 0, schedule: Schedule.spaced("100 millis") }),
    Effect.timeoutOrElse({
      duration: "60 seconds",
      orElse: () =>
        Effect.die(
          new Error(
            `Codex wrote no shell snapshot under ${home} within 60 s; it holds ${readdirSync(home, { recursive: true }).join(", ")}`
          )
        )
    })
  )

/** The output of the turn's completed shell commands. */
const commandOutputs = (events: ReadonlyArray<SpindleEvent>) =>
  events.flatMap((e) =>
    e.type === "thread.turn-item" && e.payload.phase === "completed" && e.payload.item.kind === "command"
      ? [e.payload.item.output ?? ""]
      : []
  )

/** Sets server variables for one test and restores them with its scope. */
const planted = (vars: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const before = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]))
      Object.assign(process.env, vars)
      return before
    }),
    (before) =>
      Effect.sync(() => {
        for (const [name, value] of Object.entries(before)) {
          if (value === undefined) delete process.env[name]
          else process.env[name] = value
        }
      })
  )

describe("Codex's environment", () => {
  it.live(
    "the session token reaches the MCP endpoint but no file under CODEX_HOME (after the shell snapshot is written) and not the agent's shell",
    () =>
      Effect.gen(function* () {
        // Codex gives up on a snapshot whose login shell takes over 10 s (this machine's profile
        // runs `pyenv init`, seconds under load): an empty HOME, through the project's agentEnv,
        // keeps the capture quick so the snapshot is surely written.
        const home = yield* tempDir("spindle-agent-home-")
        const world = yield* codexWorld({ agentEnv: { HOME: home } })
        yield* world.start("t1", "[[call: mcp__spindle.t3_thread_list {}]] [[run: env]]")
        const events = yield* turnEnded(world.engine, "t1")
        const ended = events.at(-1) as Extract<SpindleEvent, { type: "thread.turn-ended" }>
        assert.strictEqual(ended.payload.status, "completed")

        const call = events.find(
          (e) =>
            e.type === "thread.turn-item" &&
            e.payload.phase === "completed" &&
            e.payload.item.kind === "tool-call"
        )
        assert.strictEqual(
          call?.type === "thread.turn-item" ? call.payload.item.status : undefined,
          "completed",
          "Codex reached Spindle's MCP endpoint with the session's token"
        )

        const [env] = commandOutputs(events)
        assert.include(env ?? "", "PATH=", "the agent's `env` ran and printed its environment")
        assert.include(env ?? "", `HOME=${home}`, "the project's agentEnv reached the agent's shell")
        assert.notInclude(env ?? "", "SPINDLE_MCP_TOKEN", "the agent's shell has no token variable")
        assert.notMatch(env ?? "", TOKEN, "the agent's shell sees no token")
        assert.notMatch(JSON.stringify(world.model.requests), TOKEN, "the model never saw a token")

        const snapshots = yield* snapshotsWritten(world.codexHome)
        assert.include(readFileSync(snapshots[0]!, "utf8"), "PATH", "the snapshot holds the exports")
        assert.deepStrictEqual(filesWithTokens(world.codexHome), [], "no token is written under CODEX_HOME")
        const thread = yield* world.engine.getThread("t1" as ThreadId)
        const pid = codexPid(thread!.workspace.worktreePath!)
        assert.isDefined(pid, "Codex is still running")
        assert.notMatch(
          readFileSync(`/proc/${pid}/environ`, "latin1"),
          TOKEN,
          "Codex's own environment holds no token either"
        )
      }),
    180_000
  )

  it.live(
    "the agent's shell gets the allowlist, not the server's cloud credentials, SSH agent or Spindle settings; Codex's model key stays Codex's",
    () =>
      Effect.gen(function* () {
        yield* planted({
          AWS_SECRET_ACCESS_KEY: "planted-aws-secret",
          SSH_AUTH_SOCK: "/tmp/planted-ssh-agent.sock",
          GOOGLE_APPLICATION_CREDENTIALS: "/tmp/planted-gcloud.json",
          SPINDLE_HOME_PLANTED: "planted-spindle",
          OPENAI_API_KEY: "sk-planted-openai",
          // A proxy Codex would use for the loopback fake model but for NO_PROXY.
          HTTPS_PROXY: "http://127.0.0.1:9/",
          NO_PROXY: "127.0.0.1,localhost"
        })
        const home = yield* tempDir("spindle-agent-home-")
        const world = yield* codexWorld({ agentEnv: { HOME: home } })
        yield* world.start("t1", "[[run: env]]")
        const events = yield* turnEnded(world.engine, "t1")
        const [env = ""] = commandOutputs(events)
        assert.include(env, "PATH=", "the agent's `env` ran")
        assert.include(env, `CODEX_HOME=${world.codexHome}`, "Codex keeps its home")
        assert.include(env, "HTTPS_PROXY=http://127.0.0.1:9/", "proxy variables pass")
        assert.include(env, "NO_PROXY=127.0.0.1,localhost")
        for (const secret of [
          "planted-aws-secret",
          "planted-ssh-agent",
          "planted-gcloud",
          "planted-spindle",
          "sk-planted-openai"
        ])
          assert.notInclude(env, secret)

        const thread = yield* world.engine.getThread("t1" as ThreadId)
        const pid = codexPid(thread!.workspace.worktreePath!)
        assert.isDefined(pid, "Codex is still running")
        const codexEnv = readFileSync(`/proc/${pid}/environ`, "latin1")
        assert.include(codexEnv, "OPENAI_API_KEY=sk-planted-openai", "Codex itself has its model key")
        assert.notInclude(codexEnv, "planted-aws-secret")
        const snapshots = yield* snapshotsWritten(world.codexHome)
        assert.notInclude(
          readFileSync(snapshots[0]!, "utf8"),
          "sk-planted-openai",
          "nor is it written to disk"
        )
      }),
    180_000
  )
})
