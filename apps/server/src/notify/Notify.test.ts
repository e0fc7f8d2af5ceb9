// Webhook notifications end to end: the real server in process, real agents (a command agent, the
// scripted ACP agent) in real worktrees, and a real HTTP receiver on 127.0.0.1 that checks the
// signature with the secret. Retry schedules are shortened through the server's settings.

import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import type { NotifyOutcome, ProjectId, SpindleEvent, ThreadId } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as References from "effect/References"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { NotifySettings, ServerSettings } from "../config/ServerConfig.ts"
import type { Engine } from "../engine/Engine.ts"
import { NotifyOutbox } from "../persistence/NotifyOutbox.ts"
import { NotifySecrets } from "../persistence/NotifySecrets.ts"
import { closedPort } from "../testing/closedPort.ts"
import { gitRepo, tempDir, tempHome } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { providersOn, providerWorld, turnEnded, worldOn } from "../testing/providers.ts"
import { receivedAtLeast, signatureValid, webhookReceiver } from "../testing/webhookReceiver.ts"
import { Notify } from "./Notify.ts"

const SECRET = "whsec-Zq9-never-shown"
const P1 = "p1" as ProjectId
/** Retries after 20 and 40 ms: three attempts in all. */
const FAST: Partial<NotifySettings> = { timeoutMs: 5_000, retryDelaysMs: [20, 40] }

/** A command agent: `sh -c SCRIPT agent PROMPT`. */
const shAgent = (script: string) => ({ agentCommand: ["/bin/sh", "-c", script, "agent", "{prompt}"] })
const command = { provider: "command" }
const FAILING = shAgent("echo working; exit 3")

/** Every log entry of what runs under it, as JSON lines, at debug level. */
const captureLogs = (lines: Array<string>) =>
  Layer.mergeAll(
    Logger.layer([Logger.make((entry) => void lines.push(Logger.formatJson.log(entry)))]),
    Layer.succeed(References.MinimumLogLevel, "Debug")
  )

const isOutcome = (event: SpindleEvent) =>
  event.type === "project.notify-delivered" || event.type === "project.notify-failed"

/** The `n`-th delivery outcome recorded in the log (1 first), waited for (bounded). */
const outcomeNo = (engine: Engine["Service"], n = 1) =>
  engine.events(0).pipe(
    Stream.filter(isOutcome),
    Stream.take(n),
    Stream.runLast,
    Effect.map((last) => {
      const event = last._tag === "Some" ? last.value : undefined
      return event !== undefined && isOutcome(event)
        ? (event.payload as { outcome: NotifyOutcome }).outcome
        : undefined
    }),
    Effect.timeoutOrElse({
      duration: "60 seconds",
      orElse: () => Effect.die(new Error(`no ${n}-th notification outcome within 60 s`))
    }),
    Effect.map((outcome) => outcome!)
  )

/** Waits until the notifier has looked at every event so far and holds no delivery. */
const notifierIdle = (server: {
  readonly context: Context.Context<never>
  readonly engine: Engine["Service"]
}) =>
  Effect.gen(function* () {
    const notify = Context.get(server.context as Context.Context<Notify>, Notify)
    yield* notify.caughtUp((yield* server.engine.readModel).sequence)
    yield* notify.held.pipe(
      Effect.repeat({ until: (held) => held === 0, schedule: Schedule.spaced("10 millis") }),
      Effect.timeout("30 seconds")
    )
  })

