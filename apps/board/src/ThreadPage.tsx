// One thread: its state and workspace (path and ports, copyable), actions (follow-up turn,
// interrupt, rerun setup, archive), approval requests with their buttons, the setup log as it
// streams, the agent's items as they stream, its children as a tree, the live threads whose
// changes overlap its own (the conflict radar), the diff against its base,
// merging it back (MergePanel.tsx), and the timeline of its events with who caused each.
import { rangeText, type Thread, type ThreadId, type ThreadOverlap } from "@spindle/contracts"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import { useEffect, useMemo, useState } from "preact/hooks"
import { Composer } from "./Composer.tsx"
import { Conversation } from "./Conversation.tsx"
import { DiffView } from "./DiffView.tsx"
import { useNow, useStore } from "./hooks.ts"
import { MergeOrder } from "./MergeOrder.tsx"
import { MergePanel } from "./MergePanel.tsx"
import {
  actorLabel,
  age,
  childrenIndex,
  columnLabel,
  columnOf,
  describeEvent,
  failureOf,
  overlapsOfThread,
  sessionTitles,
  setupLabel,
  turnLabel,
  visibleThreads
} from "./model.ts"
import type { BoardStore } from "./store.ts"

const commandId = (kind: string) =>
  `board-${kind}-${Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0")).join("")}`

const Copyable = ({ text, testId }: { text: string; testId: string }) => {
  const [copied, setCopied] = useState(false)
  return (
    <span class="copyable">
      <code data-testid={testId}>{text}</code>
      <button
        type="button"
        class="small"
        onClick={() =>
          navigator.clipboard
            ?.writeText(text)
            .then(() => setCopied(true))
            .catch(() => setCopied(false))
        }
      >
        {copied ? "copied" : "copy"}
      </button>
    </span>
  )
}

const ChildTree = ({
  thread,
  index,
  depth
}: {
  thread: Thread
  index: Map<ThreadId, Array<Thread>>
  depth: number
}) => {
  const kids = index.get(thread.id) ?? []
  if (kids.length === 0 || depth > 6) return null
  return (
    <ul class="tree">
      {kids.map((child) => (
        <li key={child.id}>
          <a href={`#/thread/${encodeURIComponent(child.id)}`}>{child.title}</a>{" "}
          <span class={`badge col-${columnOf(child)}`}>{columnLabel(columnOf(child))}</span>{" "}
          <span class="muted">turn {turnLabel(child)}</span>
          <ChildTree thread={child} index={index} depth={depth + 1} />
        </li>
      ))}
    </ul>
  )
}

/** The conflict radar's panel: the live threads whose changes overlap this one's, file by file. */
const OverlapPanel = ({ thread, overlaps }: { thread: Thread; overlaps: ReadonlyArray<ThreadOverlap> }) => (
  <section data-testid="overlaps">
    <h3>
      Overlaps <span class="muted">conflict radar</span>
    </h3>
    {overlaps.length === 0 ? (
      <p class="muted">No live thread changes the same lines.</p>
    ) : (
      <ul class="tree">
        {overlaps.map((overlap) => {
          const other = (
            overlap.threadIds[0] === thread.id ? overlap.threadIds[1] : overlap.threadIds[0]
          ) as ThreadId
          return (
            <li key={other} data-testid="overlap" data-thread-id={other}>
              with <a href={`#/thread/${encodeURIComponent(other)}`}>{other}</a>{" "}
              <span class="muted">
                {overlap.files.length + overlap.filesTruncated} file(s)
                {overlap.since === undefined ? "" : ` since ${new Date(overlap.since).toLocaleTimeString()}`}
              </span>
              <ul>
                {overlap.files.map((file) => (
                  <li key={file.path} class="mono">
                    {file.path}: this {(file.ranges[thread.id] ?? []).map(rangeText).join(", ")} · {other}{" "}
                    {(file.ranges[other] ?? []).map(rangeText).join(", ")}
                  </li>
                ))}
                {overlap.filesTruncated > 0 ? (
                  <li class="muted">… and {overlap.filesTruncated} more</li>
                ) : null}
              </ul>
            </li>
          )
        })}
      </ul>
    )}
    {overlaps.length === 0 || thread.parentThreadId === null ? null : (
      <p data-testid="overlap-merge-order">
        The order to merge its siblings in:{" "}
        <a href={`#/thread/${encodeURIComponent(thread.parentThreadId)}`}>its parent's page</a> ("Suggest a
        merge order").
      </p>
    )}
  </section>
)

