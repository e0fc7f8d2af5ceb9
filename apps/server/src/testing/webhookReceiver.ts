// A webhook receiver for tests: a real HTTP server on 127.0.0.1 and an ephemeral port that keeps
// every request (headers, the exact body bytes) and answers each with what `answer` says for it
// (a status, or "hang": never answer). Closed with the scope. Not shipped.
import { createHmac, timingSafeEqual } from "node:crypto"
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

export interface Received {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  /** The body exactly as it came. */
  readonly raw: Buffer
  readonly json: Record<string, unknown>
}

/** What to answer the n-th request (0 first): an HTTP status, or "hang" to never answer. */
export type Answer = (n: number, request: Received) => number | "hang"

/** The receiver's own check of a signature header: HMAC-SHA256 of the raw body with `secret`. */
export const signatureValid = (secret: string, request: Received) => {
  const header = request.headers["x-spindle-signature"]
  if (typeof header !== "string" || !header.startsWith("sha256=")) return false
  const expected = createHmac("sha256", secret).update(request.raw).digest()
  const given = Buffer.from(header.slice("sha256=".length), "hex")
  return given.length === expected.length && timingSafeEqual(given, expected)
}

export const webhookReceiver = (initial: Answer = () => 200) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<{
          readonly url: string
          readonly port: number
          readonly requests: Array<Received>
          setAnswer: (answer: Answer) => void
          readonly close: () => Promise<void>
        }>((resolve, reject) => {
          const requests: Array<Received> = []
          const hanging = new Set<ServerResponse>()
          let answer = initial
          const server = createServer((req, res) => {
            const chunks: Array<Buffer> = []
            req.on("data", (chunk: Buffer) => chunks.push(chunk))
            req.on("end", () => {
              const raw = Buffer.concat(chunks)
              let json: Record<string, unknown> = {}
              try {
                json = JSON.parse(raw.toString("utf8")) as Record<string, unknown>
              } catch {
                // Kept as it came; the test looks at `raw`.
              }
              const request: Received = {
                method: req.method ?? "",
                path: req.url ?? "",
                headers: req.headers,
                raw,
                json
              }
              const n = requests.length
              requests.push(request)
              const status = answer(n, request)
              if (status === "hang") {
                hanging.add(res)
                return
              }
              res.writeHead(status, { "content-type": "text/plain" }).end("ok")
            })
          })
          server.once("error", reject)
          server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as { port: number }
            resolve({
              url: `http://127.0.0.1:${port}/hooks/spindle`,
              port,
              requests,
              setAnswer: (next) => {
                answer = next
              },
              close: () =>
                new Promise<void>((done) => {
                  for (const res of hanging) res.destroy()
                  server.closeAllConnections()
                  server.close(() => done())
                })
            })
          })
        })
    ),
    (receiver) => Effect.promise(() => receiver.close())
  )

/** Waits (bounded) until the receiver holds at least `n` requests. */
export const receivedAtLeast = (
  receiver: { readonly requests: ReadonlyArray<Received> },
  n: number,
  timeout: `${number} seconds` = "30 seconds"
) =>
  Effect.sync(() => receiver.requests.length).pipe(
    Effect.repeat({ until: (count) => count >= n, schedule: Schedule.spaced("10 millis") }),
    Effect.timeoutOrElse({
      duration: timeout,
      orElse: () =>
        Effect.die(
          new Error(`the receiver got ${receiver.requests.length} request(s), not ${n}, within ${timeout}`)
        )
    })
  )