describe("webhook notifications", () => {
  it.live(
    "a failed turn is POSTed once, signed over its exact bytes; the secret shows nowhere",
    () =>
      Effect.gen(function* () {
        const receiver = yield* webhookReceiver()
        const logs: Array<string> = []
        const world = yield* providerWorld(
          providersOn,
          { ...FAILING, notifyWebhook: receiver.url, notifySecret: SECRET },
          { notify: FAST }
        ).pipe(Effect.provide(captureLogs(logs)))
        yield* world.start("t1", "go", command)
        const outcome = yield* outcomeNo(world.engine)
        assert.deepStrictEqual(
          {
            ok: outcome.ok,
            event: outcome.event,
            threadId: outcome.threadId,
            status: outcome.status,
            attempts: outcome.attempts,
            error: outcome.error
          },
          {
            ok: true,
            event: "turn-failed",
            threadId: "t1" as ThreadId,
            status: 200,
            attempts: 1,
            error: null
          }
        )
        assert.strictEqual(receiver.requests.length, 1)
        const [request] = receiver.requests
        assert.strictEqual(request?.method, "POST")
        assert.strictEqual(request?.path, "/hooks/spindle")
        assert.strictEqual(request?.headers["content-type"], "application/json")
        assert.strictEqual(request?.headers["x-spindle-event"], "turn-failed")
        assert.strictEqual(request?.headers["x-spindle-delivery"], outcome.deliveryId)
        assert.isTrue(signatureValid(SECRET, request!), "the receiver's HMAC of the body matches")
        assert.isFalse(signatureValid("another-secret", request!))
        const body = request!.json
        assert.strictEqual(body.event, "turn-failed")
        assert.strictEqual(body.deliveryId, outcome.deliveryId)
        assert.deepStrictEqual(body.project, { id: "p1", title: (yield* world.engine.getProject(P1))!.title })
        assert.include(body.thread as object, { id: "t1", state: "failed" })
        assert.isString((body.thread as { branch: unknown }).branch)
        assert.include(body.text as string, "its turn failed")
        assert.strictEqual((body.detail as { stage: string }).stage, "turn")

        const project = (yield* world.engine.getProject(P1))!
        assert.deepStrictEqual(project.notifyWebhook, { url: receiver.url, secretSet: true })
        assert.deepStrictEqual(project.lastNotify, outcome)
        // Nowhere a client or the log can see: events, the snapshot, log lines (which did capture).
        yield* notifierIdle(world.server)
        const all = yield* world.engine
          .events(0)
          .pipe(Stream.take((yield* world.engine.readModel).sequence), Stream.runCollect)
        assert.notInclude(JSON.stringify(Array.from(all)), SECRET)
        assert.notInclude(JSON.stringify(yield* world.engine.snapshot), SECRET)
        assert.isTrue(
          logs.some((line) => line.includes("was delivered")),
          "logs were captured"
        )
        assert.notInclude(logs.join("\n"), SECRET)
        assert.notInclude(logs.join("\n"), receiver.url)

        // Removing the webhook removes its secret too.
        const secrets = Context.get(world.server.context as Context.Context<NotifySecrets>, NotifySecrets)
        assert.strictEqual(yield* secrets.get("p1"), SECRET)
        yield* world.send({ type: "project.update", projectId: "p1", notifyWebhook: null })
        assert.isUndefined(yield* secrets.get("p1"))
        assert.isNull((yield* world.engine.getProject(P1))!.notifyWebhook)
      }),
    60_000
  )

  it.live(
    "a receiver that answers 500 twice, then 200: delivered on the third attempt, the same bytes each time",
    () =>
      Effect.gen(function* () {
        const receiver = yield* webhookReceiver((n) => (n < 2 ? 500 : 200))
        const world = yield* providerWorld(
          providersOn,
          { ...FAILING, notifyWebhook: receiver.url, notifySecret: SECRET },
          { notify: FAST }
        )
        yield* world.start("t1", "go", command)
        const outcome = yield* outcomeNo(world.engine)
        assert.include(outcome, { ok: true, status: 200, attempts: 3, error: null })
        assert.strictEqual(receiver.requests.length, 3)
        const [first, ...rest] = receiver.requests
        for (const again of rest) {
          assert.isTrue(again.raw.equals(first!.raw), "a retry sends the same body")
          assert.strictEqual(again.headers["x-spindle-delivery"], outcome.deliveryId)
          assert.isTrue(signatureValid(SECRET, again))
        }
        assert.deepStrictEqual((yield* world.engine.getProject(P1))?.lastNotify, outcome)
      }),
    60_000
  )

  it.live(
    "a receiver that is down: given up after every retry, the failure on the project, nothing held",
    () =>
      Effect.gen(function* () {
        const port = yield* closedPort
        const url = `http://127.0.0.1:${port}/down`
        const world = yield* providerWorld(providersOn, { ...FAILING, notifyWebhook: url }, { notify: FAST })
        yield* world.start("t1", "go", command)
        const outcome = yield* outcomeNo(world.engine)
        assert.include(outcome, { ok: false, status: null, attempts: 3, event: "turn-failed" })
        assert.include(outcome.error, "ECONNREFUSED")
        const project = (yield* world.engine.getProject(P1))!
        assert.deepStrictEqual(project.notifyWebhook, { url, secretSet: false })
        assert.deepStrictEqual(project.lastNotify, outcome)
        yield* notifierIdle(world.server)
        const outbox = Context.get(world.server.context as Context.Context<NotifyOutbox>, NotifyOutbox)
        assert.deepStrictEqual(yield* outbox.pending, [])
      }),
    60_000
  )

  it.live(
    "a receiver that refuses for good (410) is not retried; one that is unsigned gets no signature",
    () =>
      Effect.gen(function* () {
        const receiver = yield* webhookReceiver(() => 410)
        const world = yield* providerWorld(
          providersOn,
          { ...FAILING, notifyWebhook: receiver.url },
          { notify: { ...FAST, retryDelaysMs: [20, 20, 20, 20] } }
        )
        yield* world.start("t1", "go", command)
        const outcome = yield* outcomeNo(world.engine)
        assert.include(outcome, { ok: false, status: 410, attempts: 1 })
        assert.include(outcome.error, "HTTP 410")
        assert.strictEqual(receiver.requests.length, 1)
        assert.isUndefined(receiver.requests[0]?.headers["x-spindle-signature"])
      }),
    60_000
  )

  it.live(
    "an agent's approval request is POSTed as approval-requested, naming what it would run",
    () =>
      Effect.gen(function* () {
        const receiver = yield* webhookReceiver()
        const dir = yield* tempDir()
        const script = join(dir, "script.json")
        writeFileSync(
          script,
          JSON.stringify({ turns: [[{ run: "rm -rf build", ask: true, output: "removed" }]] })
        )
        const world = yield* providerWorld(
          providersOn,
          {
            acpAgent: [process.execPath, fileURLToPath(new URL("../testing/acpAgent.ts", import.meta.url))],
            agentEnv: {
              ACP_TEST_SCRIPT: script,
              ACP_TEST_LOG: join(dir, "requests.jsonl"),
              ACP_TEST_HOME: dir
            },
            notifyWebhook: receiver.url,
            notifySecret: SECRET
          },
          { notify: FAST }
        )
        yield* world.start("t1", "clean up", { provider: "acp", runtimeMode: "approval-required" })
        const outcome = yield* outcomeNo(world.engine)
        assert.include(outcome, { ok: true, event: "approval-requested", attempts: 1 })
        const request = receiver.requests[0]!
        assert.strictEqual(request.headers["x-spindle-event"], "approval-requested")
        assert.isTrue(signatureValid(SECRET, request))
        const pending = (yield* world.engine.getThread("t1" as ThreadId))!.pendingApprovals[0]!
        assert.include(request.json.detail as object, {
          requestId: pending.requestId,
          command: "rm -rf build"
        })
        assert.include(request.json.text as string, "needs your approval to run: rm -rf build")
        // Answered, the turn goes on; a command that changes no file is nothing to review.
        yield* world.send({
          type: "thread.approval.respond",
          threadId: "t1",
          requestId: pending.requestId,
          decision: "accept"
        })
        yield* turnEnded(world.engine, "t1")
        yield* notifierIdle(world.server)
        assert.strictEqual(receiver.requests.length, 1)
      }),
    60_000
  )

  it.live(
    "a completed turn whose worktree changes files is ready to review; one that changes none notifies nobody",
    () =>
      Effect.gen(function* () {
        const receiver = yield* webhookReceiver()
        const world = yield* providerWorld(
          providersOn,
          {
            ...shAgent('if [ "$1" = write ]; then echo hello > notes.txt; fi; echo done'),
            notifyWebhook: receiver.url,
            notifySecret: SECRET
          },
          { notify: FAST }
        )
        yield* world.start("t1", "look only", command)
        yield* turnEnded(world.engine, "t1")
        yield* notifierIdle(world.server)
        assert.strictEqual(receiver.requests.length, 0, "nothing changed, nothing to review")

        const started = yield* world.start("t2", "write", command)
        const outcome = yield* outcomeNo(world.engine)
        assert.include(outcome, { ok: true, event: "ready-to-review", threadId: "t2" as ThreadId })
        const request = receiver.requests[0]!
        assert.strictEqual(receiver.requests.length, 1)
        assert.include(request.json.detail as object, {
          filesChanged: 1,
          insertions: 1,
          deletions: 0,
          lastMessage: "done"
        })
        assert.include(request.json.thread as object, {
          id: "t2",
          branch: started.branch,
          state: "completed"
        })
        assert.include(request.json.text as string, "is ready to review: 1 file +1 -0")
      }),
    60_000
  )

  it.live(
    "a receiver that never answers delays no command; past capacity the oldest delivery is given up, and says so",
    () =>
      Effect.gen(function* () {
        const receiver = yield* webhookReceiver(() => "hang")
        const world = yield* providerWorld(
          providersOn,
          { ...FAILING, notifyWebhook: receiver.url },
          { notify: { timeoutMs: 60_000, retryDelaysMs: [], capacity: 1 } }
        )
        yield* world.start("t1", "go", command)
        yield* receivedAtLeast(receiver, 1)
        // The first delivery hangs: a new thread still starts and runs at once.
        yield* world.start("t2", "go", command).pipe(Effect.timeout("15 seconds"))
        const outcome = yield* outcomeNo(world.engine)
        assert.include(outcome, { ok: false, threadId: "t1" as ThreadId, status: null })
        assert.include(outcome.error, "dropped")
        yield* receivedAtLeast(receiver, 2)
        assert.strictEqual(
          receiver.requests[1]?.json.thread && (receiver.requests[1].json.thread as { id: string }).id,
          "t2"
        )
      }),
    60_000
  )

  it.live(
    "a delivery pending when the server stops is sent again after the restart, once, and never after",
    () =>
      Effect.gen(function* () {
        const receiver = yield* webhookReceiver(() => 503)
        const repo = yield* gitRepo
        const home = yield* tempHome
        // After the first failed attempt it waits a minute: the server stops first.
        const settings: Partial<ServerSettings> = {
          providers: providersOn,
          home,
          notify: { ...FAST, retryDelaysMs: [60_000, 60_000] }
        }
        const project = { ...FAILING, notifyWebhook: receiver.url, notifySecret: SECRET }
        const pending = yield* Effect.scoped(
          Effect.gen(function* () {
            const world = yield* worldOn(yield* inProcessServer(settings), repo, project)
            yield* world.start("t1", "go", command)
            yield* receivedAtLeast(receiver, 1)
            const outbox = Context.get(world.server.context as Context.Context<NotifyOutbox>, NotifyOutbox)
            const rows = yield* outbox.pending.pipe(
              Effect.repeat({
                until: (rows) => rows[0]?.attempts === 1,
                schedule: Schedule.spaced("10 millis")
              }),
              Effect.timeout("30 seconds")
            )
            assert.isNull((yield* world.engine.getProject(P1))!.lastNotify)
            return rows
          })
        )
        assert.strictEqual(pending.length, 1)
        assert.strictEqual(receiver.requests.length, 1)
        receiver.setAnswer(() => 200)

        const second = yield* Effect.scoped(
          Effect.gen(function* () {
            const world = yield* worldOn(yield* inProcessServer(settings), repo, project)
            const outcome = yield* outcomeNo(world.engine)
            yield* notifierIdle(world.server)
            const outbox = Context.get(world.server.context as Context.Context<NotifyOutbox>, NotifyOutbox)
            return { outcome, left: yield* outbox.pending }
          })
        )
        assert.include(second.outcome, {
          ok: true,
          status: 200,
          attempts: 2,
          deliveryId: pending[0]!.deliveryId
        })
        assert.deepStrictEqual(second.left, [])
        assert.strictEqual(receiver.requests.length, 2)
        assert.isTrue(
          receiver.requests[1]!.raw.equals(receiver.requests[0]!.raw),
          "the same delivery, the same bytes"
        )
        assert.isTrue(signatureValid(SECRET, receiver.requests[1]!))

        // A third start finds nothing to send: no event is notified twice.
        const world = yield* worldOn(yield* inProcessServer(settings), repo, project)
        yield* notifierIdle(world.server)
        assert.strictEqual(receiver.requests.length, 2)
        const outcomes = yield* world.engine
          .events(0)
          .pipe(
            Stream.take((yield* world.engine.readModel).sequence),
            Stream.filter(isOutcome),
            Stream.runCollect
          )
        assert.strictEqual(Array.from(outcomes).length, 1)
      }),
    90_000
  )
})
