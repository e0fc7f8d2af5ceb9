// The board's entry: one store (one WebSocket, authenticated by the page's HttpOnly cookie), a
// hash router (`#/` the board, `#/thread/<id>` a thread), the connection bar and the notices.
import type { ThreadId } from "@spindle/contracts"
import { render } from "preact"
import { useEffect, useState } from "preact/hooks"
import { AttemptPage } from "./AttemptPage.tsx"
import { Board } from "./Board.tsx"
import { useStore } from "./hooks.ts"
import { BoardStore } from "./store.ts"
import { ThreadPage } from "./ThreadPage.tsx"
import "./board.css"
import { Notifications } from "./Notifications.tsx"

const store = new BoardStore(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`)
// For tests and the curious: the store, read-only by convention.
;(globalThis as { spindleBoard?: BoardStore }).spindleBoard = store

type Route =
  | { readonly kind: "thread"; readonly threadId: ThreadId; readonly section: "merge" | undefined }
  | { readonly kind: "attempt"; readonly attemptId: string }

/**
 * `#/thread/<id>` a thread's page (`/merge`: with its merge panel in view), `#/attempt/<id>` an
 * attempt's variants side by side; anything else the board.
 */
const route = (): Route | undefined => {
  const attempt = /^#\/attempt\/([^/]+)$/.exec(location.hash)
  if (attempt?.[1] !== undefined) return { kind: "attempt", attemptId: decodeURIComponent(attempt[1]) }
  const match = /^#\/thread\/([^/]+)(\/merge)?$/.exec(location.hash)
  return match?.[1] === undefined
    ? undefined
    : {
        kind: "thread",
        threadId: decodeURIComponent(match[1]) as ThreadId,
        section: match[2] === undefined ? undefined : "merge"
      }
}

const ConnectionBar = () => {
  const s = useStore(store)
  const c = s.connection
  if (c.kind === "live") {
    return (
      <span class="conn live" data-testid="connection" data-state="live">
        live · seq {s.model?.sequence ?? 0}
      </span>
    )
  }
  if (c.kind === "signed-out") {
    return (
      <span class="conn down" data-testid="connection" data-state="signed-out">
        signed out: run <code>spindle open</code> ({c.reason})
      </span>
    )
  }
  return (
    <span class="conn down" data-testid="connection" data-state={c.kind}>
      {c.kind === "connecting" ? "connecting…" : `reconnecting (attempt ${c.attempt}): ${c.reason}`}
    </span>
  )
}

const Notices = () => {
  const s = useStore(store)
  return (
    <div class="notices" role="alert">
      {s.notices.map((n) => (
        <div class="notice" key={n.id} data-testid="notice">
          <span>{n.message}</span>
          <button type="button" onClick={() => s.dismiss(n.id)} aria-label="Dismiss">
            ×
          </button>
        </div>
      ))}
    </div>
  )
}

const App = () => {
  const [page, setPage] = useState(route)
  useEffect(() => {
    const onHash = () => setPage(route())
    addEventListener("hashchange", onHash)
    return () => removeEventListener("hashchange", onHash)
  }, [])
  const signOut = () =>
    fetch("/signout", { method: "POST", credentials: "same-origin" }).then(() => location.reload())
  return (
    <div class="app">
      <header>
        <a href="#/" class="brand">
          Spindle
        </a>
        <ConnectionBar />
        <Notifications store={store} />
        <button type="button" class="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      <Notices />
      {page === undefined ? (
        <Board store={store} />
      ) : page.kind === "attempt" ? (
        <AttemptPage store={store} attemptId={page.attemptId} />
      ) : (
        <ThreadPage store={store} threadId={page.threadId} section={page.section} />
      )}
    </div>
  )
}

store.start()
render(<App />, document.getElementById("app")!)
