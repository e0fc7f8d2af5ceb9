// Nothing a test starts reaches past loopback: the real server (and every process it starts) runs
// under strace, which records each connect/sendto; every address must be 127.0.0.0/8 or ::1.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { SpindleEvent } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { makeClient } from "../../cli/rpcClient.ts"
import { startFakeAnthropic } from "../../testing/fakeAnthropic.ts"
import { gitRepo, tempDir, tempHome } from "../../testing/fixtures.ts"
import { CODEX_BIN, claudeEnv, codexHome, fakeModel, SPINDLE_BIN, TOKEN } from "../../testing/providers.ts"
import { readyUrl, startProcess } from "../../testing/serverProcess.ts"

/** Every IPv4/IPv6 address in an strace log of connect/sendto/sendmsg. */
const addresses = (log: string) => [
  ...Array.from(log.matchAll(/inet_addr\("([^"]+)"\)/g), (m) => m[1]!),
  ...Array.from(log.matchAll(/inet_pton\(AF_INET6, "([^"]+)"/g), (m) => m[1]!)
]
const loopback = (address: string) =>
  /^127\./.test(address) || address === "::1" || /^::ffff:127\./.test(address)

/** `spindle serve` under `strace -f`, in its own process group, ready; killed with the scope. */
const tracedServer = (
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  trace = "trace=connect,sendto,sendmsg"
) =>
  Effect.gen(function* () {
    const dir = yield* tempDir("spindle-trace-")
    const home = yield* tempHome
    const log = join(dir, "strace.log")
    const started = yield* Effect.acquireRelease(
      Effect.sync(() =>
        startProcess(
          "strace",
          [
            "-f",
            "-qq",
            "-s",
            "8192",
            "-e",
            trace,
            "-o",
            log,
            process.execPath,
            SPINDLE_BIN,
            "serve",
            "--port",
            "0",
            "--home",
            home,
            ...args
          ],
          { env, detached: true }
        )
      ),
      (process_) =>
        Effect.promise(async () => {
          try {
            process.kill(-process_.child.pid!, "SIGTERM")
          } catch {}
          await Promise.race([process_.exited, new Promise((r) => setTimeout(r, 10_000))])
        })
    )
    const url = yield* readyUrl(started, 30_000).pipe(Effect.orDie)
    const client = yield* makeClient({
      url,
      token: readFileSync(join(home, "owner-token"), "utf8").trim()
    })
    return { client, log: () => readFileSync(log, "utf8"), output: started.output }
  })

/** A project on a fresh repository and a bootstrapped thread (with the project's and thread's extra settings); its events until `until`. */
const runThread = (
  client: Effect.Success<ReturnType<typeof makeClient>>,
  prompt: string,
  until: (event: SpindleEvent) => boolean,
  extra: { readonly project?: Record<string, unknown>; readonly thread?: Record<string, unknown> } = {}
) =>
  Effect.gen(function* () {
    const repo = yield* gitRepo
    yield* client["orchestration.dispatchCommand"]({
      command: {
        type: "project.create",
        commandId: "p",
        projectId: "p1",
        workspaceRoot: repo,
        ...extra.project
      } as never
    })
    const from = (yield* client["server.getStatus"]()).sequence
    const events = yield* Effect.forkChild(
      client["orchestration.subscribe"]({ fromSequence: from }).pipe(
        Stream.takeUntil(until),
        Stream.runCollect,
        Effect.timeout("90 seconds")
      )
    )
    yield* client["orchestration.dispatchCommand"]({
      command: {
        type: "thread.turn.start",
        commandId: "t",
        threadId: "t1",
        prompt,
        bootstrap: {
          createThread: { projectId: "p1", ...extra.thread },
          workspace: { mode: "new_worktree" },
          runSetupScript: false
        }
      }
    })
    return Array.from(yield* Fiber.join(events))
  })

describe("no test reaches past loopback", () => {
  it.live(
    "a thread started with no provider settings in the test environment opens no socket beyond loopback (and runs no agent)",
    () =>
      Effect.gen(function* () {
        // The test environment itself: what vitest gives every test (SPINDLE_PROVIDERS=off), codex on PATH.
        assert.strictEqual(
          process.env.SPINDLE_PROVIDERS,
          "off",
          "the shared test environment turns providers off"
        )
        const server = yield* tracedServer([], {
          ...process.env,
          PATH: `${join(CODEX_BIN, "..")}:${process.env.PATH}`
        })
        const events = yield* runThread(
          server.client,
          "fix it",
          (e) => e.type === "thread.bootstrap-completed"
        )
        assert.include(
          events.map((e) => e.type),
          "thread.turn-start-requested"
        )
        const thread = yield* server.client["thread.get"]({ threadId: "t1" as never })
        assert.strictEqual(thread.latestTurn?.status, "requested", "no agent ran")
        assert.strictEqual(thread.session.status, "none")
        const seen = addresses(server.log())
        assert.deepStrictEqual(
          seen.filter((a) => !loopback(a)),
          [],
          server.log().slice(0, 2000)
        )
      }),
    120_000
  )

  it.live(
    "the real Codex pointed at the fake model runs a whole turn, with a command, on loopback alone",
    () =>
      Effect.gen(function* () {
        const model = yield* fakeModel
        const home = yield* codexHome
        const server = yield* tracedServer(
          [
            "--providers",
            "on",
            "--codex-bin",
            CODEX_BIN,
            ...model.codexConfig().flatMap((c) => ["--codex-config", c])
          ],
          { ...process.env, CODEX_HOME: home }
        )
        const events = yield* runThread(
          server.client,
          "[[run: echo traced]]",
          (e) => e.type === "thread.turn-ended"
        )
        const last = events.at(-1)
        assert.strictEqual(last?.type === "thread.turn-ended" ? last.payload.status : undefined, "completed")
        // Codex listed Spindle's tools through /mcp: the bundled server loaded the MCP SDK's file.
        assert.include(JSON.stringify(model.requests[0]?.tools), "mcp__spindle")
        const seen = addresses(server.log())
        assert.include(
          seen,
          "127.0.0.1",
          "the trace saw Codex reach the fake model and Spindle's MCP endpoint"
        )
        assert.deepStrictEqual(
          seen.filter((a) => !loopback(a)),
          [],
          "every address is loopback"
        )
      }),
    120_000
  )

  it.live(
    "the real Claude Code, through its ACP adapter and pointed at the fake Anthropic API, runs a whole turn with a command on loopback alone; no command line holds a token, the Claude CLI's included",
    () =>
      Effect.gen(function* () {
        const fake = yield* Effect.acquireRelease(
          Effect.promise(() => startFakeAnthropic()),
          (fake) => Effect.promise(() => fake.close())
        )
        const config = yield* tempDir("spindle-claude-")
        const agentEnv = claudeEnv(fake, config)
        const server = yield* tracedServer(
          [
            "--providers",
            "on",
            ...Object.entries(agentEnv).flatMap(([k, v]) => ["--agent-env", `${k}=${v}`])
          ],
          process.env,
          "trace=connect,sendto,sendmsg,execve"
        )
        const events = yield* runThread(
          server.client,
          "[[run: echo traced]]",
          (e) => e.type === "thread.turn-ended",
          { thread: { provider: "claude", runtimeMode: "full-access" } }
        )
        const last = events.at(-1)
        assert.strictEqual(
          last?.type === "thread.turn-ended" ? last.payload.status : undefined,
          "completed",
          JSON.stringify(last)
        )
        assert.isTrue(
          events.some(
            (e) => e.type === "thread.turn-item" && e.payload.item.command?.includes("echo traced")
          ),
          "the command ran as an item"
        )
        const log = server.log()
        const seen = addresses(log)
        assert.include(
          seen,
          "127.0.0.1",
          "the trace saw Claude Code reach the fake API and Spindle's MCP endpoint"
        )
        assert.deepStrictEqual(
          seen.filter((a) => !loopback(a)),
          [],
          "every address is loopback"
        )
        assert.deepStrictEqual(fake.outside, [], "nothing tried to leave through the proxy either")
        // Spindle starts the adapter under its wrapper (bin/claude-acp.mjs) with no token; the
        // adapter's agent SDK then starts the Claude CLI, whose `--mcp-config` names Spindle's MCP
        // server as an in-process one, without its URL's headers: no command line holds a token.
        const execs = log.split("\n").filter((line) => line.includes("execve("))
        assert.isTrue(
          execs.some((line) => line.includes("claude-acp.mjs") && line.includes("claude-code-acp")),
          "the adapter was started under the wrapper"
        )
        const cli = execs.filter((line) => line.includes("--mcp-config"))
        assert.isNotEmpty(cli, "the Claude CLI was started")
        assert.isTrue(
          cli.every((line) => line.includes('\\"spindle\\":{\\"type\\":\\"sdk\\"')),
          cli.join("\n")
        )
        assert.deepStrictEqual(
          execs.filter((line) => TOKEN.test(line)),
          [],
          "no command line holds a token"
        )
      }),
    180_000
  )
})
