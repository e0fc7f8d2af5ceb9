import { createServer } from "node:http"
import { join } from "node:path"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, describe, it } from "@effect/vitest"
import { SpindleError } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServer from "effect/http/HttpServer"
import * as Layer from "effect/Layer"
import { ClientTokens } from "../auth/ClientTokens.ts"
import { BootstrapRecovery } from "../bootstrap/BootstrapRecovery.ts"
import { StartupGate } from "../bootstrap/StartupGate.ts"
import { ServerConfig } from "../config/ServerConfig.ts"
import * as Database from "../persistence/Database.ts"
import { tempHome, testSettings } from "../testing/fixtures.ts"
import { getJson } from "../testing/http.ts"
import { healthRoute } from "./health.ts"
import { hostGuard } from "./hostGuard.ts"

/**
 * /health and the host guard on a real HTTP server on 127.0.0.1, with a gate the test drives, real
 * client tokens over a real database, and a read-only token to ask with.
 */
const serveHealth = Effect.gen(function* () {
  const home = yield* tempHome
  const app = HttpRouter.serve(Layer.mergeAll(healthRoute, hostGuard), {
    disableListenLog: true,
    disableLogger: true
  }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(() => createServer(), { host: "127.0.0.1", port: 0 })),
    Layer.provideMerge(StartupGate.layer),
    Layer.provide(
      BootstrapRecovery.layerTest({
        orphanedWorktrees: [
          { projectId: "p1", path: "/w/p1/x", branch: "x", action: "kept", reason: "dirty" }
        ]
      })
    ),
    Layer.provideMerge(ClientTokens.layer.pipe(Layer.provideMerge(Database.layer(join(home, "spindle.db"))))),
    Layer.provide(ServerConfig.layer({ ...testSettings(home), allowedOrigins: ["http://app.example"] }))
  )
  const context = yield* Layer.build(app)
  const server = Context.get(context, HttpServer.HttpServer)
  const reader = yield* Context.get(context, ClientTokens).create({ name: "probe", scopes: ["read"] })
  return {
    gate: Context.get(context, StartupGate),
    url: HttpServer.formatAddress(server.address),
    auth: { authorization: `Bearer ${reader.token}` }
  }
})

const get = getJson

describe("GET /health", () => {
  it.live("reports starting, then ready, with version and uptime", () =>
    Effect.gen(function* () {
      const { gate, url, auth } = yield* serveHealth
      const starting = yield* get(`${url}/health`, auth)
      assert.strictEqual(starting.status, 200)
      assert.strictEqual(starting.body.status, "starting")
      assert.strictEqual(starting.body.version, "0.1.0")
      assert.isNumber(starting.body.uptimeMs)
      yield* gate.markReady
      const ready = yield* get(`${url}/health`, auth)
      assert.strictEqual(ready.body.status, "ready")
      assert.deepStrictEqual(ready.body.orphanedWorktrees, [
        { projectId: "p1", path: "/w/p1/x", branch: "x", action: "kept", reason: "dirty" }
      ])
    })
  )

  it.live("reports a failed startup with its reason and 503", () =>
    Effect.gen(function* () {
      const { gate, url, auth } = yield* serveHealth
      yield* gate.markFailed(new SpindleError({ reason: "internal", message: "catch-up failed" }))
      const failed = yield* get(`${url}/health`, auth)
      assert.strictEqual(failed.status, 503)
      assert.strictEqual(failed.body.status, "failed")
      assert.deepStrictEqual(failed.body.error, { reason: "internal", message: "catch-up failed" })
    })
  )

  it.live("without a valid client token answers only status and version: no paths, no errors", () =>
    Effect.gen(function* () {
      const { gate, url } = yield* serveHealth
      yield* gate.markReady
      const anonymous = yield* get(`${url}/health`)
      assert.strictEqual(anonymous.status, 200)
      assert.deepStrictEqual(anonymous.body, { status: "ready", version: "0.1.0" })
      const wrong = yield* get(`${url}/health`, { authorization: `Bearer spc_${"A".repeat(43)}` })
      assert.deepStrictEqual(wrong.body, { status: "ready", version: "0.1.0" })
      const broken = yield* serveHealth
      yield* broken.gate.markFailed(
        new SpindleError({ reason: "internal", message: "failed reading /home/x/.spindle" })
      )
      const failed = yield* get(`${broken.url}/health`)
      assert.strictEqual(failed.status, 503)
      assert.deepStrictEqual(failed.body, { status: "failed", version: "0.1.0" })
    })
  )

  it.live("refuses a foreign Host or Origin and allows loopback and allowed origins", () =>
    Effect.gen(function* () {
      const { url } = yield* serveHealth
      const port = new URL(url).port
      const rebinding = yield* get(`${url}/health`, { host: `evil.example.com:${port}` })
      assert.strictEqual(rebinding.status, 403)
      assert.strictEqual(rebinding.body.reason, "forbidden")
      const foreign = yield* get(`${url}/health`, { origin: "https://evil.example.com" })
      assert.strictEqual(foreign.status, 403)
      assert.include(String(foreign.body.message), "--allow-origin")
      const localhost = yield* get(`${url}/health`, {
        host: `localhost:${port}`,
        origin: `http://localhost:${port}`
      })
      assert.strictEqual(localhost.status, 200)
      const allowed = yield* get(`${url}/health`, { origin: "http://app.example" })
      assert.strictEqual(allowed.status, 200)
    })
  )
})
