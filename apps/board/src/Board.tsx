// The board: every thread in the column that answers "what needs me?" (Needs you, Working, Ready
// to review, Done; Archived when asked for), filtered by project and text, children grouped under
// their parent, each column a virtualized list (only the cards in view are in the DOM, so 1,000
// threads render as fast as 20); a compact list view; the keyboard (j/k, Enter, a, m, /, ?); and the
// form that starts a new thread.
import { changesText, type Thread, type ThreadId } from "@spindle/contracts"
import * as HashMap from "effect/HashMap"
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks"
import { useNow, useStore } from "./hooks.ts"
import {
  age,
  agentLabel,
  COLUMNS,
  type Column,
  columnLabel,
  columnOf,
  columnRows,
  failureOf,
  groupThreads,
  lastMessageLine,
  needsYou,
  overlapCounts,
  type Row,
  setupLabel,
  troubleOf,
  turnLabel,
  visibleThreads
} from "./model.ts"
import { NewThreadForm } from "./NewThreadForm.tsx"
import type { BoardStore } from "./store.ts"

const CARD_HEIGHT = 132
const OVERSCAN = 4

const threadHref = (id: ThreadId) => `#/thread/${encodeURIComponent(id)}`

const Card = ({
  row,
  projectTitle,
  overlaps,
  expanded,
  selected,
  onToggle,
  now
}: {
  row: Row
  projectTitle: string
  overlaps: number
  expanded: boolean
  selected: boolean
  onToggle: () => void
  now: number
}) => {
  const { thread } = row
  const failure = failureOf(thread)
  const turn = turnLabel(thread)
  const trouble = troubleOf(thread)
  const need = needsYou(thread)
  const message = lastMessageLine(thread)
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: its title is the link a keyboard opens it with
    <article
      class={`card${row.depth > 0 ? " child" : ""}${selected ? " selected" : ""}`}
      data-testid="card"
      data-thread-id={thread.id}
      aria-label={thread.title}
      onClick={(e) => {
        if ((e.target as HTMLElement).closest("button, a") === null) location.hash = threadHref(thread.id)
      }}
    >
      <div class="card-title" title={thread.title}>
        <a href={threadHref(thread.id)} data-testid="card-link">
          {thread.title}
        </a>
      </div>
      <div class="card-line muted" title={`${projectTitle} · ${thread.workspace.branch ?? ""}`}>
        {projectTitle} · <span class="mono">{thread.workspace.branch ?? "no branch"}</span> ·{" "}
        {age(thread.createdAt, now)}
        {row.childOf === undefined ? null : <> · child of {row.childOf}</>}
      </div>
      <div class="card-line muted" data-testid="card-agent">
        {agentLabel(thread)}
      </div>
      {message === undefined ? null : (
        <div class="card-line card-message" data-testid="card-message" title={message}>
          {message}
        </div>
      )}
      <div class="card-line chips">
        {need === undefined ? null : (
          <span class="chip warn" data-testid="card-need">
            {need}
          </span>
        )}
        {thread.setup.status === "pending" || thread.setup.status === "running" ? (
          <span class="chip" data-testid="card-setup">
            setup {setupLabel(thread)}
          </span>
        ) : null}
        {need === `turn ${turn}` ? null : (
          <span class={turn === "stalled" ? "chip warn" : "chip"} data-testid="card-turn">
            turn {turn}
          </span>
        )}
        {thread.changes === null || thread.changes.files === 0 ? null : (
          <span class="chip" data-testid="card-changes" title="Changes against its fork point, not merged">
            {changesText(thread.changes)}
          </span>
        )}
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
        {row.children === 0 ? null : (
          <button
            type="button"
            class="toggle"
            data-testid="card-children"
            aria-expanded={expanded}
            onClick={onToggle}
          >
            {expanded ? "▾" : "▸"} {row.children} child{row.children === 1 ? "" : "ren"}
          </button>
        )}
      </div>
      {failure === undefined ? null : (
        <div class="card-line fail-reason" title={failure}>
          {failure}
        </div>
      )}
    </article>
  )
}

