// The real `spindle` bin never loses output: a large answer read through a pipe is byte for byte
// what the same command writes to a file (process.exit used to cut a pipe off at 64 KiB).
import { spawn } from "node:child_process"
import { closeSync, openSync, readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { CommandId, ProjectId, type ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { gitRepo, serverActor, tempDir } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { runProcess } from "../testing/serverProcess.ts"

const BIN = resolve(import.meta.dirname, "../../bin/spindle.mjs")
const THREADS = 500

/** Runs the bin with stdout going straight to a file; answers its exit code. */
const spindleToFile = (args: ReadonlyArray<string>, env: Record<string, string>, path: string) =>
  Effect.promise(
    () =>
      new Promise<number>((done, failed) => {
        const fd = openSync(path, "w")
        const child = spawn(process.execPath, [BIN, ...args], {
          stdio: ["ignore", fd, "ignore"],
          env: { ...process.env, ...env }
        })
        closeSync(fd)
        child.on("error", failed)
        child.on("exit", (code) => done(code ?? -1))
      })
  ).pipe(Effect.timeout("30 seconds"), Effect.orDie)

describe("spindle CLI output", () => {
  it.live(`thread list --json with ${THREADS} threads is complete through a pipe`, () =>
    Effect.gen(function* () {
      const server = yield* inProcessServer()
      // Three projects: one holds at most 200 active threads.
      for (const p of ["p0", "p1", "p2"]) {
        yield* server.engine.dispatch(
          {
            type: "project.create",
            commandId: CommandId.make(p),
            projectId: ProjectId.make(p),
            workspaceRoot: yield* gitRepo
          },
          serverActor
        )
      }
      for (let i = 0; i < THREADS; i++) {
        yield* server.engine.dispatch(
          {
            type: "thread.create",
            commandId: CommandId.make(`t${i}`),
            threadId: `thread-${i}` as ThreadId,
            projectId: ProjectId.make(`p${i % 3}`),
            title: `thread ${i} ${"x".repeat(100)}`
          },
          serverActor
        )
      }
      const env = { SPINDLE_HOME: server.home }
      const piped = yield* runProcess(process.execPath, [BIN, "thread", "list", "--json"], { env })
      assert.strictEqual(piped.code, 0, piped.stderr)
      const file = join(yield* tempDir(), "threads.json")
      assert.strictEqual(yield* spindleToFile(["thread", "list", "--json"], env, file), 0)
      const written = readFileSync(file, "utf8")
      assert.isAbove(Buffer.byteLength(written), 200 * 1024)
      assert.strictEqual(Buffer.byteLength(piped.stdout), Buffer.byteLength(written))
      assert.strictEqual(piped.stdout, written)
      assert.strictEqual((JSON.parse(piped.stdout) as Array<unknown>).length, THREADS)
    })
  )
})
