// A loopback HTTP proxy for tests that adds `Authorization: Bearer <token>` to every request it
// forwards, for clients that cannot send a header of their own (the MCP conformance suite). It
// passes everything else through as sent (Host and Origin included, so host checks still see the
// client's values), streams answers (SSE) as they come, and keeps a log of each exchange with the
// JSON-RPC messages of both sides, so a test can see what a call was really answered. Not shipped.
import { createServer, request as forward, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import * as Effect from "effect/Effect"

export interface ProxyExchange {
  readonly method: string
  readonly path: string
  /** The request's JSON-RPC message (POST), parsed; `undefined` for other methods or bad JSON. */
  readonly request: unknown
  status: number
  /** The answer's body as received so far (an event stream grows until it ends). */
  body: string
}

export interface AuthProxy {
  /** The proxy's base URL (`http://127.0.0.1:PORT`): paths are forwarded to the target's. */
  readonly url: string
  readonly exchanges: ReadonlyArray<ProxyExchange>
}

/** The JSON-RPC messages of an answer: a JSON body, or the `data:` lines of an event stream. */
export const answersOf = (exchange: ProxyExchange): Array<Record<string, unknown>> => {
  const parse = (text: string) => {
    try {
      const value: unknown = JSON.parse(text)
      return typeof value === "object" && value !== null ? [value as Record<string, unknown>] : []
    } catch {
      return []
    }
  }
  if (!exchange.body.includes("data:")) return parse(exchange.body)
  return exchange.body
    .split(/\r?\n\r?\n/u)
    .map((event) =>
      event
        .split(/\r?\n/u)
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n")
    )
    .filter((data) => data.trim() !== "")
    .flatMap(parse)
}

/** The proxy, closed (its connections too) with the scope. `token` undefined forwards no header. */
export const authProxy = (target: string, token: string | undefined) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly proxy: AuthProxy; readonly close: () => Promise<void> }, Error>((resume) => {
      const base = new URL(target)
      const exchanges: Array<ProxyExchange> = []
      const server = createServer((incoming, outgoing) => {
        const chunks: Array<Buffer> = []
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk))
        incoming.on("end", () => {
          const body = Buffer.concat(chunks)
          let request: unknown
          try {
            request = incoming.method === "POST" ? JSON.parse(body.toString("utf8")) : undefined
          } catch {
            request = undefined
          }
          const exchange: ProxyExchange = {
            method: incoming.method ?? "GET",
            path: incoming.url ?? "/",
            request,
            status: 0,
            body: ""
          }
          exchanges.push(exchange)
          const headers: IncomingHttpHeaders = { ...incoming.headers }
          if (token !== undefined) headers.authorization = `Bearer ${token}`
          const upstream = forward(
            {
              host: base.hostname,
              port: base.port,
              method: incoming.method,
              path: incoming.url,
              headers
            },
            (answer) => {
              exchange.status = answer.statusCode ?? 0
              outgoing.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders)
              outgoing.flushHeaders()
              answer.on("data", (chunk: Buffer) => {
                exchange.body += chunk.toString("utf8")
                outgoing.write(chunk)
              })
              answer.on("end", () => outgoing.end())
              answer.on("error", () => outgoing.destroy())
            }
          )
          upstream.on("error", (error) => {
            if (!outgoing.headersSent) outgoing.writeHead(502)
            outgoing.end(`proxy: ${error.message}`)
          })
          // The client went away (a cancelled event stream): so does the upstream request.
          outgoing.on("close", () => upstream.destroy())
          upstream.end(body)
        })
      })
      server.on("error", (error) => resume(Effect.fail(error)))
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(
          Effect.succeed({
            proxy: { url: `http://127.0.0.1:${port}`, exchanges },
            close: () =>
              new Promise<void>((done) => {
                server.closeAllConnections()
                server.close(() => done())
              })
          })
        )
      })
    }),
    ({ close }) => Effect.promise(close)
  ).pipe(Effect.map(({ proxy }) => proxy))
