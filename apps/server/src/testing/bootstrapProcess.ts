// A separate process that runs the server's core over a home and sends one bootstrap, so the
// crash tests can kill -9 it mid-way (SPINDLE_TEST_CRASH_AT) and restart the real server on the
// same home. Usage: node bootstrapProcess.ts <home> <repo> <setupScript|-> <command JSON>
import { mkdirSync } from "node:fs"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { BootstrapRecovery } from "../bootstrap/BootstrapRecovery.ts"
import { StartupGate } from "../bootstrap/StartupGate.ts"
import { Commands } from "../commands/Commands.ts"
import { Engine } from "../engine/Engine.ts"
import { CoreLayer } from "../main.ts"
import { serverActor, testSettings } from "./fixtures.ts"

const [home, repo, setupScript, commandJson] = process.argv.slice(2)
if (home === undefined || repo === undefined || setupScript === undefined || commandJson === undefined) {
  process.stderr.write("usage: bootstrapProcess.ts <home> <repo> <setupScript|-> <command JSON>\n")
  process.exit(2)
}
mkdirSync(home, { recursive: true, mode: 0o700 })

const program = Effect.gen(function* () {
  const context = yield* Layer.build(CoreLayer(testSettings(home)))
  const engine = Context.get(context, Engine)
  const commands = Context.get(context, Commands)
  yield* engine.ready
  yield* Context.get(context, BootstrapRecovery).recover
  yield* Context.get(context, StartupGate).markReady
  yield* commands.dispatch(
    {
      type: "project.create",
      commandId: "register",
      projectId: "p1",
      workspaceRoot: repo,
      ...(setupScript === "-" ? {} : { setupScript })
    },
    serverActor
  )
  const result = yield* commands.dispatch(JSON.parse(commandJson), serverActor)
  process.stdout.write(`${JSON.stringify(result)}\n`)
}).pipe(Effect.scoped)

NodeRuntime.runMain(program)