export const ThreadPage = ({
  store,
  threadId,
  section
}: {
  store: BoardStore
  threadId: ThreadId
  /** A part of the page to bring into view (the board's `m` key opens the merge panel). */
  section?: "merge" | undefined
}) => {
  const s = useStore(store)
  const [tab, setTab] = useState<"conversation" | "timeline">("conversation")
  const loaded = s.model !== undefined
  useEffect(() => {
    if (section !== "merge" || !loaded) return
    const panel = document.querySelector<HTMLElement>('[data-testid="merge-panel"]')
    panel?.scrollIntoView({ block: "center" })
    panel?.querySelector<HTMLElement>("select, button")?.focus()
  }, [section, loaded, threadId])
  const now = useNow()
  useEffect(() => {
    store.watch(threadId)
    return () => store.unwatch()
  }, [store, threadId])
  const model = s.model
  const thread = model === undefined ? undefined : Option.getOrUndefined(HashMap.get(model.threads, threadId))
  const index = useMemo(
    () => (model === undefined ? new Map() : childrenIndex(visibleThreads(model))),
    [model]
  )
  const known = useMemo(
    () => new Set<string>(model === undefined ? [] : visibleThreads(model).map((t) => t.id)),
    [model]
  )
  const sessions = useMemo(
    () => (model === undefined ? new Map<string, string>() : sessionTitles(visibleThreads(model))),
    [model]
  )
  if (model === undefined) return <main class="loading">Loading…</main>
  if (thread === undefined) {
    return (
      <main class="thread-page">
        <p>
          No thread {threadId} here. <a href="#/">Back to the board</a>
        </p>
      </main>
    )
  }
  const watched = s.watched?.threadId === threadId ? s.watched : undefined
  const dispatch = (command: Record<string, unknown>) =>
    store.run((client) => client["orchestration.dispatchCommand"]({ command }))
  const running = thread.latestTurn?.status === "running" || thread.latestTurn?.status === "requested"
  const failure = failureOf(thread)
  const column = columnOf(thread)
  const events = watched === undefined ? [] : watched.events

  return (
    <main class="thread-page" data-testid="thread-page" data-thread-id={thread.id} data-column={column}>
      <p>
        <a href="#/">← Board</a>
      </p>
      <h1>
        {thread.title} <span class={`badge col-${column}`}>{columnLabel(column)}</span>
      </h1>
      <dl class="facts">
        <dt>Thread</dt>
        <dd>
          <code>{thread.id}</code> in project <code>{thread.projectId}</code>
          {thread.parentThreadId === null ? null : (
            <>
              {" "}
              · child of{" "}
              <a href={`#/thread/${encodeURIComponent(thread.parentThreadId)}`}>{thread.parentThreadId}</a>
            </>
          )}
        </dd>
        {thread.attempt === null ? null : (
          <>
            <dt>Attempt</dt>
            <dd>
              variant {thread.attempt.index + 1} of {thread.attempt.of} ·{" "}
              <a href={`#/attempt/${encodeURIComponent(thread.attempt.id)}`} data-testid="attempt-link">
                compare the variants
              </a>
            </dd>
          </>
        )}
        {thread.host === null ? null : (
          <>
            <dt>Host</dt>
            <dd>
              <code data-testid="thread-host">{thread.host}</code>
            </dd>
          </>
        )}
        <dt>Branch</dt>
        <dd>
          <code>{thread.workspace.branch ?? "(none)"}</code> from{" "}
          <code>{thread.workspace.baseBranch ?? "?"}</code> ({thread.workspace.mode})
        </dd>
        <dt>Worktree</dt>
        <dd>
          {thread.workspace.worktreePath === null ? (
            "(not yet)"
          ) : (
            <Copyable text={thread.workspace.worktreePath} testId="worktree-path" />
          )}
        </dd>
        <dt>Ports</dt>
        <dd data-testid="ports">
          {thread.ports === null ? (
            "none"
          ) : (
            <Copyable
              text={`${thread.ports.first}-${thread.ports.first + thread.ports.count - 1}`}
              testId="ports-range"
            />
          )}
        </dd>
        <dt>Agent</dt>
        <dd>
          {thread.provider}
          {thread.model === null ? "" : ` (${thread.model})`} · {thread.runtimeMode} · session{" "}
          {thread.session.status}
        </dd>
        <dt>State</dt>
        <dd>
          bootstrap {thread.bootstrap.status} · setup{" "}
          <span data-testid="setup-status">{setupLabel(thread)}</span> · turn{" "}
          <span data-testid="turn-status">{turnLabel(thread)}</span> · {age(thread.createdAt, now)} old
        </dd>
      </dl>
      {failure === undefined ? null : (
        <p class="failure" data-testid="failure">
          {failure}
        </p>
      )}
      {thread.latestTurn?.stalledSince == null || turnLabel(thread) !== "stalled" ? null : (
        <p class="stalled" data-testid="stalled">
          Stalled: no progress from the agent since{" "}
          {new Date(thread.latestTurn.stalledSince).toLocaleTimeString()} (
          {age(thread.latestTurn.stalledSince, now)}
          ). Interrupt it, or wait: the server stops it if it stays quiet.
        </p>
      )}
      {thread.agentNotices.length === 0 ? null : (
        <section class="notices" data-testid="agent-notices">
          <h3>What the agent reported</h3>
          {thread.agentNotices
            .slice()
            .reverse()
            .map((n) => (
              <div
                class={`notice notice-${n.level}`}
                key={`${n.source}-${n.firstAt}-${n.message}`}
                data-testid="agent-notice"
              >
                <span class="tag">{n.level}</span> <span class="muted">{n.source}</span>{" "}
                {n.count > 1 ? <span class="muted">×{n.count} </span> : null}
                {n.willRetry ? <span class="muted">retrying </span> : null}
                <span class="notice-text">{n.message}</span>{" "}
                <span class="muted">{age(n.lastAt, now)} ago</span>
              </div>
            ))}
        </section>
      )}

      <section class="actions">
        <Composer
          running={running}
          archived={thread.status === "archived"}
          warn={(message) => store.notify(message)}
          send={(prompt, files) =>
            dispatch({
              type: "thread.turn.start",
              commandId: commandId("turn"),
              threadId,
              prompt,
              ...(files.length === 0
                ? {}
                : { attachments: files.map(({ name, mediaType, data }) => ({ name, mediaType, data })) })
            }).then((r) => r !== undefined)
          }
        />
        <div class="buttons">
          <button
            type="button"
            disabled={thread.latestTurn?.status !== "running"}
            onClick={() =>
              dispatch({ type: "thread.turn.interrupt", commandId: commandId("interrupt"), threadId })
            }
          >
            Interrupt
          </button>
          <button
            type="button"
            data-testid="rerun-setup"
            disabled={thread.status === "archived" || thread.workspace.worktreePath === null}
            onClick={() => dispatch({ type: "thread.setup.rerun", commandId: commandId("rerun"), threadId })}
          >
            Rerun setup
          </button>
          {thread.status === "archived" ? (
            <button
              type="button"
              onClick={() =>
                dispatch({ type: "thread.unarchive", commandId: commandId("unarchive"), threadId })
              }
            >
              Unarchive
            </button>
          ) : (
            <button
              type="button"
              class="danger"
              data-testid="archive"
              onClick={() => dispatch({ type: "thread.archive", commandId: commandId("archive"), threadId })}
            >
              Archive
            </button>
          )}
        </div>
      </section>

      {thread.pendingApprovals.length === 0 ? null : (
        <section class="approvals" data-testid="approvals">
          <h3>Waiting for your approval</h3>
          {thread.pendingApprovals.map((a) => (
            <div class="approval" key={a.requestId} data-testid="approval">
              <div>
                <span class="tag">{a.kind}</span> <code>{a.command ?? ""}</code>
                {a.cwd ? <span class="muted"> in {a.cwd}</span> : null}
              </div>
              {a.reason ? <div class="muted">{a.reason}</div> : null}
              {a.declineEndsTurn === true ? (
                <div class="muted" data-testid="decline-ends-turn">
                  Declining ends the turn: the agent offered only accept or cancel.
                </div>
              ) : null}
              <div class="buttons">
                {(["accept", "accept-for-session", "decline"] as const).map((decision) => (
                  <button
                    type="button"
                    key={decision}
                    class={decision === "decline" ? "danger" : "primary"}
                    data-testid={`approval-${decision}`}
                    onClick={() =>
                      dispatch({
                        type: "thread.approval.respond",
                        commandId: commandId("approve"),
                        threadId,
                        requestId: a.requestId,
                        decision
                      })
                    }
                  >
                    {decision === "decline" && a.declineEndsTurn === true
                      ? "decline (ends the turn)"
                      : decision}
                  </button>
                ))}
              </div>
            </div>
          ))}
        </section>
      )}

      <div class="panes">
        <section>
          <h3>
            Setup <span class="muted">{setupLabel(thread)}</span>
            {thread.setup.exitCode === null ? null : (
              <span class={thread.setup.exitCode === 0 ? "ok" : "bad"} data-testid="setup-exit">
                {" "}
                exit code {thread.setup.exitCode}
              </span>
            )}
            {watched?.setupLog.streaming ? <span class="muted"> · streaming</span> : null}
          </h3>
          <pre class="log" data-testid="setup-log">
            {watched === undefined || watched.setupLog.text === ""
              ? thread.setup.logTail
              : watched.setupLog.text}
          </pre>
        </section>
      </div>

      <section>
        <h3>Children</h3>
        {(index.get(thread.id) ?? []).length === 0 ? (
          <p class="muted">No children.</p>
        ) : (
          <>
            <div data-testid="children">
              <ChildTree thread={thread} index={index} depth={0} />
            </div>
            <MergeOrder store={store} thread={thread} />
          </>
        )}
      </section>

      <OverlapPanel thread={thread} overlaps={overlapsOfThread(model, thread)} />
      <DiffView store={store} threadId={threadId} />
      <MergePanel store={store} thread={thread} />

      <section class="tabs-section">
        <div class="tabs" role="tablist">
          {(["conversation", "timeline"] as const).map((name) => (
            <button
              type="button"
              role="tab"
              key={name}
              aria-selected={tab === name}
              data-testid={`tab-${name}`}
              onClick={() => setTab(name)}
            >
              {name === "conversation" ? "Conversation" : "Timeline"}
            </button>
          ))}
          {watched?.historyLoaded === false ? <span class="muted"> loading…</span> : null}
        </div>
        <div role="tabpanel" hidden={tab !== "conversation"}>
          <Conversation
            watched={watched}
            store={store}
            threadId={threadId}
            worktree={thread.workspace.worktreePath}
            known={known}
          />
        </div>
        <div role="tabpanel" hidden={tab !== "timeline"}>
          <table class="timeline" data-testid="timeline">
            <tbody>
              {events
                .slice()
                .reverse()
                .map((event) => (
                  <tr key={event.sequence}>
                    <td class="muted mono">#{event.sequence}</td>
                    <td class="muted">{new Date(event.occurredAt).toLocaleTimeString()}</td>
                    <td class={`actor actor-${event.actor.kind}`}>{actorLabel(event, sessions)}</td>
                    <td>{describeEvent(event)}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      </section>
    </main>
  )
}
