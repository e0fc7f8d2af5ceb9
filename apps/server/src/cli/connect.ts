// How a client command finds the server and its token (flags, then SPINDLE_URL/SPINDLE_TOKEN, then
// <home>/server.json and <home>/owner-token), connects, and turns what went wrong into a
// CliFailure: 1 the server refused the operation, 3 unreachable or unauthorized. The RPC client
// (and the contracts' schemas with it) is imported only here, when a command connects.
import { existsSync, readFileSync } from "node:fs"
import { homedir } from "node:os"
import { join, resolve } from "node:path"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { CliFailure, EXIT, usageError } from "./errors.ts"
import { inFlagWords } from "./flagNames.ts"
import { type GlobalOptions, globalOptions } from "./globals.ts"
import type { SpindleClient } from "./rpcClient.ts"

export const resolveHome = (flag: string | undefined, env: NodeJS.ProcessEnv): string =>
  resolve(flag ?? (env.SPINDLE_HOME || undefined) ?? join(homedir(), ".spindle"))

export interface ServerInfo {
  readonly pid?: number
  readonly url?: string
  readonly version?: string
}

export const readServerInfo = (home: string): ServerInfo | undefined => {
  const path = join(home, "server.json")
  if (!existsSync(path)) return undefined
  try {
    return JSON.parse(readFileSync(path, "utf8")) as ServerInfo
  } catch {
    return undefined
  }
}

/** The server URL and token: flags, then SPINDLE_URL/SPINDLE_TOKEN, then `<home>` files. */
export const discover = (options: GlobalOptions, env: NodeJS.ProcessEnv) => {
  const home = resolveHome(options.home, env)
  // An empty variable counts as unset (`SPINDLE_URL= spindle …`).
  const url = options.url ?? (env.SPINDLE_URL || undefined) ?? readServerInfo(home)?.url
  const tokenPath = join(home, "owner-token")
  const token =
    options.token ??
    (env.SPINDLE_TOKEN || undefined) ??
    (existsSync(tokenPath) ? readFileSync(tokenPath, "utf8").trim() : undefined)
  return { home, url, token }
}

const firstLine = (error: unknown) => {
  const text =
    typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error)
  return text.split("\n")[0]?.slice(0, 200) || "unknown error"
}

/** The server's own error (contracts' SpindleError), recognised without loading the contracts. */
const isSpindleError = (error: unknown): error is { reason: string; message: string } =>
  typeof error === "object" && error !== null && (error as { _tag?: unknown })._tag === "SpindleError"

const failure = (error: unknown, url: string, token: string, home: string): Effect.Effect<CliFailure> => {
  if (error instanceof CliFailure) return Effect.succeed(error)
  if (isSpindleError(error)) {
    const details = { ...(error as object) } as Record<string, unknown>
    delete details._tag
    // A bad value of a flag the person typed is bad usage (exit 2), said with the flag's name.
    const field = typeof details.field === "string" ? details.field : undefined
    const asFlag =
      error.reason === "validation" && field !== undefined ? inFlagWords(field, error.message) : undefined
    return Effect.succeed(
      new CliFailure({
        code:
          error.reason === "unauthorized"
            ? EXIT.unreachable
            : asFlag !== undefined
              ? EXIT.usage
              : EXIT.failed,
        reason: error.reason,
        message: asFlag ?? error.message,
        details: asFlag === undefined ? details : { ...details, serverMessage: error.message },
        showReason: true
      })
    )
  }
  return Effect.map(whyNotOpen(url, token), (why) =>
    why._tag === "refused"
      ? new CliFailure({
          code: EXIT.unreachable,
          reason: "unauthorized",
          message: why.message.includes("owner-token")
            ? `the server at ${url} refused the token: ${why.message}`
            : `the server at ${url} refused the token: ${why.message} Pass one with --token or SPINDLE_TOKEN; the owner token is in ${join(home, "owner-token")}.`
        })
      : why._tag === "nothing"
        ? new CliFailure({
            code: EXIT.unreachable,
            reason: "unreachable",
            message: `no server at ${url} (${why.cause}). Start one with 'spindle serve' (or 'npm start'), or check --url / SPINDLE_URL.`
          })
        : new CliFailure({
            code: EXIT.unreachable,
            reason: "unreachable",
            message: `cannot reach the server at ${url} (${firstLine(error)}). Is it running ('spindle status', 'spindle serve')?`
          })
  )
}

