// The board under load, in a real Chromium (the tests' choice) against the real server (loopback only, bounded):
// first render of a board with 1,000 threads (navigation start to every column filled, list
// virtualized), then the page's JS heap while 10,000 events stream in (after a forced GC at each
// mark). Run: `node bench/board.ts` (THREADS=…, EVENTS=… to change the sizes).

import { readFileSync } from "node:fs"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import * as Effect from "effect/Effect"
import {
  cleanup,
  gitRepo,
  launchBrowser,
  signedInPage,
  spindle,
  startServer,
  tempDir
} from "../apps/board/test/harness.ts"
import { makeClient } from "../apps/server/src/cli/rpcClient.ts"

const THREADS = Number(process.env.THREADS ?? 1000)
const EVENTS = Number(process.env.EVENTS ?? 10_000)

const main = async () => {
  const home = tempDir("board-bench-")
  const server = await startServer(home, { args: ["--max-threads-per-project", String(THREADS + 10)] })
  const added = await spindle(home, ["project", "add", await gitRepo(), "--id", "p1"])
  if (added.code !== 0) throw new Error(added.stderr)
  const token = readFileSync(join(home, "owner-token"), "utf8").trim()
  const t0 = performance.now()
  await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const client = yield* makeClient({ url: server.url, token })
        yield* Effect.forEach(
          Array.from({ length: THREADS }, (_, i) => i),
          (i) =>
            client["orchestration.dispatchCommand"]({
              command: {
                type: "thread.create",
                commandId: `bench-${i}`,
                threadId: `t${i}`,
                projectId: "p1",
                title: `Bench thread ${i}`
              }
            }),
          { concurrency: 8, discard: true }
        )
      })
    )
  )
  console.log(`created ${THREADS} threads in ${Math.round(performance.now() - t0)} ms`)

  const browser = await launchBrowser()
  const page = await signedInPage(browser, home) // also builds and caches the bundle
  const renders: Array<number> = []
  for (let run = 0; run < 3; run++) {
    await page.reload()
    const at = await page.waitForFunction(
      (n) =>
        document.querySelector(`[data-testid="board"][data-thread-count="${n}"]`) !== null &&
        document.querySelectorAll('[data-testid="card"]').length > 0
          ? performance.now()
          : false,
      THREADS,
      { timeout: 30_000, polling: "raf" }
    )
    renders.push(Math.round((await at.jsonValue()) as number))
  }
  const cards = await page.locator('[data-testid="card"]').count()
  console.log(
    `first render of ${THREADS} threads: ${renders.join(", ")} ms (navigation start to cards shown; ${cards} cards in the DOM)`
  )
  // The page's script as the browser gets it, and gzipped (as a proxy in front would send it).
  const script = await page.evaluate(
    async () => new Uint8Array(await (await fetch("/assets/board.js")).arrayBuffer()).length
  )
  const scriptText = await page.evaluate(async () => (await fetch("/assets/board.js")).text())
  console.log(
    `board script: ${(script / 1024).toFixed(0)} KiB, ${(gzipSync(Buffer.from(scriptText)).length / 1024).toFixed(0)} KiB gzipped`
  )

  const cdp = await page.context().newCDPSession(page)
  await cdp.send("Performance.enable")
  const heap = async () => {
    await cdp.send("HeapProfiler.collectGarbage")
    const { metrics } = await cdp.send("Performance.getMetrics")
    return (
      Math.round(((metrics.find((m) => m.name === "JSHeapUsedSize")?.value ?? 0) / 1024 / 1024) * 10) / 10
    )
  }
  const marks: Array<string> = [`0: ${await heap()} MiB`]
  const startSeq = await page.evaluate(() => (globalThis as any).spindleBoard.model.sequence as number)
  const t1 = performance.now()
  await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const client = yield* makeClient({ url: server.url, token })
        for (let i = 1; i <= EVENTS; i++) {
          yield* client["orchestration.dispatchCommand"]({
            command: { type: "project.update", commandId: `u-${i}`, projectId: "p1", title: `Project (${i})` }
          })
          if (i % (EVENTS / 4) === 0) {
            yield* Effect.promise(() =>
              page.waitForFunction(
                (s) => (globalThis as any).spindleBoard.model.sequence >= s,
                startSeq + i,
                {
                  timeout: 60_000
                }
              )
            )
            marks.push(`${i}: ${yield* Effect.promise(heap)} MiB`)
          }
        }
      })
    )
  )
  console.log(
    `${EVENTS} events streamed in ${Math.round(performance.now() - t1)} ms; JS heap after GC: ${marks.join(", ")}`
  )
  await server.stop()
}

main()
  .catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
  .finally(cleanup)
