// Refuses HTTP requests whose Host or Origin is not this server on loopback (or an origin the
// user allowed), which is what stops a web page from reaching us through DNS rebinding.
import * as Effect from "effect/Effect"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import { ServerConfig } from "../config/ServerConfig.ts"

const LOOPBACK_NAMES = new Set(["127.0.0.1", "localhost", "[::1]", "::1"])

/** The hostname part of a Host header value (`name:port`, `[v6]:port`). */
const hostnameOf = (host: string): string => {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1).toLowerCase()
  return host.split(":")[0]!.toLowerCase()
}

export interface HostPolicy {
  readonly allowedHostnames: ReadonlySet<string>
  readonly allowedOrigins: ReadonlySet<string>
}

export const makeHostPolicy = (
  bindHost: string,
  extraOrigins: ReadonlyArray<string>,
  advertiseUrl?: string
): HostPolicy => {
  const allowedHostnames = new Set(LOOPBACK_NAMES)
  if (bindHost !== "0.0.0.0" && bindHost !== "::") allowedHostnames.add(bindHost.toLowerCase())
  // The name other hosts reach this one by (--advertise-url).
  if (advertiseUrl !== undefined) allowedHostnames.add(new URL(advertiseUrl).hostname.toLowerCase())
  return { allowedHostnames, allowedOrigins: new Set(extraOrigins.map((o) => o.toLowerCase())) }
}

/** Why a request is refused, or undefined when it may go on. */
export const checkRequest = (
  policy: HostPolicy,
  headers: { readonly host?: string | undefined; readonly origin?: string | undefined }
): string | undefined => {
  const host = headers.host
  if (host === undefined || !policy.allowedHostnames.has(hostnameOf(host))) {
    return `Host '${host ?? ""}' is not allowed: connect to this server through 127.0.0.1 or localhost.`
  }
  const origin = headers.origin
  if (origin === undefined || origin === "null")
    return origin === "null" ? "Origin 'null' is not allowed." : undefined
  if (policy.allowedOrigins.has(origin.toLowerCase())) return undefined
  try {
    const url = new URL(origin)
    if (
      (url.protocol === "http:" || url.protocol === "https:") &&
      policy.allowedHostnames.has(url.hostname.toLowerCase())
    ) {
      return undefined
    }
    if (policy.allowedHostnames.has(`[${url.hostname.toLowerCase()}]`)) return undefined
  } catch {
    // fall through: an unparsable Origin is refused
  }
  return `Origin '${origin}' is not allowed. Start the server with --allow-origin ${origin} to let it in.`
}

export const hostGuard = HttpRouter.middleware(
  Effect.gen(function* () {
    const config = yield* ServerConfig
    const policy = makeHostPolicy(config.host, config.allowedOrigins, config.advertiseUrl)
    return (httpEffect) =>
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const refusal = checkRequest(policy, { host: request.headers.host, origin: request.headers.origin })
        if (refusal !== undefined) {
          return HttpServerResponse.jsonUnsafe({ reason: "forbidden", message: refusal }, { status: 403 })
        }
        return yield* httpEffect
      })
  }),
  { global: true }
)