/**
 * Why the connection failed, asked only once it has: a plain GET of /ws with the token. The server
 * checks the token before any upgrade, so a refused token answers 401 with its reason; nothing
 * listening fails to connect at all.
 */
const whyNotOpen = (url: string, token: string) =>
  Effect.promise(async (): Promise<WhyNotOpen> => {
    // node:http, not fetch: fetch refuses some ports outright ("bad port"), before connecting.
    const { request } = url.startsWith("https:") ? await import("node:https") : await import("node:http")
    return new Promise<WhyNotOpen>((resolve) => {
      const req = request(new URL("/ws", url), {
        headers: { authorization: `Bearer ${token}` },
        timeout: 3_000
      })
      req.on("timeout", () => req.destroy())
      req.on("error", (error: NodeJS.ErrnoException) =>
        resolve(
          error.code === "ECONNREFUSED" || error.code === "ENOTFOUND" || error.code === "EHOSTUNREACH"
            ? { _tag: "nothing", cause: error.code }
            : { _tag: "other" }
        )
      )
      req.on("response", (response) => {
        let body = ""
        response.setEncoding("utf8").on("data", (chunk: string) => (body += chunk))
        response.on("end", () => {
          if (response.statusCode !== 401) return resolve({ _tag: "other" })
          let message: unknown
          try {
            message = (JSON.parse(body) as { message?: unknown }).message
          } catch {}
          resolve({ _tag: "refused", message: typeof message === "string" ? message : "unauthorized." })
        })
      })
      req.end()
    })
  })

type WhyNotOpen =
  | { _tag: "refused"; message: string }
  | { _tag: "nothing"; cause: string }
  | { _tag: "other" }

/**
 * A request the RPC client could not encode: a value the contracts refuse, found before sending
 * (the client throws Schema's "Schema validation failed" with the issue as its cause). Bad input,
 * not a crash: exit 2 naming the field, never a stack trace. Ids are checked earlier (ids.ts);
 * this covers whatever else a command passes on unchecked.
 */
const unencodable = (defect: unknown) =>
  Effect.gen(function* () {
    const issue =
      defect instanceof Error && defect.message === "Schema validation failed" ? defect.cause : undefined
    if (issue === undefined || typeof issue !== "object" || issue === null) return yield* Effect.die(defect)
    const { describeIssue } = yield* Effect.promise(() => import("@spindle/shared/schemaIssue"))
    const { message } = describeIssue(issue as Parameters<typeof describeIssue>[0])
    return yield* usageError(`the request was not sent, a value in it is not valid: ${message}.`)
  })

/** Runs `program` with a connected client; the socket closes when it ends. */
export const withClient = <A>(program: (client: SpindleClient) => Effect.Effect<A, unknown, Scope.Scope>) =>
  Effect.gen(function* () {
    const options = yield* globalOptions
    const { home, url, token } = discover(options, process.env)
    if (url === undefined) {
      return yield* new CliFailure({
        code: EXIT.unreachable,
        reason: "no-server",
        message: `no server found: ${join(home, "server.json")} is missing. Start one with 'spindle serve' (or 'npm start'), or pass --url.`
      })
    }
    if (!/^https?:\/\/[^/\s]+/.test(url)) {
      return yield* usageError(
        `the server URL must be http(s)://host:port, e.g. http://127.0.0.1:5757 (got '${url}' from --url, SPINDLE_URL or ${join(home, "server.json")}).`
      )
    }
    if (token === undefined) {
      return yield* new CliFailure({
        code: EXIT.unreachable,
        reason: "no-token",
        message: `no token: pass --token or SPINDLE_TOKEN, or run where ${join(home, "owner-token")} is readable.`
      })
    }
    const { makeClient } = yield* Effect.promise(() => import("./rpcClient.ts"))
    return yield* Effect.scoped(Effect.flatMap(makeClient({ url, token }), program)).pipe(
      Effect.catch((error) => Effect.flatMap(failure(error, url, token, home), Effect.fail)),
      Effect.catchDefect(unencodable)
    )
  })
