// The one shape of the thread ids Spindle makes, wherever it makes them (the CLI, an agent's
// t3_thread_start, a retried request's derived id): "t-" and 12 hex digits (48 bits). Ids a caller
// chose, and older ids of other lengths, stay valid.

/** Hex digits in a thread id Spindle makes. */
export const THREAD_ID_HEX = 12

/** The thread id made from `hex` (random, or a hash for an id derived from a request). */
export const threadIdOf = (hex: string) => {
  if (!/^[0-9a-f]+$/.test(hex) || hex.length < THREAD_ID_HEX)
    throw new Error(`a thread id takes ${THREAD_ID_HEX} or more hex digits, got '${hex}'`)
  return `t-${hex.slice(0, THREAD_ID_HEX)}`
}
