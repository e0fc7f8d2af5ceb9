// Webhook notifications of a project: the URL and secret a user sets (the secret only ever goes in,
// never out: a project says whether one is set), what Spindle POSTs to the URL, and the outcome of
// the last delivery as the project shows it.
import * as Schema from "effect/Schema"
import { ProjectId, ThreadId } from "./ids.ts"
import { IsoTimestamp } from "./values.ts"

export const MAX_WEBHOOK_URL_LENGTH = 2_048
export const MAX_NOTIFY_SECRET_LENGTH = 1_024

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL_OR_SPACE = /[\s\u0000-\u001f\u007f-\u009f]/u

/** Why `text` is not a webhook URL Spindle will call, or undefined when it is one. */
export const webhookUrlProblem = (text: string): string | undefined => {
  const example = "e.g. https://hooks.example.com/spindle"
  if (text.length > MAX_WEBHOOK_URL_LENGTH)
    return `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters; use a shorter URL`
  if (CONTROL_OR_SPACE.test(text)) return `must not contain spaces or control characters (${example})`
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return `must be an absolute http:// or https:// URL (${example})`
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return `must be an http:// or https:// URL, not ${url.protocol.slice(0, 20)} (${example})`
  if (url.hostname === "") return `must name a host (${example})`
  if (url.username !== "" || url.password !== "")
    return "must not carry a user name or password (the URL is shown back by project show); sign deliveries with a secret instead"
  return undefined
}

/** The URL a project's notifications are POSTed to. */
export const WebhookUrl = Schema.String.check(
  Schema.makeFilter<string>((text) => webhookUrlProblem(text), {
    expected: `an absolute http:// or https:// URL of at most ${MAX_WEBHOOK_URL_LENGTH} characters`
  })
).annotate({
  description: `An absolute http:// or https:// URL (at most ${MAX_WEBHOOK_URL_LENGTH} characters, no user name or password) that Spindle POSTs the project's notifications to`
})

/**
 * The key that signs each delivery (HMAC-SHA256 of the body). Its refusals never quote it. It is
 * stored by the server beside the event log, never in it, and never shown back.
 */
export const NotifySecret = Schema.String.check(
  Schema.makeFilter<string>(
    (text) => {
      if (text.trim().length === 0) return "must not be empty; put the secret in the file"
      if (text.length > MAX_NOTIFY_SECRET_LENGTH)
        return `must be at most ${MAX_NOTIFY_SECRET_LENGTH} characters`
      if (text !== text.trim()) return "must not start or end with whitespace"
      if (CONTROL.test(text)) return "must not contain control characters or line breaks"
      return undefined
    },
    { expected: `a secret of 1 to ${MAX_NOTIFY_SECRET_LENGTH} characters` }
  )
).annotate({
  description:
    "The secret that signs each delivery (X-Spindle-Signature: sha256=HMAC-SHA256 of the body); never shown back"
})

/** A project's webhook as clients see it: where it goes, and whether deliveries are signed. */
export const NotifyWebhook = Schema.Struct({
  url: WebhookUrl,
  /** True: each body is signed with the project's secret; false: deliveries go unsigned. */
  secretSet: Schema.Boolean
}).annotate({ identifier: "NotifyWebhook" })
export type NotifyWebhook = typeof NotifyWebhook.Type

/** What a notification is about. */
export const NotifyEvent = Schema.Literals(["approval-requested", "turn-failed", "ready-to-review"])
export type NotifyEvent = typeof NotifyEvent.Type

/** How the last delivery of a project's notifications went. */
export const NotifyOutcome = Schema.Struct({
  deliveryId: Schema.String,
  event: NotifyEvent,
  threadId: ThreadId,
  /** When the delivery was delivered or given up. */
  at: IsoTimestamp,
  ok: Schema.Boolean,
  /** The receiver's last HTTP status; null when none answered (refused, timed out, dropped). */
  status: Schema.NullOr(Schema.Int),
  /** Why it failed (null when delivered). */
  error: Schema.NullOr(Schema.String),
  /** POSTs made, the successful one included. */
  attempts: Schema.Int
}).annotate({ identifier: "NotifyOutcome" })
export type NotifyOutcome = typeof NotifyOutcome.Type

/** How a delivery went, in a few words (the CLI and the board say it alike). */
export const notifyOutcomeText = (last: NotifyOutcome): string =>
  last.ok
    ? `${last.event} (thread ${last.threadId}) delivered at ${last.at}, attempt ${last.attempts}, HTTP ${last.status ?? "-"}`
    : `${last.event} (thread ${last.threadId}) FAILED after ${last.attempts} attempt(s) at ${last.at}: ${
        last.error ?? "no answer"
      }${last.status === null ? "" : ` (HTTP ${last.status})`}`

/** The JSON body of a delivery (`X-Spindle-Signature` signs its exact bytes). */
export const WebhookBody = Schema.Struct({
  event: NotifyEvent,
  /** Unique per notification and the same on every retry: a receiver drops repeats by it. */
  deliveryId: Schema.String,
  /** When what it tells of happened (the event's time). */
  occurredAt: IsoTimestamp,
  /** The sequence of the event it tells of. */
  sequence: Schema.Int,
  project: Schema.Struct({ id: ProjectId, title: Schema.String }),
  thread: Schema.Struct({
    id: ThreadId,
    title: Schema.String,
    branch: Schema.NullOr(Schema.String),
    baseBranch: Schema.NullOr(Schema.String),
    worktreePath: Schema.NullOr(Schema.String),
    /** The thread's turn state (completed, failed, running, ...). */
    state: Schema.String,
    parentThreadId: Schema.NullOr(ThreadId)
  }),
  /** One line for a person. */
  text: Schema.String,
  /** What the event carries: the approval asked for, the failure, the changed files. */
  detail: Schema.Record(Schema.String, Schema.Unknown)
}).annotate({ identifier: "WebhookBody" })
export type WebhookBody = typeof WebhookBody.Type
