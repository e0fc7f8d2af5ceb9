// Random identifiers from the `Random` service, so tests can seed them.
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"

/** `bytes` bytes of `random` as lowercase hex, drawn at once (for code that runs without effects). */
export const hexOf = (random: Random.Random, bytes: number): string => {
  let hex = ""
  for (let i = 0; i < bytes; i++) {
    hex += Math.floor(random.nextDoubleUnsafe() * 256)
      .toString(16)
      .padStart(2, "0")
  }
  return hex
}

/** `bytes` random bytes as lowercase hex, drawn in one step (ids are made on every write). */
export const randomHex = (bytes: number): Effect.Effect<string> =>
  Effect.map(Effect.service(Random.Random), (random) => hexOf(random, bytes))
