// Test fixture: a loopback port nothing listens on (bound, then closed), for an agent or a model
// that cannot be reached.
import { createServer } from "node:net"
import * as Effect from "effect/Effect"

export const closedPort = Effect.promise(
  () =>
    new Promise<number>((resolve, reject) => {
      const server = createServer()
      server.once("error", reject)
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number }
        server.close(() => resolve(port))
      })
    })
)
