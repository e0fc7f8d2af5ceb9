// Gives each live thread a block of ports (SPINDLE_PORT, SPINDLE_PORT_COUNT) that no other live
// thread holds and that is free on 127.0.0.1 when given, so parallel dev servers never collide.
// One assignment at a time: the block is picked from the read model as it is inside this
// service's lock, probed, then recorded through the engine, whose decider refuses any overlap.
import { createServer } from "node:net"
import { type Actor, CommandId, type PortBlock, type ThreadId } from "@spindle/contracts"
import { randomHex } from "@spindle/shared/random"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Semaphore from "effect/Semaphore"
import { ServerConfig } from "../config/ServerConfig.ts"
import { DEFAULT_PORT_RANGE, heldBlocks, nextFreeBlock } from "../domain/ports.ts"
import { Engine } from "../engine/Engine.ts"

/** Whether nothing listens on 127.0.0.1:`port` (we can bind it, exclusively, and let it go). */
export const portIsFree = (port: number) =>
  Effect.promise(
    () =>
      new Promise<boolean>((resolve) => {
        const server = createServer()
        server.once("error", () => resolve(false))
        server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)))
      })
  )

/** The first port of `block` found busy, or undefined when all are free. */
const firstBusy = (block: PortBlock) =>
  Effect.gen(function* () {
    for (let port = block.first; port < block.first + block.count; port++) {
      if (!(yield* portIsFree(port))) return port
    }
    return undefined
  })

export interface AssignedPorts {
  readonly ports: PortBlock | null
  /** Why the thread got no ports although its project asks for some. */
  readonly warning?: string
}

export class ThreadPorts extends Context.Service<
  ThreadPorts,
  {
    /** The thread's block, assigned now if it has none (and its project wants ports). */
    readonly assign: (threadId: ThreadId, actor: Actor) => Effect.Effect<AssignedPorts>
  }
>()("spindle/ports/ThreadPorts") {
  static readonly layer = Layer.effect(
    ThreadPorts,
    Effect.gen(function* () {
      const engine = yield* Engine
      const config = yield* ServerConfig
      const range = config.threadPorts ?? DEFAULT_PORT_RANGE
      const lock = Semaphore.makeUnsafe(1)

      const pick = Effect.fn("ThreadPorts.pick")(function* (threadId: ThreadId, count: number) {
        const held = heldBlocks(yield* engine.readModel, threadId)
        let from = range.first
        for (;;) {
          const candidate = nextFreeBlock(range, held, count, from)
          if (candidate === undefined) return undefined
          const busy = yield* firstBusy(candidate)
          if (busy === undefined) return candidate
          from = busy + 1
        }
      })

      const assign = Effect.fn("ThreadPorts.assign")(function* (threadId: ThreadId, actor: Actor) {
        const thread = yield* engine.getThread(threadId)
        if (thread === undefined || thread.status !== "active") return { ports: null }
        if (thread.ports !== null) return { ports: thread.ports }
        const project = yield* engine.getProject(thread.projectId)
        const count = project?.portCount ?? 0
        if (count === 0) return { ports: null }
        const ports = yield* pick(threadId, count)
        if (ports === undefined) {
          return {
            ports: null,
            warning: `No block of ${count} free ports is left in ${range.first}-${range.last}; the thread has no SPINDLE_PORT. Archive threads you are done with to free theirs.`
          }
        }
        const recorded = yield* engine
          .dispatch(
            {
              type: "thread.ports.assign",
              commandId: CommandId.make(`ports-${yield* randomHex(10)}`),
              threadId,
              ports
            },
            actor
          )
          .pipe(
            Effect.as({ ports } as AssignedPorts),
            Effect.catch((error) =>
              Effect.succeed({
                ports: null,
                warning: `Ports could not be recorded: ${error.message}`
              } as AssignedPorts)
            )
          )
        return recorded
      }, lock.withPermit)

      return { assign }
    })
  )
}
