import { assert, describe, it } from "@effect/vitest"
import { LineSplitter } from "./lineSplitter.ts"

describe("LineSplitter", () => {
  it("joins lines split across chunks and keeps an unfinished line for later", () => {
    const splitter = new LineSplitter()
    assert.deepStrictEqual(splitter.push("one\ntw"), ["one"])
    assert.deepStrictEqual(splitter.push("o\r\nthree"), ["two"])
    assert.deepStrictEqual(splitter.push("\n\n"), ["three", ""])
    assert.deepStrictEqual(splitter.flush(), [])
  })

  it("hands out the last line when output ends without a newline", () => {
    const splitter = new LineSplitter()
    assert.deepStrictEqual(splitter.push("a\nb"), ["a"])
    assert.deepStrictEqual(splitter.flush(), ["b"])
    assert.deepStrictEqual(splitter.flush(), [])
  })

  it("splits lines longer than the limit so the buffer stays bounded", () => {
    const splitter = new LineSplitter(4)
    assert.deepStrictEqual(splitter.push("abcdefghij"), ["abcd", "efgh"])
    assert.deepStrictEqual(splitter.push("kl\nmnopqrstu\n"), ["ijkl", "mnop", "qrst", "u"])
    assert.deepStrictEqual(splitter.push("vwxyz"), ["vwxy"])
    assert.deepStrictEqual(splitter.flush(), ["z"])
  })
})
