// Raw frames over /ws for hostile inputs: the Effect RPC wire format written by hand (so a test can
// send what no typed client would: wrong payloads, raw bytes, odd keys), each request answered or
// the socket closed, with a bound. Not a general client: typed calls go through cli/rpcClient.ts.
import { request } from "node:http"
import WebSocket from "ws"

export type WsReply =
  /** The server answered the request: its Exit (success value or the failure's SpindleError, if any). */
  | {
      readonly kind: "exit"
      readonly ok: boolean
      readonly error?: Record<string, unknown>
      readonly raw: unknown
    }
  /** A protocol-level answer with no request id (e.g. a Defect for a frame that is not a request). */
  | { readonly kind: "message"; readonly raw: unknown }
  | { readonly kind: "closed"; readonly code: number; readonly reason: string }
  | { readonly kind: "timeout" }

export interface RawSocket {
  readonly socket: WebSocket
  /** Sends a request frame (`payload` as JSON text or a value) and waits for its Exit. */
  readonly request: (tag: string, payload: unknown, options?: RequestOptions) => Promise<WsReply>
  /** Sends raw bytes or text and waits for any answer (an Exit, a message, a close). */
  readonly send: (
    data: string | Buffer,
    options?: { readonly binary?: boolean; readonly id?: string; readonly timeoutMs?: number }
  ) => Promise<WsReply>
  readonly close: () => void
}

export interface RequestOptions {
  /** Per-call headers, as the RPC protocol carries them. */
  readonly headers?: ReadonlyArray<readonly [string, string]>
  /** The payload as already-encoded JSON text (to carry `__proto__` keys and the like). */
  readonly rawPayload?: string
  readonly timeoutMs?: number
}

export const wsUrl = (url: string) => `${url.replace(/^http/, "ws")}/ws`

/** The SpindleError inside an RPC failure cause, wherever the cause nests it. */
export const errorOf = (cause: unknown): Record<string, unknown> | undefined => {
  if (cause === null || typeof cause !== "object") return undefined
  const record = cause as Record<string, unknown>
  if (record._tag === "SpindleError") return record
  for (const value of Object.values(record)) {
    const found = errorOf(value)
    if (found !== undefined) return found
  }
  return undefined
}

/** Opens /ws with the given headers; rejects on a refused upgrade. */
export const openRaw = (url: string, headers: Record<string, string>): Promise<RawSocket> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl(url), { headers, handshakeTimeout: 5_000 })
    let counter = 0
    const pending = new Map<string, (reply: WsReply) => void>()
    const waiters = new Set<(reply: WsReply) => void>()
    socket.on("message", (data) => {
      let parsed: unknown
      try {
        parsed = JSON.parse(String(data))
      } catch {
        parsed = String(data)
      }
      const messages = Array.isArray(parsed) ? parsed : [parsed]
      for (const message of messages) {
        const m = message as Record<string, unknown> | null
        const requestId = m !== null && typeof m === "object" ? String(m.requestId ?? "") : ""
        const exit = m?.exit as Record<string, unknown> | undefined
        const reply: WsReply =
          m?._tag === "Exit" && exit !== undefined
            ? exit._tag === "Success"
              ? { kind: "exit", ok: true, raw: m }
              : { kind: "exit", ok: false, raw: m, ...withError(errorOf(exit.cause)) }
            : { kind: "message", raw: m }
        const resolver = pending.get(requestId)
        if (resolver !== undefined) {
          pending.delete(requestId)
          resolver(reply)
        } else if (m?._tag !== "Pong" && m?._tag !== "Chunk") {
          for (const waiter of waiters) waiter(reply)
          waiters.clear()
        }
      }
    })
    socket.on("close", (code, reason) => {
      const reply: WsReply = { kind: "closed", code, reason: String(reason) }
      for (const resolver of pending.values()) resolver(reply)
      pending.clear()
      for (const waiter of waiters) waiter(reply)
      waiters.clear()
    })
    const await_ = (id: string | undefined, timeoutMs: number) =>
      new Promise<WsReply>((done) => {
        const timer = setTimeout(() => {
          if (id !== undefined) pending.delete(id)
          waiters.delete(settle)
          done({ kind: "timeout" })
        }, timeoutMs)
        const settle = (reply: WsReply) => {
          clearTimeout(timer)
          if (id !== undefined) pending.delete(id)
          waiters.delete(settle)
          done(reply)
        }
        if (socket.readyState !== WebSocket.OPEN)
          return settle({ kind: "closed", code: -1, reason: "not open" })
        if (id !== undefined) pending.set(id, settle)
        // A frame that is not a request may be answered without an id: any first answer counts.
        waiters.add(settle)
      })
    const raw: RawSocket = {
      socket,
      request: (tag, payload, options = {}) => {
        const id = `r${++counter}`
        const body = options.rawPayload ?? JSON.stringify(payload)
        const headers = JSON.stringify(options.headers ?? [])
        const frame = `{"_tag":"Request","id":${JSON.stringify(id)},"tag":${JSON.stringify(tag)},"payload":${body},"headers":${headers}}`
        const answer = await_(id, options.timeoutMs ?? 15_000)
        socket.send(frame)
        return answer
      },
      send: (data, options = {}) => {
        const answer = await_(options.id, options.timeoutMs ?? 15_000)
        socket.send(data, { binary: options.binary === true })
        return answer
      },
      close: () => socket.terminate()
    }
    socket.once("open", () => resolve(raw))
    socket.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)))
    socket.once("error", reject)
  })

const withError = (error: Record<string, unknown> | undefined) => (error === undefined ? {} : { error })

/** A bare WebSocket upgrade request to `path`: its HTTP status (101 when upgraded) and headers. */
export const upgrade = (url: string, headers: Record<string, string>, path = "/ws") =>
  new Promise<{ readonly status: number; readonly headers: Record<string, unknown> }>((resolve, reject) => {
    const req = request(`${url}${path}`, {
      // A fresh connection each time: a refused upgrade must not hand its socket to the next one.
      agent: false,
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        ...headers
      }
    })
    req.on("upgrade", (res, socket) => {
      socket.destroy()
      resolve({ status: 101, headers: res.headers })
    })
    req.on("response", (res) => {
      res.resume()
      resolve({ status: res.statusCode ?? 0, headers: res.headers })
    })
    req.on("error", reject)
    req.setTimeout(5_000, () => req.destroy(new Error("upgrade timed out")))
    req.end()
  })