/** A column's cards, only those in view rendered; the selected one scrolled into view. */
const ColumnList = ({
  rows,
  render,
  selected
}: {
  rows: ReadonlyArray<Row>
  render: (row: Row) => preact.JSX.Element
  selected: number
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
  useEffect(() => {
    const el = ref.current
    if (el === null || selected < 0) return
    const top = selected * CARD_HEIGHT
    if (top < el.scrollTop) el.scrollTop = top
    else if (top + CARD_HEIGHT > el.scrollTop + el.clientHeight)
      el.scrollTop = top + CARD_HEIGHT - el.clientHeight
  }, [selected])
  const first = Math.max(0, Math.floor(scrollTop / CARD_HEIGHT) - OVERSCAN)
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / CARD_HEIGHT) + OVERSCAN)
  return (
    <div
      class="column-body"
      ref={ref}
      onScroll={(e) => setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)}
    >
      <div style={{ height: `${rows.length * CARD_HEIGHT}px`, position: "relative" }}>
        {rows.slice(first, last).map((row, i) => (
          <div
            key={row.thread.id}
            class="card-slot"
            style={{ top: `${(first + i) * CARD_HEIGHT}px`, height: `${CARD_HEIGHT - 8}px` }}
          >
            {render(row)}
          </div>
        ))}
      </div>
    </div>
  )
}

