// How a CLI command finds the server and its token, and how its outcome becomes an exit code:
// 0 success, 1 the operation failed (with its reason), 2 bad usage, 3 unreachable/unauthorized.
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { SpindleError } from "@spindle/contracts"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import { resolveHome } from "../config/ServerConfig.ts"
import { exitWhenFlushed } from "./exit.ts"
import { makeClient, type SpindleClient } from "./rpcClient.ts"
import { EXIT, UsageError } from "./usage.ts"

export interface GlobalOptions {
  readonly url: string | undefined
  readonly token: string | undefined
  readonly home: string | undefined
  readonly json: boolean
}

/** The server URL and token: flags, then SPINDLE_URL/SPINDLE_TOKEN, then `<home>` files. */
export const discover = (options: GlobalOptions, env: NodeJS.ProcessEnv) => {
  const home = resolveHome(options.home, env)
  const infoPath = join(home, "server.json")
  const url =
    options.url ??
    env.SPINDLE_URL ??
    (existsSync(infoPath) ? (JSON.parse(readFileSync(infoPath, "utf8")) as { url?: string }).url : undefined)
  const tokenPath = join(home, "owner-token")
  const token =
    options.token ??
    env.SPINDLE_TOKEN ??
    (existsSync(tokenPath) ? readFileSync(tokenPath, "utf8").trim() : undefined)
  return { home, url, token }
}

/** A command's own verdict: exit with `code`, saying `message`. */
export class ExitWith extends Data.TaggedError("ExitWith")<{
  readonly code: number
  readonly message: string
}> {}

/** Runs `program` with a connected client, prints its answer, then exits with the right code. */
export const runWithClient = <A>(
  options: GlobalOptions,
  program: (client: SpindleClient) => Effect.Effect<A, unknown, Scope.Scope>,
  render: (value: A) => string
) => {
  const { home, url, token } = discover(options, process.env)
  if (url === undefined) {
    return finish(
      EXIT.unreachable,
      `no server found: ${join(home, "server.json")} is missing. Start one with 'npm start', or pass --url.`
    )
  }
  if (token === undefined) {
    return finish(
      EXIT.unreachable,
      `no token: pass --token or SPINDLE_TOKEN, or run where ${join(home, "owner-token")} is readable.`
    )
  }
  const main = Effect.scoped(Effect.flatMap(makeClient({ url, token }), program))
  return Effect.runPromiseExit(main).then((exit) => {
    if (Exit.isSuccess(exit)) {
      const text = options.json ? JSON.stringify(exit.value, null, 2) : render(exit.value)
      if (text !== "") process.stdout.write(`${text}\n`)
      return finish(EXIT.ok)
    }
    const error = Cause.squash(exit.cause)
    if (error instanceof ExitWith) return finish(error.code, error.message, options.json)
    if (error instanceof SpindleError) {
      const code = error.reason === "unauthorized" ? EXIT.unreachable : EXIT.failed
      if (options.json)
        process.stdout.write(`${JSON.stringify({ error: { ...error, message: error.message } }, null, 2)}\n`)
      return finish(code, `${error.reason}: ${error.message}`)
    }
    if (error instanceof UsageError) return finish(EXIT.usage, error.message)
    return finish(
      EXIT.unreachable,
      `cannot reach the server at ${url} (${describe(error)}). Is it running (npm start)? Is the token valid?`
    )
  })
}

const describe = (error: unknown) => {
  const text = error instanceof Error ? error.message : String(error)
  return text.split("\n")[0]?.slice(0, 200) ?? "unknown error"
}

const finish = (code: number, message?: string, json = false): void => {
  if (message !== undefined && !(json && code === EXIT.ok)) process.stderr.write(`spindle: ${message}\n`)
  exitWhenFlushed(code)
}
