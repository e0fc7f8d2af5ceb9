// Pure: a project's webhook as the decider records it (the secret's value in no event), the last
// delivery folded into the project, and which events make which notification.
import { assert, describe, it } from "@effect/vitest"
import type {
  Command,
  EventDraft,
  NotifyOutcome,
  Project,
  SpindleEvent,
  WebhookBody
} from "@spindle/contracts"
import { emptyReadModel, project as fold, type ReadModel } from "@spindle/read-model"
import * as HashMap from "effect/HashMap"
import * as Result from "effect/Result"
import { DEFAULT_LIMITS } from "../config/ServerConfig.ts"
import { decide } from "../engine/decider.ts"
import { NOW, refusalOf } from "../testing/decide.ts"
import { ids } from "../testing/fixtures.ts"
import { notificationFor, renderBody } from "./notification.ts"

const SECRET = "s3cret-Zq9-value"
let n = 0

/** Decides and folds `command`; its events, numbered on from the model's sequence. */
const step = (model: ReadModel, command: Record<string, unknown>) => {
  const decision = decide({ commandId: ids.command(`c${++n}`), ...command } as Command, model, {
    now: NOW,
    limits: DEFAULT_LIMITS
  })
  if (Result.isFailure(decision)) throw new Error(`refused: ${decision.failure.message}`)
  const events = decision.success.map(
    (draft: EventDraft, i) =>
      ({
        ...draft,
        sequence: model.sequence + i + 1,
        eventId: `e${model.sequence + i + 1}`,
        occurredAt: NOW,
        commandId: `c${n}`,
        actor: { kind: "client", tokenId: "tok_1" }
      }) as SpindleEvent
  )
  return { model: events.reduce(fold, model), events }
}

const projectOf = (model: ReadModel): Project => [...HashMap.values(model.projects)][0]!

const created = (fields: Record<string, unknown> = {}) =>
  step(emptyReadModel, {
    type: "project.create",
    projectId: "p1",
    workspaceRoot: "/repos/alpha",
    ...fields
  })

