// The fake model APIs for the provider bench, each in a process of its own: the agent's model is
// never on the server's event loop in real use, so it is not here either (in the bench's own
// process it would answer only when the server's work let it, and the baseline would not pay that).
// `node bench/fakeApis.ts` starts both on 127.0.0.1, prints what an agent needs to reach them as one
// JSON line, and ends when its stdin does.
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { startFakeAnthropic } from "../apps/server/src/testing/fakeAnthropic.ts"
import { startFakeModel } from "../apps/server/src/testing/fakeModel.ts"

export interface FakeApis {
  /** Codex's `-c` overrides for the fake Responses model. */
  readonly codexConfig: ReadonlyArray<string>
  /** The fake Anthropic API's `env()` and `proxyEnv()`, for Claude Code. */
  readonly anthropicEnv: Record<string, string>
  readonly anthropicProxyEnv: Record<string, string>
  readonly close: () => void
}

/** Starts the fakes in a child process; answers once they listen. */
export const startFakeApis = (): Promise<FakeApis> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      stdio: ["pipe", "pipe", "inherit"]
    })
    child.on("error", reject)
    child.on("exit", (code) => reject(new Error(`the fake APIs exited with code ${code}`)))
    createInterface({ input: child.stdout }).once("line", (line) => {
      const ready = JSON.parse(line) as Omit<FakeApis, "close">
      resolve({ ...ready, close: () => child.stdin.end() })
    })
  })

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const model = await startFakeModel()
  const anthropic = await startFakeAnthropic()
  process.stdout.write(
    `${JSON.stringify({
      codexConfig: model.codexConfig(),
      anthropicEnv: anthropic.env(),
      anthropicProxyEnv: anthropic.proxyEnv()
    })}\n`
  )
  process.stdin.resume()
  process.stdin.on("end", () => process.exit(0))
}
