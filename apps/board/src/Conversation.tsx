// A thread's page as a conversation: each turn is the user's prompt (and anything sent into it),
// then what the agent did, in order: its messages in Markdown (rendered safely), reasoning folded
// away, commands as blocks that open to their output with the exit code on them, file changes with
// their diff (as the diff view shows a file), tool calls (a thread they name links to it), and how the turn ended.
import type { ThreadDiff, ThreadId } from "@spindle/contracts"
import { useState } from "preact/hooks"
import { conversationOf, type TurnView } from "./conversationModel.ts"
import { UnifiedLines } from "./DiffView.tsx"
import { parsePatch } from "./diff.ts"
import { Markdown } from "./markdown.tsx"
import type { BoardStore, ItemView, Watched } from "./store.ts"

/** A provider's status word for an item, in plain words (Codex says "inProgress"). */
const STATUS_WORDS: Readonly<Record<string, string>> = {
  inProgress: "running",
  in_progress: "running",
  started: "running",
  updated: "running",
  pending: "waiting",
  completed: "done",
  failed: "failed",
  declined: "declined"
}
const statusWord = (status: string) =>
  STATUS_WORDS[status] ?? status.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()

const FileChanges = ({
  item,
  store,
  threadId,
  worktree
}: {
  item: ItemView
  store: BoardStore
  threadId: ThreadId
  worktree: string | null
}) => {
  const [diff, setDiff] = useState<ThreadDiff | undefined>()
  const changes = item.changes ?? []
  return (
    <details class="item item-files" data-testid="item-files">
      <summary>
        <span class="tag">files</span>{" "}
        {changes.map((c) => (
          <code key={c.path}>
            {c.kind === "add" ? "added" : c.kind === "delete" ? "deleted" : "changed"} {c.path}{" "}
          </code>
        ))}
      </summary>
      {diff === undefined ? (
        <button
          type="button"
          class="small"
          onClick={() =>
            void store.run((client) => client["thread.diff"]({ threadId })).then((d) => d && setDiff(d))
          }
        >
          Show the diff (as the files are now)
        </button>
      ) : (
        changes.map((c) => {
          // Agents name files by absolute path or from the worktree; the diff, from the worktree.
          const path =
            worktree !== null && c.path.startsWith(`${worktree}/`)
              ? c.path.slice(worktree.length + 1)
              : c.path
          const own = parsePatch(diff.patch).find((f) => f.path === path)
          return own === undefined ? (
            <p key={c.path} class="muted">
              {c.path}: no difference from its base now.
            </p>
          ) : (
            <UnifiedLines key={c.path} lines={own.lines} />
          )
        })
      )}
    </details>
  )
}

/** A link for each known thread id a text names (a child t3_thread_start made, say). */
const ThreadLinks = ({ text, known }: { text: string; known: ReadonlySet<string> }) => {
  const ids = Array.from(new Set(text.match(/[A-Za-z0-9][\w.-]{2,}/g) ?? [])).filter((id) => known.has(id))
  return ids.length === 0 ? null : (
    <span>
      {" → "}
      {ids.map((id) => (
        <a key={id} href={`#/thread/${encodeURIComponent(id)}`} data-testid="item-thread-link">
          {id}{" "}
        </a>
      ))}
    </span>
  )
}

const Item = ({
  item,
  store,
  threadId,
  worktree,
  known
}: {
  item: ItemView
  store: BoardStore
  threadId: ThreadId
  worktree: string | null
  known: ReadonlySet<string>
}) => {
  switch (item.kind) {
    case "agent-message":
      return (
        <div class="item item-agent-message" data-testid="item-message">
          <Markdown text={item.text} />
        </div>
      )
    case "user-message":
      return null
    case "reasoning":
      return (
        <details class="item item-reasoning" data-testid="item-reasoning">
          <summary class="muted">reasoning</summary>
          <div class="item-text">{item.text}</div>
        </details>
      )
    case "command":
      return (
        <details class="item item-command" data-testid="item-command">
          <summary>
            <code>$ {item.command}</code>{" "}
            {item.exitCode === undefined || item.exitCode === null ? (
              <span class="muted">{statusWord(item.status)}</span>
            ) : (
              <span class={item.exitCode === 0 ? "ok" : "bad"} data-testid="item-exit">
                exit {item.exitCode}
              </span>
            )}
          </summary>
          {item.output === "" ? <p class="muted">No output.</p> : <pre class="log">{item.output}</pre>}
        </details>
      )
    case "file-change":
      return <FileChanges item={item} store={store} threadId={threadId} worktree={worktree} />
    case "tool-call":
      return (
        <details class="item item-tool" data-testid="item-tool">
          <summary>
            <span class="tag">tool</span>{" "}
            <code>
              {item.server === undefined ? "" : `${item.server}.`}
              {item.tool ?? "call"}
            </code>{" "}
            <span class="muted">{statusWord(item.status)}</span>
            <ThreadLinks text={item.text} known={known} />
          </summary>
          {item.text === "" ? null : <pre class="log">{item.text}</pre>}
        </details>
      )
    default:
      return (
        <div class={`item item-${item.kind}`} data-testid="item">
          <span class="tag">{item.kind}</span> <span class="item-text">{item.text}</span>
        </div>
      )
  }
}

const ENDED: Readonly<Record<TurnView<ItemView>["status"], string>> = {
  requested: "waiting for the agent",
  running: "working…",
  completed: "turn completed",
  failed: "turn failed",
  interrupted: "turn interrupted"
}

export const Conversation = ({
  watched,
  store,
  threadId,
  worktree,
  known
}: {
  watched: Watched | undefined
  store: BoardStore
  threadId: ThreadId
  /** Its worktree, to find a changed file's diff. */
  worktree: string | null
  /** Ids of the threads the board knows, to link the ones a tool call names. */
  known: ReadonlySet<string>
}) => {
  if (watched === undefined) return <p class="muted">Loading…</p>
  const turns = conversationOf(watched.events, Array.from(watched.items.values()))
  if (turns.length === 0) return <p class="muted">No turn yet.</p>
  return (
    <div class="conversation" data-testid="conversation">
      {turns.map((turn) => (
        <section class="turn" key={turn.turnId} data-testid="turn" data-turn-id={turn.turnId}>
          {turn.prompts.map((prompt, i) => (
            <div class="prompt" key={i} data-testid="prompt">
              <span class="who">you</span>
              <div class="prompt-text">{prompt.text}</div>
              {prompt.files.length === 0 ? null : (
                <ul class="file-chips" aria-label="Attached files">
                  {prompt.files.map((name, j) => (
                    <li key={j} data-testid="prompt-file">
                      {name}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          ))}
          {turn.items.map((item) => (
            <Item
              key={item.key}
              item={item}
              store={store}
              threadId={threadId}
              worktree={worktree}
              known={known}
            />
          ))}
          <div class={`turn-end turn-${turn.status}`} data-testid="turn-end">
            {ENDED[turn.status]}
            {turn.reason === null ? "" : `: ${turn.reason}`}
          </div>
        </section>
      ))}
    </div>
  )
}