describe("a project's webhook", () => {
  it("is recorded with whether a secret is set; the secret's value is in no event", () => {
    const { model, events } = created({ notifyWebhook: "https://hooks.example.com/a", notifySecret: SECRET })
    assert.deepStrictEqual(projectOf(model).notifyWebhook, {
      url: "https://hooks.example.com/a",
      secretSet: true
    })
    assert.notInclude(JSON.stringify(events), "Zq9")

    // A new URL keeps the secret; removing the secret leaves the webhook unsigned; null removes it.
    const moved = step(model, {
      type: "project.update",
      projectId: "p1",
      notifyWebhook: "http://127.0.0.1:9/b"
    })
    assert.deepStrictEqual(projectOf(moved.model).notifyWebhook, {
      url: "http://127.0.0.1:9/b",
      secretSet: true
    })
    const rotated = step(moved.model, {
      type: "project.update",
      projectId: "p1",
      notifySecret: `${SECRET}-2`
    })
    assert.notInclude(JSON.stringify(rotated.events), "Zq9")
    assert.deepStrictEqual(projectOf(rotated.model).notifyWebhook?.secretSet, true)
    const unsigned = step(rotated.model, { type: "project.update", projectId: "p1", notifySecret: null })
    assert.deepStrictEqual(projectOf(unsigned.model).notifyWebhook, {
      url: "http://127.0.0.1:9/b",
      secretSet: false
    })
    const cleared = step(unsigned.model, { type: "project.update", projectId: "p1", notifyWebhook: null })
    assert.isNull(projectOf(cleared.model).notifyWebhook)
  })

  it("without a secret is unsigned", () => {
    const { model } = created({ notifyWebhook: "https://hooks.example.com/a" })
    assert.deepStrictEqual(projectOf(model).notifyWebhook, {
      url: "https://hooks.example.com/a",
      secretSet: false
    })
  })

  it("refuses a secret with no webhook to sign for, naming the field", () => {
    const refused = refusalOf(emptyReadModel, {
      type: "project.create",
      commandId: ids.command("x1"),
      projectId: ids.project("p1"),
      workspaceRoot: "/repos/alpha",
      notifySecret: SECRET
    })
    assert.strictEqual(refused.reason, "validation")
    assert.strictEqual(refused.field, "notifySecret")
    assert.include(refused.message, "--notify-webhook")
    const { model } = created()
    const onUpdate = refusalOf(model, {
      type: "project.update",
      commandId: ids.command("x2"),
      projectId: ids.project("p1"),
      notifySecret: SECRET
    })
    assert.strictEqual(onUpdate.field, "notifySecret")
    const withClear = refusalOf(created({ notifyWebhook: "https://hooks.example.com/a" }).model, {
      type: "project.update",
      commandId: ids.command("x3"),
      projectId: ids.project("p1"),
      notifyWebhook: null,
      notifySecret: SECRET
    })
    assert.strictEqual(withClear.reason, "validation")
    assert.notInclude(JSON.stringify([refused, onUpdate, withClear]), "Zq9")
  })

  it("shows the last delivery's outcome without changing the project's updatedAt", () => {
    const { model } = created({ notifyWebhook: "https://hooks.example.com/a" })
    const outcome: NotifyOutcome = {
      deliveryId: "dlv_1",
      event: "turn-failed",
      threadId: ids.thread("t1"),
      at: "2026-01-02T00:00:00.000Z",
      ok: false,
      status: 500,
      error: "the receiver answered HTTP 500",
      attempts: 6
    }
    const failed = step(model, { type: "project.notify.record", projectId: "p1", outcome })
    assert.strictEqual(failed.events[0]?.type, "project.notify-failed")
    assert.deepStrictEqual(projectOf(failed.model).lastNotify, outcome)
    assert.strictEqual(projectOf(failed.model).updatedAt, projectOf(model).updatedAt)
    const delivered = step(failed.model, {
      type: "project.notify.record",
      projectId: "p1",
      outcome: { ...outcome, deliveryId: "dlv_2", ok: true, status: 204, error: null, attempts: 1 }
    })
    assert.strictEqual(delivered.events[0]?.type, "project.notify-delivered")
    assert.strictEqual(projectOf(delivered.model).lastNotify?.deliveryId, "dlv_2")
    // Its project gone, a late outcome records nothing.
    assert.deepStrictEqual(
      step(emptyReadModel, { type: "project.notify.record", projectId: "p1", outcome }).events,
      []
    )
  })
})

