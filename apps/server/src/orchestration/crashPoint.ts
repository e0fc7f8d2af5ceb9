// Test-only crash points: when SPINDLE_TEST_CRASH_AT names this point, the process kills itself
// with SIGKILL right here, as a power cut or an OOM kill would. Unset (always, outside the crash
// tests) it does nothing.
import * as Effect from "effect/Effect"

export const crashPoint = (name: string): Effect.Effect<void> =>
  Effect.sync(() => {
    if (process.env.SPINDLE_TEST_CRASH_AT === name) process.kill(process.pid, "SIGKILL")
  })
