// A tiny HTTP client for tests. node:http rather than fetch, which would not let a test set its
// own Host header.
import { get } from "node:http"
import * as Effect from "effect/Effect"

export interface JsonResponse {
  readonly status: number
  readonly body: Record<string, unknown>
}

export const getJson = (url: string, headers: Record<string, string> = {}) =>
  Effect.callback<JsonResponse, Error>((resume) => {
    const request = get(url, { headers }, (response) => {
      let text = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => {
        text += chunk
      })
      response.on("end", () => {
        try {
          resume(Effect.succeed({ status: response.statusCode ?? 0, body: JSON.parse(text) }))
        } catch {
          resume(
            Effect.fail(
              new Error(`GET ${url} answered non-JSON (${response.statusCode}): ${text.slice(0, 200)}`)
            )
          )
        }
      })
    })
    request.on("error", (error) => resume(Effect.fail(error)))
    request.setTimeout(5_000, () => request.destroy(new Error(`GET ${url} timed out`)))
  })
