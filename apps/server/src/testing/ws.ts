// Raw HTTP helpers for WebSocket tests: an upgrade request answered with its status. Not shipped.
import { request } from "node:http"
import * as Effect from "effect/Effect"

/** A raw WebSocket upgrade request; answers the HTTP status (101 when upgraded). */
export const upgradeStatus = (url: string, headers: Record<string, string>) =>
  Effect.callback<number, Error>((resume) => {
    const req = request(`${url}/ws`, {
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        ...headers
      }
    })
    req.on("upgrade", (_res, socket) => {
      socket.destroy()
      resume(Effect.succeed(101))
    })
    req.on("response", (res) => {
      res.resume()
      resume(Effect.succeed(res.statusCode ?? 0))
    })
    req.on("error", (error) => resume(Effect.fail(error)))
    req.setTimeout(5_000, () => req.destroy(new Error("upgrade timed out")))
    req.end()
  })