describe("notificationFor", () => {
  /** Project p1 (with a webhook unless said otherwise) and thread t1 with turn u1 running. */
  const world = (webhook = true) => {
    let { model } = created(webhook ? { notifyWebhook: "https://hooks.example.com/a" } : {})
    model = step(model, {
      type: "thread.create",
      threadId: "t1",
      projectId: "p1",
      title: "Fix the parser"
    }).model
    model = step(model, { type: "thread.turn.start", threadId: "t1", prompt: "go", turnId: "u1" }).model
    return step(model, {
      type: "thread.provider.record",
      threadId: "t1",
      report: { type: "turn-started", turnId: "u1" }
    }).model
  }
  const report = (model: ReadModel, r: Record<string, unknown>) => {
    const result = step(model, { type: "thread.provider.record", threadId: "t1", report: r })
    return { model: result.model, event: result.events.find((e) => e.type === `thread.${r.type}`)! }
  }
  const ended = (status: string, reason: string | null = null) =>
    report(world(), { type: "turn-ended", turnId: "u1", status, reason })

  it("an approval request asks for the user, saying what would run", () => {
    const { model, event } = report(world(), {
      type: "approval-requested",
      approval: {
        requestId: "r1",
        turnId: "u1",
        kind: "command",
        command: "rm -rf build",
        cwd: "/w",
        reason: null,
        requestedAt: NOW
      }
    })
    const made = notificationFor(event, model)
    assert.strictEqual(made?.event, "approval-requested")
    assert.strictEqual(made?.body.text, 'Thread "Fix the parser" needs your approval to run: rm -rf build')
    assert.deepStrictEqual(made?.body.project, { id: ids.project("p1"), title: "alpha" })
    assert.strictEqual(made?.body.thread.id, "t1")
    assert.strictEqual(made?.body.detail.requestId, "r1")
  })

  it("a failed turn notifies; an interrupted one does not", () => {
    const failed = ended("failed", "exit code 3")
    const made = notificationFor(failed.event, failed.model)
    assert.strictEqual(made?.event, "turn-failed")
    assert.include(made?.body.text, "its turn failed: exit code 3")
    assert.strictEqual(made?.body.thread.state, "failed")
    const interrupted = ended("interrupted", "stopped")
    assert.isUndefined(notificationFor(interrupted.event, interrupted.model))
  })

  it("a completed turn is ready to review only when the radar counts changes against its base", () => {
    const done = ended("completed")
    assert.isUndefined(notificationFor(done.event, done.model), "not counted")
    const counted = (files: number) =>
      step(done.model, {
        type: "thread.changes.record",
        threadId: "t1",
        changes: { files, insertions: files * 10, deletions: 2 }
      }).model
    assert.isUndefined(notificationFor(done.event, counted(0)), "nothing changed")
    const made = notificationFor(done.event, counted(3))
    assert.strictEqual(made?.event, "ready-to-review")
    assert.include(made?.body.text, "is ready to review: 3 files +30 -2")
    assert.include(made?.body.detail, { filesChanged: 3, insertions: 30, deletions: 2, turnId: "u1" })
  })

  it("a failed setup notifies as a failure at the setup stage; a passed one does not", () => {
    const model = world()
    const setup = (status: string, exitCode: number | null) =>
      ({
        type: "thread.setup-completed",
        sequence: model.sequence + 1,
        eventId: "e-setup",
        occurredAt: NOW,
        commandId: "c-setup",
        actor: { kind: "server" },
        payload: { threadId: "t1", run: 1, status, exitCode, signal: null, durationMs: 5, logTail: "" }
      }) as unknown as SpindleEvent
    const made = notificationFor(setup("failed", 2), model)
    assert.strictEqual(made?.event, "turn-failed")
    assert.strictEqual(made?.body.detail.stage, "setup")
    assert.include(made?.body.text, "its setup script failed (exit 2)")
    assert.include(notificationFor(setup("timed-out", null), model)?.body.text, "timed out")
    assert.isUndefined(notificationFor(setup("succeeded", 0), model))
  })

  it("a project without a webhook, or another event, makes none", () => {
    const model = world(false)
    const failed = report(model, { type: "turn-ended", turnId: "u1", status: "failed", reason: "x" })
    assert.isUndefined(notificationFor(failed.event, failed.model))
    const item = report(world(), {
      type: "turn-item",
      turnId: "u1",
      phase: "completed",
      item: { id: "i1", kind: "file-change", changes: [{ path: "a.ts", kind: "add" }] }
    })
    assert.isUndefined(notificationFor(item.event, item.model))
  })

  it("the body carries the delivery id and the event's time and sequence", () => {
    const failed = ended("failed", "boom")
    const made = notificationFor(failed.event, failed.model)!
    const body = JSON.parse(renderBody(made, "dlv_abc")) as WebhookBody
    assert.strictEqual(body.deliveryId, "dlv_abc")
    assert.strictEqual(body.event, "turn-failed")
    assert.strictEqual(body.occurredAt, failed.event.occurredAt)
    assert.strictEqual(body.sequence, failed.event.sequence)
    assert.deepStrictEqual(Object.keys(body), [
      "event",
      "deliveryId",
      "occurredAt",
      "sequence",
      "project",
      "thread",
      "text",
      "detail"
    ])
  })
})
