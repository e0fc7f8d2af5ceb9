// Scenario "provider" (the models in a process of their own, bench/fakeApis.ts): time from `thread.turn.start` on an existing thread to its turn's end, for
// the command provider running `true` against spawning `true` directly; for Codex with the
// loopback fake model against driving `codex app-server` directly with the same fake model (a
// bare JSON-lines client: turn/start to turn/completed); and for Claude Code through its ACP
// adapter (a `claude` thread) with the fake Anthropic API against driving the same adapter directly
// with the ACP SDK's client (session/prompt to its answer), all in one run. Each agent and its
// baseline take turns (bench/report.ts timeInTurns), so drift during the run weighs on both alike,
// and each agent's server is closed before the next agent's turns. Claude Code's turns are short
// (about 20 ms), so it takes 300 of each: at 100 the p50 ratio moved by +-0.05x from run to run.
import { spawn } from "node:child_process"
import { Readable, Writable } from "node:stream"
import { client, ndJsonStream, PROTOCOL_VERSION } from "@agentclientprotocol/sdk"
import type { ThreadId } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { ProviderTokens } from "../apps/server/src/auth/ProviderTokens.ts"
import type { ServerConfig } from "../apps/server/src/config/ServerConfig.ts"
import { tempDir } from "../apps/server/src/testing/fixtures.ts"
import {
  CLAUDE_ACP_ADAPTER,
  CODEX_BIN,
  claudeEnv,
  codexHome,
  PROJECT,
  providersOn,
  providerWorld,
  turnEnded
} from "../apps/server/src/testing/providers.ts"
import { startFakeApis } from "./fakeApis.ts"
import { type BenchResult, formatMs, ratio, time, timeInTurns } from "./report.ts"

const COMMAND_TURNS = 100
const CODEX_TURNS = 30
const CLAUDE_TURNS = 300

const spawnTrue = () =>
  new Promise<void>((resolve, reject) => {
    const child = spawn("true", [], { stdio: "ignore", detached: true })
    child.on("error", reject)
    child.on("exit", () => resolve())
  })

/** `codex app-server` driven by hand: one thread, then turns one after another. */
const directCodex = async (config: ReadonlyArray<string>, home: string, cwd: string) => {
  const child = spawn(CODEX_BIN, ["app-server", ...config.flatMap((c) => ["-c", c])], {
    env: { ...process.env, CODEX_HOME: home },
    stdio: ["pipe", "pipe", "ignore"]
  })
  const waiting = new Map<number | string, (message: Record<string, any>) => void>()
  let buffer = ""
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk
    for (let at = buffer.indexOf("\n"); at >= 0; at = buffer.indexOf("\n")) {
      const message = JSON.parse(buffer.slice(0, at))
      buffer = buffer.slice(at + 1)
      const key = message.method === "turn/completed" ? "turn/completed" : message.id
      if (message.method === undefined || key === "turn/completed") waiting.get(key)?.(message)
    }
  })
  let id = 0
  const request = (method: string, params: unknown) =>
    new Promise<Record<string, any>>((resolve) => {
      waiting.set(++id, resolve)
      child.stdin.write(`${JSON.stringify({ id, method, params })}\n`)
    })
  await request("initialize", { clientInfo: { name: "bench", version: "1" } })
  child.stdin.write(`${JSON.stringify({ method: "initialized" })}\n`)
  const thread = (await request("thread/start", { cwd, approvalPolicy: "never", sandbox: "workspace-write" }))
    .result.thread.id as string
  const turn = () =>
    new Promise<void>((resolve) => {
      waiting.set("turn/completed", () => resolve())
      void request("turn/start", {
        threadId: thread,
        input: [{ type: "text", text: "hi", text_elements: [] }]
      })
    })
  return { turn, close: () => child.kill("SIGTERM") }
}

/**
 * The Claude Code ACP adapter driven by hand: initialize, session/new, then prompts one after
 * another. It gets what Spindle gives its own session (the same client capabilities and Spindle's MCP
 * server, with a token of its own), so both run the same agent with the same tools.
 */
const directClaude = async (
  env: Record<string, string>,
  cwd: string,
  mcp: { readonly url: string; readonly token: string }
) => {
  const child = spawn(process.execPath, [CLAUDE_ACP_ADAPTER], {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdio: ["pipe", "pipe", "ignore"]
  })
  const connection = client({ name: "bench" }).connect(
    ndJsonStream(
      Writable.toWeb(child.stdin) as WritableStream<Uint8Array>,
      Readable.toWeb(child.stdout) as ReadableStream<Uint8Array>
    )
  )
  await connection.agent.request("initialize", {
    protocolVersion: PROTOCOL_VERSION,
    // What Spindle announces, so Claude Code offers the same tools (a "hi" reads or writes nothing).
    clientCapabilities: { fs: { readTextFile: true, writeTextFile: true }, terminal: false }
  })
  const { sessionId } = await connection.agent.request("session/new", {
    cwd,
    mcpServers: [
      {
        type: "http",
        name: "spindle",
        url: mcp.url,
        headers: [{ name: "Authorization", value: `Bearer ${mcp.token}` }]
      }
    ]
  })
  const turn = async () => {
    await connection.agent.request("session/prompt", { sessionId, prompt: [{ type: "text", text: "hi" }] })
  }
  // The adapter does not end when its stdin does.
  return { turn, close: () => child.kill("SIGTERM") }
}

