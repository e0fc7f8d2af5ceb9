// `spindle project add|update --notify-webhook URL --notify-secret-file PATH`, `--clear-notify-secret`,
// `--clear-notify-webhook`, and what `project show` says of them, through the real bin against a real
// server: bad input refused before anything changes, a secret that goes in and never comes out, and a
// receiver that is down shown as the last notification's failure.
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { NotifyOutcome, Project, SpindleEvent } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { closedPort } from "../testing/closedPort.ts"
import { gitRepo, tempDir } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { providersOn } from "../testing/providers.ts"
import { runSpindle } from "../testing/serverProcess.ts"
import { webhookReceiver } from "../testing/webhookReceiver.ts"

const SECRET = "cli-Zq9-secret-value"

const isOutcome = (event: SpindleEvent) =>
  event.type === "project.notify-delivered" || event.type === "project.notify-failed"

describe("spindle project --notify-webhook", () => {
  it.live(
    "refuses a bad URL or an empty secret file with nothing changed; sets, shows and clears a webhook without ever printing the secret; shows a receiver that is down",
    () =>
      Effect.gen(function* () {
        const server = yield* inProcessServer({
          providers: providersOn,
          notify: { timeoutMs: 5_000, retryDelaysMs: [20, 40] }
        })
        const repo = yield* gitRepo
        const dir = yield* tempDir()
        const env = { SPINDLE_HOME: server.home }
        const outputs: Array<string> = []
        const spindle = (args: ReadonlyArray<string>) =>
          Effect.tap(runSpindle(args, env), (result) =>
            Effect.sync(() => outputs.push(result.stdout, result.stderr))
          )
        const secretFile = join(dir, "secret")
        writeFileSync(secretFile, `  ${SECRET}\n`)
        const emptyFile = join(dir, "empty")
        writeFileSync(emptyFile, " \n\n")
        const receiver = yield* webhookReceiver()
        const agent = ["--agent-command", '["/bin/sh","-c","echo trying; exit 3"]']

        // Bad input: nothing is registered.
        const ftp = yield* spindle([
          "project",
          "add",
          repo,
          "--id",
          "demo",
          "--notify-webhook",
          "ftp://example.com/x"
        ])
        assert.notStrictEqual(ftp.code, 0)
        assert.include(ftp.stderr, "--notify-webhook must be an http:// or https:// URL, not ftp:")
        const ftpJson = yield* spindle([
          "--json",
          "project",
          "add",
          repo,
          "--id",
          "demo",
          "--notify-webhook",
          "hooks.example.com/x"
        ])
        assert.strictEqual(
          (JSON.parse(ftpJson.stdout) as { error: { reason: string } }).error.reason,
          "validation"
        )
        const empty = yield* spindle([
          "project",
          "add",
          repo,
          "--id",
          "demo",
          "--notify-webhook",
          receiver.url,
          "--notify-secret-file",
          emptyFile
        ])
        assert.strictEqual(empty.code, 2)
        assert.include(empty.stderr, "is empty")
        const missing = yield* spindle([
          "project",
          "add",
          repo,
          "--id",
          "demo",
          "--notify-webhook",
          receiver.url,
          "--notify-secret-file",
          join(dir, "nope")
        ])
        assert.strictEqual(missing.code, 2)
        assert.deepStrictEqual((yield* server.engine.snapshot).projects, [])

        // Set with a secret: shown signed, the secret nowhere.
        const added = yield* spindle([
          "project",
          "add",
          repo,
          "--id",
          "demo",
          ...agent,
          "--notify-webhook",
          receiver.url,
          "--notify-secret-file",
          secretFile
        ])
        assert.strictEqual(added.code, 0, added.stderr)
        assert.include(added.stdout, `notify ${receiver.url}  signed`)
        const shown = JSON.parse((yield* spindle(["project", "show", "demo", "--json"])).stdout) as Project
        assert.deepStrictEqual(shown.notifyWebhook, { url: receiver.url, secretSet: true })
        assert.isNull(shown.lastNotify)

        // Unsigned, then signed again; a bad URL on update changes nothing.
        const unsigned = yield* spindle(["project", "update", "demo", "--clear-notify-secret"])
        assert.strictEqual(unsigned.code, 0, unsigned.stderr)
        assert.include(unsigned.stdout, "unsigned: no secret is set")
        const resigned = yield* spindle(["project", "update", "demo", "--notify-secret-file", secretFile])
        assert.include(resigned.stdout, "signed (X-Spindle-Signature")
        const before = (yield* server.engine.readModel).sequence
        const badUpdate = yield* spindle([
          "project",
          "update",
          "demo",
          "--notify-webhook",
          "file:///etc/passwd"
        ])
        assert.notStrictEqual(badUpdate.code, 0)
        assert.include(badUpdate.stderr, "--notify-webhook")
        const emptyUpdate = yield* spindle(["project", "update", "demo", "--notify-secret-file", emptyFile])
        assert.strictEqual(emptyUpdate.code, 2)
        assert.strictEqual((yield* server.engine.readModel).sequence, before, "nothing was applied")

        // A receiver that is down: its failure is the project's last notification.
        const port = yield* closedPort
        const down = `http://127.0.0.1:${port}/down`
        const moved = yield* spindle(["project", "update", "demo", "--notify-webhook", down])
        assert.include(moved.stdout, `notify ${down}  signed`, "a new URL keeps the secret")
        const started = yield* spindle([
          "thread",
          "start",
          "--project",
          "demo",
          "--prompt",
          "go",
          "--provider",
          "command"
        ])
        assert.strictEqual(started.code, 0, started.stderr)
        const outcome = yield* server.engine.events(0).pipe(
          Stream.filter(isOutcome),
          Stream.runHead,
          Effect.timeout("60 seconds"),
          Effect.map((event) =>
            event._tag === "Some" ? (event.value.payload as { outcome: NotifyOutcome }).outcome : undefined
          )
        )
        assert.include(outcome, { ok: false, event: "turn-failed", attempts: 3 })
        const failed = JSON.parse((yield* spindle(["project", "show", "demo", "--json"])).stdout) as Project
        assert.deepStrictEqual(failed.lastNotify, outcome)
        assert.include(failed.lastNotify?.error, "ECONNREFUSED")
        const text = yield* spindle(["project", "show", "demo"])
        assert.include(text.stdout, "last notification turn-failed")
        assert.include(text.stdout, "FAILED")
        assert.include(text.stdout, "after 3 attempt(s)")

        // Cleared: off, secret and all.
        const cleared = yield* spindle(["project", "update", "demo", "--clear-notify-webhook"])
        assert.strictEqual(cleared.code, 0, cleared.stderr)
        assert.include(cleared.stdout, "notify off")
        const after = JSON.parse((yield* spindle(["project", "show", "demo", "--json"])).stdout) as Project
        assert.isNull(after.notifyWebhook)
        const contradiction = yield* spindle([
          "project",
          "update",
          "demo",
          "--clear-notify-webhook",
          "--notify-webhook",
          receiver.url
        ])
        assert.strictEqual(contradiction.code, 2)

        assert.isAbove(outputs.join("").length, 0)
        assert.notInclude(outputs.join("\n"), SECRET)
        assert.strictEqual(
          receiver.requests.length,
          0,
          "the receiver was never the webhook when a turn failed"
        )
      }),
    120_000
  )
})
