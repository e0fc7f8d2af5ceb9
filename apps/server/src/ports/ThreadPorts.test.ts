import { readFileSync } from "node:fs"
import { createServer, type Server } from "node:net"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { PortBlock, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { overlaps } from "../domain/ports.ts"
import { type BootstrapWorld, bootstrapWorld } from "../testing/bootstrap.ts"
import { gitRepo, serverActor, tempHome } from "../testing/fixtures.ts"
import { providersOn, providerWorld, turnEnded } from "../testing/providers.ts"

/** A range of its own for each test, so test files running side by side do not meet. */
const rangeAt = (first: number) => ({ threadPorts: { first, last: first + 999 } })

const create = (world: BootstrapWorld, id: string) =>
  world.commands.dispatch(
    { type: "thread.create", commandId: `create-${id}`, threadId: id, projectId: "p1", title: id },
    serverActor
  )

const portsOf = (world: BootstrapWorld, id: string) =>
  Effect.map(world.engine.getThread(id as ThreadId), (t) => t?.ports ?? null)

/** Listens on 127.0.0.1:`port` until the scope closes. */
const occupy = (port: number) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer()
          server.once("error", reject)
          server.listen({ port, host: "127.0.0.1" }, () => resolve(server))
        })
    ),
    (server) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
  )

describe("thread ports", () => {
  it.live("30 threads started at once get 30 disjoint blocks of the project's size, inside the range", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld({ settings: rangeAt(43_000), project: { portCount: 7 } })
      const ids = Array.from({ length: 30 }, (_, i) => `t${i}`)
      yield* Effect.forEach(ids, (id) => create(world, id), { concurrency: "unbounded" })
      const blocks = yield* Effect.forEach(ids, (id) => portsOf(world, id))
      for (const block of blocks) {
        assert.isNotNull(block)
        assert.strictEqual(block!.count, 7)
        assert.isAtLeast(block!.first, 43_000)
        assert.isAtMost(block!.first + 6, 43_999)
      }
      const all = blocks as ReadonlyArray<PortBlock>
      for (let i = 0; i < all.length; i++) {
        for (let j = i + 1; j < all.length; j++) {
          assert.isFalse(overlaps(all[i]!, all[j]!), `${ids[i]} and ${ids[j]} overlap`)
        }
      }
    })
  )

  it.live("skips a port something already listens on", () =>
    Effect.gen(function* () {
      yield* occupy(44_003)
      const world = yield* bootstrapWorld({ settings: rangeAt(44_000) })
      yield* create(world, "t1")
      const block = yield* portsOf(world, "t1")
      // The block starts past the busy port: 44_004 unless another process of this machine happens
      // to listen there too (this range is also the kernel's for outgoing connections).
      assert.strictEqual(block?.count, 10)
      assert.isAtLeast(block!.first, 44_004)
      assert.isAtMost(block!.first, 44_020)
    })
  )

  it.live("survive a restart, are freed by archive and then given to the next thread", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const home = yield* tempHome
      const first = yield* Effect.scoped(
        Effect.gen(function* () {
          const world = yield* bootstrapWorld({ settings: rangeAt(45_000), repo, home })
          yield* create(world, "t1")
          yield* create(world, "t2")
          return {
            repo: world.repo,
            home: world.home,
            t1: yield* portsOf(world, "t1"),
            t2: yield* portsOf(world, "t2")
          }
        })
      )
      assert.isFalse(overlaps(first.t1!, first.t2!))
      const world = yield* bootstrapWorld({ settings: rangeAt(45_000), repo: first.repo, home: first.home })
      assert.deepStrictEqual(yield* portsOf(world, "t1"), first.t1)
      assert.deepStrictEqual(yield* portsOf(world, "t2"), first.t2)
      yield* world.commands.dispatch({ type: "thread.archive", commandId: "a1", threadId: "t1" }, serverActor)
      assert.isNull(yield* portsOf(world, "t1"))
      yield* create(world, "t3")
      assert.deepStrictEqual(yield* portsOf(world, "t3"), first.t1)
    })
  )

  it.live("a project with portCount 0 gives none; setup sees SPINDLE_PORT and SPINDLE_PORT_COUNT", () =>
    Effect.gen(function* () {
      const none = yield* bootstrapWorld({ settings: rangeAt(46_000), project: { portCount: 0 } })
      yield* create(none, "t0")
      assert.isNull(yield* portsOf(none, "t0"))
      const world = yield* bootstrapWorld({
        settings: rangeAt(46_000),
        project: { portCount: 3 },
        setupScript: 'printf "%s %s" "$SPINDLE_PORT" "$SPINDLE_PORT_COUNT" > .ports'
      })
      const result = yield* world.bootstrap("t1")
      const block = yield* portsOf(world, "t1")
      assert.strictEqual(readFileSync(join(result.worktreePath, ".ports"), "utf8"), `${block!.first} 3`)
    })
  )

  it.live("the agent sees its thread's ports", () =>
    Effect.gen(function* () {
      const world = yield* providerWorld(
        providersOn,
        { agentCommand: ["/bin/sh", "-c", 'echo "port $SPINDLE_PORT count $SPINDLE_PORT_COUNT"'] },
        rangeAt(47_000)
      )
      yield* world.start("t1", "hello", { provider: "command" })
      const events = yield* turnEnded(world.engine, "t1")
      const block = (yield* world.engine.getThread("t1" as ThreadId))!.ports!
      const said = events.flatMap((e) => (e.type === "thread.turn-item" ? [e.payload.item.text] : []))
      assert.include(said, `port ${block.first} count 10`)
    })
  )
})
