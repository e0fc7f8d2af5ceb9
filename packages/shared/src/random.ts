// Random identifiers from the `Random` service, so tests can seed them.
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"

/** `bytes` random bytes as lowercase hex. */
export const randomHex = (bytes: number): Effect.Effect<string> =>
  Effect.map(Effect.all(Array.from({ length: bytes }, () => Random.nextIntBetween(0, 255))), (values) =>
    values.map((v) => v.toString(16).padStart(2, "0")).join("")
  )
