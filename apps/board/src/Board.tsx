// The board: every thread in a column by state, filtered by project and text, each column a
// virtualized list (only the cards in view are in the DOM, so 1,000 threads render as fast as 20),
// and the form that starts a new thread.
import type { Thread } from "@spindle/contracts"
import * as HashMap from "effect/HashMap"
import { useEffect, useMemo, useRef, useState } from "preact/hooks"
import { useNow, useStore } from "./hooks.ts"
import {
  age,
  COLUMNS,
  type Column,
  childrenIndex,
  failureOf,
  groupThreads,
  overlapCounts,
  setupLabel,
  troubleOf,
  turnLabel,
  visibleThreads
} from "./model.ts"
import { NewThreadForm } from "./NewThreadForm.tsx"
import type { BoardStore } from "./store.ts"

const CARD_HEIGHT = 120
const OVERSCAN = 4

const Card = ({
  thread,
  children,
  overlaps,
  now
}: {
  thread: Thread
  children: number
  overlaps: number
  now: number
}) => {
  const failure = failureOf(thread)
  const turn = turnLabel(thread)
  const trouble = troubleOf(thread)
  return (
    <a
      class={`card col-${thread.status}`}
      href={`#/thread/${encodeURIComponent(thread.id)}`}
      data-testid="card"
      data-thread-id={thread.id}
    >
      <div class="card-title" title={thread.title}>
        {thread.title}
      </div>
      <div class="card-line mono" title={thread.workspace.branch ?? ""}>
        {thread.workspace.branch ?? "(no branch)"} · {thread.id}
      </div>
      <div class="card-line chips">
        <span class="chip" data-testid="card-setup">
          setup {setupLabel(thread)}
        </span>
        <span class={turn === "stalled" ? "chip warn" : "chip"} data-testid="card-turn">
          turn {turn}
        </span>
        {trouble === undefined ? null : (
          <span class="chip warn" data-testid="card-trouble" title={trouble.message}>
            agent {trouble.level}
            {trouble.count > 1 ? ` ×${trouble.count}` : ""}
          </span>
        )}
        {overlaps === 0 ? null : (
          <span
            class="chip warn"
            data-testid="card-overlaps"
            title="Live threads whose changes touch the same lines (conflict radar)"
          >
            overlaps {overlaps}
          </span>
        )}
        {thread.pendingApprovals.length > 0 ? (
          <span class="chip warn">{thread.pendingApprovals.length} approval(s)</span>
        ) : null}
      </div>
      <div class="card-line muted">
        {age(thread.createdAt, now)} old · {children} child{children === 1 ? "" : "ren"}
        {failure === undefined ? null : (
          <span class="fail-reason" title={failure}>
            {" "}
            · {failure}
          </span>
        )}
      </div>
    </a>
  )
}

/** A column's cards, only those in view rendered. */
const ColumnList = ({
  threads,
  childCount,
  overlapCount,
  now
}: {
  threads: ReadonlyArray<Thread>
  childCount: (t: Thread) => number
  overlapCount: (t: Thread) => number
  now: number
}) => {
  const ref = useRef<HTMLDivElement>(null)
  const [scrollTop, setScrollTop] = useState(0)
  const [height, setHeight] = useState(800)
  useEffect(() => {
    const el = ref.current
    if (el === null) return
    setHeight(el.clientHeight || 800)
    const observer = new ResizeObserver(() => setHeight(el.clientHeight || 800))
    observer.observe(el)
    return () => observer.disconnect()
  }, [])
  const first = Math.max(0, Math.floor(scrollTop / CARD_HEIGHT) - OVERSCAN)
  const last = Math.min(threads.length, Math.ceil((scrollTop + height) / CARD_HEIGHT) + OVERSCAN)
  return (
    <div
      class="column-body"
      ref={ref}
      onScroll={(e) => setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)}
    >
      <div style={{ height: `${threads.length * CARD_HEIGHT}px`, position: "relative" }}>
        {threads.slice(first, last).map((thread, i) => (
          <div
            key={thread.id}
            class="card-slot"
            style={{ top: `${(first + i) * CARD_HEIGHT}px`, height: `${CARD_HEIGHT - 8}px` }}
          >
            <Card thread={thread} children={childCount(thread)} overlaps={overlapCount(thread)} now={now} />
          </div>
        ))}
      </div>
    </div>
  )
}

export const Board = ({ store }: { store: BoardStore }) => {
  const s = useStore(store)
  const now = useNow()
  const [projectId, setProjectId] = useState("")
  const [text, setText] = useState("")
  const [creating, setCreating] = useState(false)
  const model = s.model
  const threads = useMemo(() => (model === undefined ? [] : visibleThreads(model)), [model])
  const groups = useMemo(() => groupThreads(threads, { projectId, text }), [threads, projectId, text])
  const children = useMemo(() => childrenIndex(threads), [threads])
  const overlaps = useMemo(() => (model === undefined ? new Map() : overlapCounts(model)), [model])
  const projects = model === undefined ? [] : Array.from(HashMap.values(model.projects))
  if (model === undefined) {
    return <main class="loading">Loading the board…</main>
  }
  const childCount = (t: Thread) => children.get(t.id)?.length ?? 0
  const overlapCount = (t: Thread) => overlaps.get(t.id) ?? 0
  return (
    <main class="board" data-testid="board" data-thread-count={threads.length}>
      <div class="toolbar">
        <select
          aria-label="Project"
          data-testid="filter-project"
          value={projectId}
          onChange={(e) => setProjectId((e.currentTarget as HTMLSelectElement).value)}
        >
          <option value="">All projects ({projects.length})</option>
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.title} ({p.id})
            </option>
          ))}
        </select>
        <input
          type="search"
          placeholder="Filter by title, id, branch, tag"
          data-testid="filter-text"
          value={text}
          onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
        />
        <button type="button" class="primary" data-testid="new-thread" onClick={() => setCreating(!creating)}>
          {creating ? "Close" : "New thread"}
        </button>
      </div>
      {creating ? (
        <NewThreadForm store={store} projects={projects} onDone={() => setCreating(false)} />
      ) : null}
      <div class="columns">
        {COLUMNS.map((column) => (
          <section class={`column column-${column.id}`} key={column.id} data-testid={`column-${column.id}`}>
            <h2>
              {column.label} <span class="count">{groups[column.id as Column].length}</span>
            </h2>
            <ColumnList
              threads={groups[column.id as Column]}
              childCount={childCount}
              overlapCount={overlapCount}
              now={now}
            />
          </section>
        ))}
      </div>
    </main>
  )
}
