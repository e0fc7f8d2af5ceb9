// One POST of a delivery to a webhook, bounded in time, and what came of it: delivered (2xx),
// worth another try (no answer, a timeout, 408, 429, 5xx) or refused for good (any other status,
// a redirect included: the receiver would refuse the same bytes again). It never throws, never
// follows a redirect and reads no more of the answer than its status. Retrying is the caller's.
import * as Effect from "effect/Effect"

export type AttemptResult =
  | { readonly kind: "delivered"; readonly status: number }
  | { readonly kind: "retry"; readonly status: number | null; readonly error: string }
  | { readonly kind: "refused"; readonly status: number; readonly error: string }

/** A network failure in a few words (fetch says only "fetch failed"; its cause says why). */
const describeFailure = (cause: unknown): string => {
  const inner = (cause as { readonly cause?: unknown })?.cause ?? cause
  const code = (inner as { readonly code?: unknown })?.code
  const message = inner instanceof Error ? inner.message : String(inner)
  return typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message
}

/** Classifies an HTTP status. */
export const resultOf = (status: number): AttemptResult => {
  if (status >= 200 && status < 300) return { kind: "delivered", status }
  if (status === 408 || status === 429 || status >= 500)
    return { kind: "retry", status, error: `the receiver answered HTTP ${status}` }
  if (status >= 300 && status < 400)
    return {
      kind: "refused",
      status,
      error: `the receiver answered HTTP ${status} (a redirect, which is not followed); set the final URL`
    }
  return { kind: "refused", status, error: `the receiver refused the delivery with HTTP ${status}` }
}

/** POSTs `body` to `url` with `headers`; at most `timeoutMs`, then it counts as failed. */
export const post = (
  url: string,
  body: string,
  headers: Readonly<Record<string, string>>,
  timeoutMs: number
): Effect.Effect<AttemptResult> =>
  Effect.tryPromise({
    try: async (signal) => {
      const response = await fetch(url, { method: "POST", body, headers, redirect: "manual", signal })
      // The answer's body is not read: release the connection.
      await response.body?.cancel().catch(() => undefined)
      return resultOf(response.status)
    },
    catch: (cause): AttemptResult => ({ kind: "retry", status: null, error: describeFailure(cause) })
  }).pipe(
    Effect.catch((failure) => Effect.succeed(failure)),
    Effect.timeoutOrElse({
      duration: timeoutMs,
      orElse: () =>
        Effect.succeed<AttemptResult>({
          kind: "retry",
          status: null,
          error: `no answer within ${timeoutMs} ms`
        })
    })
  )