/** Every shown thread in one table, a row each. */
const ListView = ({
  rows,
  projectTitle,
  selected,
  now
}: {
  rows: ReadonlyArray<Row>
  projectTitle: (t: Thread) => string
  selected: ThreadId | undefined
  now: number
}) => (
  <div class="list-wrap">
    <table class="list" data-testid="list">
      <thead>
        <tr>
          <th>Thread</th>
          <th>Column</th>
          <th>Turn</th>
          <th>Changes</th>
          <th>Project</th>
          <th>Branch</th>
          <th>Age</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ thread }) => (
          <tr
            key={thread.id}
            data-testid="list-row"
            data-thread-id={thread.id}
            class={thread.id === selected ? "selected" : ""}
          >
            <td>
              <a href={threadHref(thread.id)}>{thread.title}</a>
            </td>
            <td>
              <span class={`badge col-${columnOf(thread)}`}>{columnLabel(columnOf(thread))}</span>
            </td>
            <td>{needsYou(thread) ?? turnLabel(thread)}</td>
            <td>{thread.changes === null ? "" : changesText(thread.changes)}</td>
            <td>{projectTitle(thread)}</td>
            <td class="mono">{thread.workspace.branch ?? ""}</td>
            <td>{age(thread.createdAt, now)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
)

const KEYS: ReadonlyArray<readonly [string, string]> = [
  ["j / k", "next / previous thread"],
  ["Enter", "open it"],
  ["a", "approve its waiting request (when it has one)"],
  ["m", "open its merge panel"],
  ["/", "filter"],
  ["?", "this help"]
]

export const Board = ({ store }: { store: BoardStore }) => {
  const s = useStore(store)
  const now = useNow()
  const [projectId, setProjectId] = useState("")
  const [text, setText] = useState("")
  const [creating, setCreating] = useState(false)
  const [showArchived, setShowArchived] = useState(false)
  const [listView, setListView] = useState(false)
  const [expanded, setExpanded] = useState<ReadonlySet<ThreadId>>(new Set())
  const [selectedId, setSelectedId] = useState<ThreadId | undefined>(undefined)
  const [help, setHelp] = useState(false)
  const filterRef = useRef<HTMLInputElement>(null)
  const model = s.model
  const threads = useMemo(() => (model === undefined ? [] : visibleThreads(model)), [model])
  const groups = useMemo(() => groupThreads(threads, { projectId, text }), [threads, projectId, text])
  const titles = useMemo(() => new Map(threads.map((t) => [t.id, t.title] as const)), [threads])
  const columns = useMemo(() => COLUMNS.filter((c) => showArchived || c.id !== "archived"), [showArchived])
  const rows = useMemo(
    () =>
      Object.fromEntries(
        COLUMNS.map((c) => [c.id, columnRows(groups[c.id as Column], titles, expanded)] as const)
      ) as Record<Column, Array<Row>>,
    [groups, titles, expanded]
  )
  const order = useMemo(() => columns.flatMap((c) => rows[c.id]), [columns, rows])
  const overlaps = useMemo(() => (model === undefined ? new Map() : overlapCounts(model)), [model])
  const projects = model === undefined ? [] : Array.from(HashMap.values(model.projects))
  const projectTitles = new Map(projects.map((p) => [p.id, p.title] as const))
  const projectTitle = (t: Thread) => projectTitles.get(t.projectId) ?? t.projectId
  const selected = order.find((r) => r.thread.id === selectedId)?.thread

  // The key handler reads what this render shows, even before its effects have run again.
  const current = useRef({ order, selectedId, selected })
  current.current = { order, selectedId, selected }
  // Listening from the moment the board is in the page (a layout effect: before the browser paints,
  // not after), so a key pressed right after coming back to the board is not lost.
  useLayoutEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const { order, selectedId, selected } = current.current
      const target = e.target as HTMLElement
      if (e.ctrlKey || e.metaKey || e.altKey) return
      if (target.closest("input, textarea, select") !== null) {
        if (e.key === "Escape") target.blur()
        return
      }
      const move = (by: number) => {
        if (order.length === 0) return
        const at = order.findIndex((r) => r.thread.id === selectedId)
        const next = at < 0 ? 0 : Math.min(order.length - 1, Math.max(0, at + by))
        setSelectedId(order[next]?.thread.id)
      }
      switch (e.key) {
        case "j":
          return move(1)
        case "k":
          return move(-1)
        case "Enter":
          if (selected !== undefined) location.hash = threadHref(selected.id)
          return
        case "m":
          if (selected !== undefined) location.hash = `${threadHref(selected.id)}/merge`
          return
        case "a": {
          const approval = selected?.pendingApprovals[0]
          if (selected === undefined || approval === undefined) return
          void store.run((client) =>
            client["orchestration.dispatchCommand"]({
              command: {
                type: "thread.approval.respond",
                commandId: `board-approve-${approval.requestId}`,
                threadId: selected.id,
                requestId: approval.requestId,
                decision: "accept"
              } as never
            })
          )
          return
        }
        case "/":
          e.preventDefault()
          filterRef.current?.focus()
          return
        case "?":
          setHelp((shown) => !shown)
          return
        case "Escape":
          setHelp(false)
          return
      }
    }
    addEventListener("keydown", onKey)
    return () => removeEventListener("keydown", onKey)
  }, [store])

  if (model === undefined) {
    return <main class="loading">Loading the board…</main>
  }
  const toggle = (id: ThreadId) => {
    const next = new Set(expanded)
    if (next.has(id)) next.delete(id)
    else next.add(id)
    setExpanded(next)
  }
  const render = (row: Row) => (
    <Card
      row={row}
      projectTitle={projectTitle(row.thread)}
      overlaps={overlaps.get(row.thread.id) ?? 0}
      expanded={expanded.has(row.thread.id)}
      selected={row.thread.id === selectedId}
      onToggle={() => toggle(row.thread.id)}
      now={now}
    />
  )
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
          ref={filterRef}
          aria-label="Filter threads"
          placeholder="Filter by title, id, branch, tag ( / )"
          data-testid="filter-text"
          value={text}
          onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
        />
        <label>
          <input
            type="checkbox"
            data-testid="show-archived"
            checked={showArchived}
            onChange={(e) => setShowArchived((e.currentTarget as HTMLInputElement).checked)}
          />{" "}
          Archived
        </label>
        <button
          type="button"
          data-testid="view-toggle"
          aria-pressed={listView}
          onClick={() => setListView(!listView)}
        >
          {listView ? "Columns" : "List"}
        </button>
        <button type="button" class="primary" data-testid="new-thread" onClick={() => setCreating(!creating)}>
          {creating ? "Close" : "New thread"}
        </button>
      </div>
      {creating ? (
        <NewThreadForm store={store} projects={projects} onDone={() => setCreating(false)} />
      ) : null}
      {listView ? (
        <ListView rows={order} projectTitle={projectTitle} selected={selectedId} now={now} />
      ) : (
        <div class="columns" style={{ "--column-count": String(columns.length) }}>
          {columns.map((column) => (
            <section
              class={`column column-${column.id}`}
              key={column.id}
              data-testid={`column-${column.id}`}
              aria-label={column.label}
            >
              <h2>
                {column.label} <span class="count">{groups[column.id as Column].length}</span>
              </h2>
              <ColumnList
                rows={rows[column.id as Column]}
                render={render}
                selected={rows[column.id as Column].findIndex((r) => r.thread.id === selectedId)}
              />
            </section>
          ))}
        </div>
      )}
      {help ? (
        <aside class="help" data-testid="help" aria-label="Keyboard">
          <strong>Keyboard</strong>
          <table>
            <tbody>
              {KEYS.map(([key, what]) => (
                <tr key={key}>
                  <td class="mono">{key}</td>
                  <td>{what}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </aside>
      ) : null}
    </main>
  )
}