export const run = async (): Promise<BenchResult> => {
  // Each agent's server lives in a scope of its own, closed before the next agent's turns, so no
  // server of an earlier phase (its services, its idle agent) runs beside the one measured.
  const scopes: Array<Scope.Closeable> = []
  let scope = Effect.runSync(Scope.make())
  scopes.push(scope)
  const nextPhase = async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    scope = Effect.runSync(Scope.make())
    scopes.push(scope)
  }
  const inScope = <A, E>(effect: Effect.Effect<A, E, Scope.Scope | ServerConfig>) =>
    Effect.runPromise(Scope.provide(effect as Effect.Effect<A, E, Scope.Scope>, scope))
  try {
    // The command provider running `true`, against spawning `true`.
    const commandWorld = await inScope(providerWorld(providersOn, { agentCommand: ["true"] }))
    // Like a client that follows the thread (the CLI, the board): one subscription to the log, held
    // through all the turns, tells when each turn ends.
    const turnOf = async (world: typeof commandWorld, threadId: string) => {
      const waiting = new Map<string, () => void>()
      const from = (await Effect.runPromise(world.engine.snapshot)).sequence
      await inScope(
        Effect.forkScoped(
          Stream.runForEach(world.engine.events(from), (event) =>
            Effect.sync(() => {
              if (event.type === "thread.turn-ended") waiting.get(event.payload.turnId)?.()
            })
          )
        )
      )
      return async (i: number) => {
        const turnId = `turn-${i}`
        const ended = new Promise<void>((resolve) => waiting.set(turnId, resolve))
        await Effect.runPromise(world.send({ type: "thread.turn.start", threadId, prompt: "go", turnId }))
        await ended
        waiting.delete(turnId)
      }
    }
    await Effect.runPromise(commandWorld.start("cmd", "warm up", { provider: "command" }))
    await Effect.runPromise(turnEnded(commandWorld.engine, "cmd"))
    const commandTurns = await time(COMMAND_TURNS, await turnOf(commandWorld, "cmd"))
    const spawned = await time(COMMAND_TURNS, spawnTrue)

    await nextPhase()
    // The models, each in a process of its own (bench/fakeApis.ts).
    const apis = await startFakeApis()
    // Codex with the fake model, against codex app-server driven directly.
    const home = await inScope(codexHome)
    const codexWorld = await inScope(
      providerWorld({ enabled: true, codexBin: CODEX_BIN, codexConfig: apis.codexConfig, codexHome: home })
    )
    const started = await Effect.runPromise(codexWorld.start("cdx", "warm up"))
    await Effect.runPromise(turnEnded(codexWorld.engine, "cdx"))
    const direct = await directCodex(apis.codexConfig, await inScope(codexHome), started.worktreePath)
    await direct.turn()
    const [codexTurns, directTurns] = await timeInTurns(CODEX_TURNS, await turnOf(codexWorld, "cdx"), () =>
      direct.turn()
    )
    direct.close()

    await nextPhase()
    // Claude Code through its ACP adapter with the fake Anthropic API, against the adapter driven directly.
    const config = await inScope(tempDir("spindle-bench-claude-"))
    const env = claudeEnv({ env: () => apis.anthropicEnv, proxyEnv: () => apis.anthropicProxyEnv }, config)
    const claudeWorld = await inScope(providerWorld({ ...providersOn, agentEnv: env }, {}))
    const claudeStarted = await Effect.runPromise(
      claudeWorld.start("cld", "warm up", { provider: "claude", runtimeMode: "full-access" })
    )
    await Effect.runPromise(turnEnded(claudeWorld.engine, "cld"))
    const issued = await Effect.runPromise(
      Context.get(claudeWorld.server.context, ProviderTokens).issue({
        threadId: "cld" as ThreadId,
        projectId: PROJECT,
        providerSessionId: "bench-direct",
        capabilities: ["thread-management", "thread-read"]
      })
    )
    const claudeDirect = await directClaude(env, claudeStarted.worktreePath, {
      url: `${claudeWorld.server.url}/mcp`,
      token: issued.token
    })
    await claudeDirect.turn()
    const [claudeTurns, claudeDirectTurns] = await timeInTurns(
      CLAUDE_TURNS,
      await turnOf(claudeWorld, "cld"),
      () => claudeDirect.turn()
    )
    claudeDirect.close()
    apis.close()

    return {
      name: "provider",
      lines: [
        `command provider running \`true\`, ${COMMAND_TURNS} turns: p50 ${formatMs(commandTurns.p50)}, p99 ${formatMs(commandTurns.p99)}`,
        `spawning \`true\` directly: p50 ${formatMs(spawned.p50)}, p99 ${formatMs(spawned.p99)}; ratio ${ratio(commandTurns.p50, spawned.p50)}`,
        `Codex (fake model), ${CODEX_TURNS} follow-up turns: p50 ${formatMs(codexTurns.p50)}, p99 ${formatMs(codexTurns.p99)}`,
        `codex app-server driven directly, same model: p50 ${formatMs(directTurns.p50)}, p99 ${formatMs(directTurns.p99)}; ratio ${ratio(codexTurns.p50, directTurns.p50)}`,
        `Claude Code through ACP (claude thread, fake Anthropic API), ${CLAUDE_TURNS} follow-up turns: p50 ${formatMs(claudeTurns.p50)}, p99 ${formatMs(claudeTurns.p99)}`,
        `its ACP adapter driven directly, same API: p50 ${formatMs(claudeDirectTurns.p50)}, p99 ${formatMs(claudeDirectTurns.p99)}; ratio ${ratio(claudeTurns.p50, claudeDirectTurns.p50)}`
      ]
    }
  } finally {
    for (const open of scopes) await Effect.runPromise(Scope.close(open, Exit.void))
  }
}
