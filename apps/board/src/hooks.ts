// Preact glue: re-render a component whenever the store changes (the store batches per frame).
import { useEffect, useState } from "preact/hooks"
import type { BoardStore } from "./store.ts"

export const useStore = (store: BoardStore) => {
  const [, setTick] = useState(0)
  const rendered = store.version
  useEffect(() => {
    const unsubscribe = store.subscribe(() => setTick((n) => n + 1))
    // Effects run after paint: a change between the first render and now was not heard.
    if (store.version !== rendered) setTick((n) => n + 1)
    return unsubscribe
  }, [store])
  return store
}

/** The current time, refreshed every `ms` (for ages on cards). */
export const useNow = (ms = 5000) => {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms)
    return () => clearInterval(timer)
  }, [ms])
  return now
}
