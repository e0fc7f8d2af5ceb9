import { assert, describe, it } from "@effect/vitest"
import { lastBytes, OutputLog, truncationNotice } from "./outputLog.ts"

const decode = (chunks: ReadonlyArray<Uint8Array>) =>
  new TextDecoder().decode(Buffer.concat(chunks.map((chunk) => Buffer.from(chunk))))

describe("lastBytes", () => {
  it("keeps short text whole", () => {
    assert.strictEqual(lastBytes("a\nb\n", 10), "a\nb\n")
  })

  it("starts the kept end on a line boundary", () => {
    assert.strictEqual(lastBytes("first line\nsecond\nthird\n", 14), "second\nthird\n")
    assert.strictEqual(lastBytes("first line\nsecond\nthird\n", 12), "third\n")
    assert.strictEqual(lastBytes("first\nsecond\n", 7), "second\n")
  })

  it("cuts a single long line on a character boundary", () => {
    const kept = lastBytes("ééééé\n", 6)
    assert.strictEqual(kept, "éé\n")
    assert.isAtMost(Buffer.byteLength(kept), 6)
  })
})

describe("OutputLog", () => {
  it("passes lines through below the cap and counts the bytes", () => {
    const log = new OutputLog(1024, 64)
    const bytes = log.append(["hello", "wörld"])
    assert.strictEqual(decode([bytes]), "hello\nwörld\n")
    assert.strictEqual(log.bytesWritten, bytes.length)
    assert.strictEqual(log.truncated, false)
    assert.strictEqual(log.tail, "hello\nwörld\n")
  })

  it("stops at the cap with one notice line, and keeps the tail moving", () => {
    const cap = 300
    const log = new OutputLog(cap, 32)
    const written: Array<Uint8Array> = []
    for (let i = 0; i < 100; i++) written.push(log.append([`line ${i}`]))
    const file = decode(written)
    assert.isAtMost(Buffer.byteLength(file), cap)
    assert.strictEqual(log.bytesWritten, Buffer.byteLength(file))
    assert.isTrue(log.truncated)
    assert.isTrue(file.startsWith("line 0\nline 1\n"))
    assert.isTrue(file.endsWith(truncationNotice(cap)))
    assert.strictEqual(file.split(truncationNotice(cap)).length, 2)
    assert.strictEqual(log.tail, "line 96\nline 97\nline 98\nline 99\n")
    assert.strictEqual(log.append(["more"]).length, 0)
    assert.strictEqual(log.bytesWritten, Buffer.byteLength(file))
  })

  it("writes the lines of a batch that still fit before the notice", () => {
    const notice = truncationNotice(200)
    const log = new OutputLog(200, 64)
    const room = 200 - Buffer.byteLength(notice)
    const filler = "x".repeat(room - 10 - 1)
    const file = decode([log.append([filler, "fits", "does not fit"])])
    assert.strictEqual(file, `${filler}\nfits\n${notice}`)
  })

  it("bounds the tail to its size however much output comes", () => {
    const log = new OutputLog(1024, 8 * 1024)
    const line = "y".repeat(100)
    for (let i = 0; i < 2_000; i++) log.append([line, line, line])
    assert.isAtMost(Buffer.byteLength(log.tail), 8 * 1024)
    assert.isAbove(Buffer.byteLength(log.tail), 8 * 1024 - 101)
    assert.isTrue(log.tail.endsWith(`${line}\n`))
    assert.isTrue(log.tail.startsWith(line))
  })
})
