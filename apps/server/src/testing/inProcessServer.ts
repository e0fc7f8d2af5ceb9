// The whole server (HTTP, /ws, core) in the test's process on 127.0.0.1 and an ephemeral port,
// over a temp home; resolved once it is ready, with its URL and owner token. Not shipped.
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HttpServer from "effect/http/HttpServer"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import { StartupGate } from "../bootstrap/StartupGate.ts"
import type { ServerSettings } from "../config/ServerConfig.ts"
import { Engine } from "../engine/Engine.ts"
import { ServerLayer } from "../main.ts"
import { tempHome, testSettings } from "./fixtures.ts"

export const inProcessServer = (
  overrides: Partial<ServerSettings> = {},
  options: { readonly waitReady?: boolean } = {}
) =>
  Effect.gen(function* () {
    const home = yield* tempHome
    const settings = { ...testSettings(home), ...overrides }
    const context = yield* Layer.build(ServerLayer(settings))
    const gate = Context.get(context, StartupGate)
    if (options.waitReady !== false) {
      yield* gate.state.pipe(
        Effect.repeat({ until: (s) => s.status !== "starting", schedule: Schedule.spaced("5 millis") }),
        Effect.timeout("10 seconds"),
        Effect.orDie
      )
    }
    const url = HttpServer.formatAddress(Context.get(context, HttpServer.HttpServer).address)
    const ownerTokenPath = join(settings.home, "owner-token")
    return {
      home: settings.home,
      url,
      gate,
      ownerToken: existsSync(ownerTokenPath) ? readFileSync(ownerTokenPath, "utf8").trim() : "",
      engine: Context.get(context, Engine),
      context
    }
  })
