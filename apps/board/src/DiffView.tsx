// A thread's diff against its base, for review: a list of the changed files (each with its +/-,
// a link to it), each file folding on its own, unified or side by side, code lightly highlighted.
// Large diffs stay responsive: a file shows its first lines and more on request, and files past the
// first few start folded (their lines are not in the page until opened).
import type { ThreadDiff, ThreadId } from "@spindle/contracts"
import { useMemo, useState } from "preact/hooks"
import { type DiffFile, type DiffLine, highlight, parsePatch, splitRows } from "./diff.ts"
import type { BoardStore } from "./store.ts"

/** Lines a file shows before "show more", and how many more each press adds. */
const PAGE = 400
/** Files open at first; the rest start folded. */
const OPEN_FILES = 20

const Code = ({ text }: { text: string }) => (
  <>
    {highlight(text).map((token, i) =>
      token.kind === "plain" ? (
        token.text
      ) : (
        <span key={i} class={`tok-${token.kind}`}>
          {token.text}
        </span>
      )
    )}
  </>
)

const number = (n: number | null) => (n === null ? "" : String(n))

export const UnifiedLines = ({ lines }: { lines: ReadonlyArray<DiffLine> }) => (
  <table class="diff-table">
    <tbody>
      {lines.map((line, i) =>
        line.kind === "hunk" ? (
          <tr key={i} class="hunk">
            <td colSpan={3}>{line.text}</td>
          </tr>
        ) : (
          <tr key={i} class={line.kind} data-testid="diff-line">
            <td class="ln">{number(line.oldLine)}</td>
            <td class="ln">{number(line.newLine)}</td>
            <td class="code">
              {line.kind === "add" ? "+" : line.kind === "del" ? "-" : " "}
              <Code text={line.text} />
            </td>
          </tr>
        )
      )}
    </tbody>
  </table>
)

const SplitLines = ({ lines }: { lines: ReadonlyArray<DiffLine> }) => (
  <table class="diff-table split" data-testid="diff-split">
    <tbody>
      {splitRows(lines).map((row, i) =>
        row.left?.kind === "hunk" ? (
          <tr key={i} class="hunk">
            <td colSpan={4}>{row.left.text}</td>
          </tr>
        ) : (
          <tr key={i} data-testid="diff-line">
            <td class="ln">{number(row.left?.oldLine ?? null)}</td>
            <td class={`code ${row.left?.kind === "del" ? "del" : ""}`}>
              {row.left === null ? null : <Code text={row.left.text} />}
            </td>
            <td class="ln">{number(row.right?.newLine ?? null)}</td>
            <td class={`code ${row.right?.kind === "add" ? "add" : ""}`}>
              {row.right === null ? null : <Code text={row.right.text} />}
            </td>
          </tr>
        )
      )}
    </tbody>
  </table>
)

const FileDiff = ({ file, index, split }: { file: DiffFile; index: number; split: boolean }) => {
  const [open, setOpen] = useState(index < OPEN_FILES)
  const [shown, setShown] = useState(PAGE)
  const lines = file.lines.slice(0, shown)
  return (
    <details
      class="diff-file"
      id={`diff-file-${index}`}
      data-testid="diff-file"
      data-path={file.path}
      open={open}
      onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}
    >
      <summary>
        <code>{file.path}</code> <span class="muted">{file.status}</span>{" "}
        <span class="ok">+{file.added}</span> <span class="bad">-{file.removed}</span>
      </summary>
      {!open ? null : file.lines.length === 0 ? (
        <p class="muted">No lines to show ({file.status}).</p>
      ) : (
        <>
          {split ? <SplitLines lines={lines} /> : <UnifiedLines lines={lines} />}
          {file.lines.length > shown ? (
            <button
              type="button"
              class="small"
              data-testid="diff-more"
              onClick={() => setShown(shown + PAGE * 5)}
            >
              Show more ({file.lines.length - shown} lines left)
            </button>
          ) : null}
        </>
      )}
    </details>
  )
}

export const DiffView = ({ store, threadId }: { store: BoardStore; threadId: ThreadId }) => {
  const [diff, setDiff] = useState<ThreadDiff | undefined>()
  const [loading, setLoading] = useState(false)
  const [split, setSplit] = useState(false)
  const files = useMemo(() => (diff === undefined ? [] : parsePatch(diff.patch)), [diff])
  const load = () => {
    setLoading(true)
    void store
      .run((client) => client["thread.diff"]({ threadId }))
      .then((d) => {
        setLoading(false)
        if (d !== undefined) setDiff(d)
      })
  }
  return (
    <section>
      <h3>
        Diff against its base{" "}
        <button type="button" class="small" onClick={load} disabled={loading} data-testid="load-diff">
          {diff === undefined ? "Show" : "Refresh"}
        </button>{" "}
        {diff === undefined ? null : (
          <button
            type="button"
            class="small"
            data-testid="diff-split-toggle"
            aria-pressed={split}
            onClick={() => setSplit(!split)}
          >
            {split ? "Unified" : "Side by side"}
          </button>
        )}
      </h3>
      {diff === undefined ? null : (
        <div data-testid="diff">
          <div class="muted">
            base {diff.base} · merge base {diff.mergeBase.slice(0, 12)} · {files.length} file(s)
            {diff.truncated ? " · cut at 4 MiB" : ""}
          </div>
          {files.length === 0 ? (
            <p class="muted">No changes.</p>
          ) : (
            <div class="diff-layout">
              <ul class="diff-files" data-testid="diff-tree">
                {files.map((file, i) => (
                  <li key={file.path}>
                    <a
                      href={`#diff-file-${i}`}
                      onClick={(e) => {
                        e.preventDefault()
                        document.getElementById(`diff-file-${i}`)?.scrollIntoView({ block: "start" })
                      }}
                    >
                      {file.path}
                    </a>{" "}
                    <span class="ok">+{file.added}</span> <span class="bad">-{file.removed}</span>
                  </li>
                ))}
              </ul>
              <div class="diff-body">
                {files.map((file, i) => (
                  <FileDiff key={file.path} file={file} index={i} split={split} />
                ))}
              </div>
            </div>
          )}
        </div>
      )}
    </section>
  )
}
