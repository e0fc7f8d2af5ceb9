// Network remotes for tests, on 127.0.0.1 and closed with their scope: a real `git daemon`
// serving a folder's repositories over git://, and an HTTP server that answers nothing useful
// and records every request it gets (to prove nobody asked). Not shipped.
import { spawn } from "node:child_process"
import { createServer } from "node:http"
import { type AddressInfo, connect, createServer as createTcpServer } from "node:net"
import * as Effect from "effect/Effect"

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createTcpServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

/** `git daemon` exporting every repository under `base`; answers the URL prefix (`git://127.0.0.1:<port>`). */
export const gitDaemon = (base: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const port = await freePort()
      const daemon = spawn(
        "git",
        [
          "daemon",
          "--export-all",
          `--base-path=${base}`,
          "--listen=127.0.0.1",
          `--port=${port}`,
          "--reuseaddr",
          base
        ],
        { stdio: "ignore" }
      )
      for (let attempt = 0; attempt < 200 && !(await accepts(port)); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
      return { url: `git://127.0.0.1:${port}`, daemon }
    }),
    ({ daemon }) =>
      Effect.promise(
        () =>
          new Promise<void>((resolve) => {
            if (daemon.exitCode !== null) return resolve()
            daemon.once("exit", () => resolve())
            daemon.kill("SIGTERM")
          })
      )
  ).pipe(Effect.map(({ url }) => url))

/** An HTTP server on 127.0.0.1 that records the first 100 requests (method and URL) and answers 404. */
export const recordingServer = Effect.acquireRelease(
  Effect.promise(
    () =>
      new Promise<{
        readonly url: string
        readonly requests: Array<string>
        readonly close: () => Promise<void>
      }>((resolve) => {
        const requests: Array<string> = []
        const server = createServer((request, response) => {
          if (requests.length < 100) requests.push(`${request.method} ${request.url}`)
          response.statusCode = 404
          response.end()
        })
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.address() as AddressInfo
          resolve({
            url: `http://127.0.0.1:${port}`,
            requests,
            close: () =>
              new Promise<void>((done) => {
                server.closeAllConnections()
                server.close(() => done())
              })
          })
        })
      })
  ),
  (recorder) => Effect.promise(recorder.close)
)
