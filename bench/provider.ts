// Scenario "provider": time from `thread.turn.start` on an existing thread to its turn's end, for
// the command provider running `true` against spawning `true` directly, and for Codex with the
// loopback fake model against driving `codex app-server` directly with the same fake model (a
// bare JSON-lines client: turn/start to turn/completed), all in one run.
import { spawn } from "node:child_process"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { ServerConfig } from "../apps/server/src/config/ServerConfig.ts"
import {
  CODEX_BIN,
  codexAgainst,
  codexHome,
  fakeModel,
  providersOn,
  providerWorld,
  turnEnded
} from "../apps/server/src/testing/providers.ts"
import { type BenchResult, formatMs, ratio, time } from "./report.ts"

const COMMAND_TURNS = 100
const CODEX_TURNS = 30

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

export const run = async (): Promise<BenchResult> => {
  const scope = Effect.runSync(Scope.make())
  const inScope = <A, E>(effect: Effect.Effect<A, E, Scope.Scope | ServerConfig>) =>
    Effect.runPromise(Scope.provide(effect as Effect.Effect<A, E, Scope.Scope>, scope))
  try {
    // The command provider running `true`, against spawning `true`.
    const commandWorld = await inScope(providerWorld(providersOn, { agentCommand: ["true"] }))
    const turnOf = (world: typeof commandWorld, threadId: string) => async (i: number) => {
      const from = (await Effect.runPromise(world.engine.snapshot)).sequence
      const ended = Effect.runPromise(
        world.engine.events(from).pipe(
          Stream.filter((e) => e.type === "thread.turn-ended" && e.payload.turnId === `turn-${i}`),
          Stream.take(1),
          Stream.runDrain
        )
      )
      await Effect.runPromise(
        world.send({ type: "thread.turn.start", threadId, prompt: "go", turnId: `turn-${i}` })
      )
      await ended
    }
    await Effect.runPromise(commandWorld.start("cmd", "warm up", { provider: "command" }))
    await Effect.runPromise(turnEnded(commandWorld.engine, "cmd"))
    const commandTurns = await time(COMMAND_TURNS, turnOf(commandWorld, "cmd"))
    const spawned = await time(COMMAND_TURNS, spawnTrue)

    // Codex with the fake model, against codex app-server driven directly.
    const model = await inScope(fakeModel)
    const home = await inScope(codexHome)
    const codexWorld = await inScope(providerWorld(codexAgainst(model, home)))
    const started = await Effect.runPromise(codexWorld.start("cdx", "warm up"))
    await Effect.runPromise(turnEnded(codexWorld.engine, "cdx"))
    const codexTurns = await time(CODEX_TURNS, turnOf(codexWorld, "cdx"))
    const direct = await directCodex(model.codexConfig(), await inScope(codexHome), started.worktreePath)
    await direct.turn()
    const directTurns = await time(CODEX_TURNS, () => direct.turn())
    direct.close()

    return {
      name: "provider",
      lines: [
        `command provider running \`true\`, ${COMMAND_TURNS} turns: p50 ${formatMs(commandTurns.p50)}, p99 ${formatMs(commandTurns.p99)}`,
        `spawning \`true\` directly: p50 ${formatMs(spawned.p50)}, p99 ${formatMs(spawned.p99)}; ratio ${ratio(commandTurns.p50, spawned.p50)}`,
        `Codex (fake model), ${CODEX_TURNS} follow-up turns: p50 ${formatMs(codexTurns.p50)}, p99 ${formatMs(codexTurns.p99)}`,
        `codex app-server driven directly, same model: p50 ${formatMs(directTurns.p50)}, p99 ${formatMs(directTurns.p99)}; ratio ${ratio(codexTurns.p50, directTurns.p50)}`
      ]
    }
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}
