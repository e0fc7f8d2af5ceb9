// An agent's Markdown, rendered safely: the text becomes Preact elements (never HTML strings), so
// raw HTML in it shows as text; a link opens only http(s) or mailto addresses, in a new tab with
// rel="noopener noreferrer". What it knows: fenced code, headings, lists, quotes, paragraphs, and
// inline code, bold, italics and links.
import type { ComponentChildren } from "preact"

const SAFE_LINK = /^(https?:|mailto:)/i

/** Inline Markdown of one block: code spans first (nothing inside them is Markdown), then the rest. */
export const inline = (text: string): Array<ComponentChildren> => {
  const out: Array<ComponentChildren> = []
  const pattern = /`([^`]+)`|\*\*([^*]+)\*\*|(?<![*\w])\*([^*\s][^*]*)\*(?!\w)|\[([^\]]+)\]\(([^)\s]+)\)/g
  let at = 0
  for (const match of text.matchAll(pattern)) {
    const index = match.index ?? 0
    if (index > at) out.push(text.slice(at, index))
    const [whole, code, bold, em, label, href] = match
    if (code !== undefined) out.push(<code>{code}</code>)
    else if (bold !== undefined) out.push(<strong>{inline(bold)}</strong>)
    else if (em !== undefined) out.push(<em>{inline(em)}</em>)
    else if (label !== undefined && href !== undefined) {
      out.push(
        SAFE_LINK.test(href) ? (
          <a href={href} target="_blank" rel="noopener noreferrer">
            {inline(label)}
          </a>
        ) : (
          whole
        )
      )
    }
    at = index + whole.length
  }
  if (at < text.length) out.push(text.slice(at))
  return out
}

type Block =
  | { readonly kind: "code"; readonly text: string }
  | { readonly kind: "heading"; readonly level: number; readonly text: string }
  | { readonly kind: "list"; readonly ordered: boolean; readonly items: Array<string> }
  | { readonly kind: "quote"; readonly text: string }
  | { readonly kind: "paragraph"; readonly text: string }

const LIST_ITEM = /^\s*(?:([-*+])|(\d+)[.)])\s+(.*)$/

/** The blocks of a Markdown text. */
export const blocks = (markdown: string): Array<Block> => {
  const lines = markdown.replace(/\r\n?/g, "\n").split("\n")
  const out: Array<Block> = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i] as string
    if (/^\s*```/.test(line)) {
      const code: Array<string> = []
      i++
      while (i < lines.length && !/^\s*```/.test(lines[i] as string)) code.push(lines[i++] as string)
      i++
      out.push({ kind: "code", text: code.join("\n") })
      continue
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line)
    if (heading !== null) {
      out.push({ kind: "heading", level: (heading[1] as string).length, text: heading[2] as string })
      i++
      continue
    }
    const item = LIST_ITEM.exec(line)
    if (item !== null) {
      const ordered = item[2] !== undefined
      const items: Array<string> = []
      while (i < lines.length) {
        const next = LIST_ITEM.exec(lines[i] as string)
        if (next === null || (next[2] !== undefined) !== ordered) break
        items.push(next[3] as string)
        i++
      }
      out.push({ kind: "list", ordered, items })
      continue
    }
    if (/^\s*>/.test(line)) {
      const quote: Array<string> = []
      while (i < lines.length && /^\s*>/.test(lines[i] as string))
        quote.push((lines[i++] as string).replace(/^\s*>\s?/, ""))
      out.push({ kind: "quote", text: quote.join("\n") })
      continue
    }
    if (line.trim() === "") {
      i++
      continue
    }
    const paragraph: Array<string> = []
    while (
      i < lines.length &&
      (lines[i] as string).trim() !== "" &&
      !/^\s*```|^#{1,6}\s|^\s*>/.test(lines[i] as string) &&
      LIST_ITEM.exec(lines[i] as string) === null
    ) {
      paragraph.push(lines[i++] as string)
    }
    out.push({ kind: "paragraph", text: paragraph.join("\n") })
  }
  return out
}

const withBreaks = (text: string) =>
  text.split("\n").flatMap((line, i) => (i === 0 ? inline(line) : [<br />, ...inline(line)]))

export const Markdown = ({ text }: { text: string }) => (
  <div class="markdown">
    {blocks(text).map((block, i) => {
      switch (block.kind) {
        case "code":
          return (
            <pre key={i}>
              <code>{block.text}</code>
            </pre>
          )
        case "heading":
          return (
            <p key={i} class={`md-h md-h${block.level}`}>
              <strong>{inline(block.text)}</strong>
            </p>
          )
        case "list":
          return block.ordered ? (
            <ol key={i}>
              {block.items.map((item, j) => (
                <li key={j}>{inline(item)}</li>
              ))}
            </ol>
          ) : (
            <ul key={i}>
              {block.items.map((item, j) => (
                <li key={j}>{inline(item)}</li>
              ))}
            </ul>
          )
        case "quote":
          return <blockquote key={i}>{withBreaks(block.text)}</blockquote>
        case "paragraph":
          return <p key={i}>{withBreaks(block.text)}</p>
        default:
          return null
      }
    })}
  </div>
)
