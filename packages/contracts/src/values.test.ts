// The value schemas refuse what a field cannot mean: control characters, invisible-only text,
// over-long trimmed text, unsafe model names, and keys that reach prototype machinery.
import { assert, describe, it } from "@effect/vitest"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import { Project } from "./project.ts"
import { Thread } from "./thread.ts"
import {
  AbsolutePath,
  findUnsafeInput,
  MAX_INPUT_DEPTH,
  ModelName,
  Prompt,
  SetupScript,
  StoredTitle,
  Tag,
  Tags,
  Title,
  withoutBidiControls
} from "./values.ts"

/** The failure message, or undefined when the value decodes. */
const refusal = (schema: Schema.Top, value: unknown): string | undefined => {
  const exit = Schema.decodeUnknownExit(schema as Schema.Codec<unknown, unknown>)(value)
  return Exit.isSuccess(exit) ? undefined : String(exit.cause)
}

describe("text fields", () => {
  it("prompts keep newlines, tabs and carriage returns, and refuse other control characters", () => {
    assert.isUndefined(refusal(Prompt, "line one\n\tline two\r\n"))
    for (const bad of ["a\u0000b", "a\u0007", "\u001b[31mred", "a\u007f", "a\u0085b", "a\u009b"]) {
      assert.include(refusal(Prompt, bad), "control characters", JSON.stringify(bad))
    }
  })

  it("titles, tags and names are one line without any control character", () => {
    for (const schema of [Title, Tag]) {
      assert.isUndefined(refusal(schema, "Fix the login page"))
      for (const bad of ["a\nb", "a\tb", "a\rb", "a\u0000", "a\u2028b", "a\u001b[2J"]) {
        assert.include(refusal(schema, bad), "one line", JSON.stringify(bad))
      }
    }
  })

  it("titles refuse bidi controls, which show a line in another order than it reads", () => {
    for (const schema of [Title]) {
      for (const control of [
        "\u202a",
        "\u202b",
        "\u202c",
        "\u202d",
        "\u202e",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\u200e",
        "\u200f",
        "\u061c"
      ]) {
        assert.include(
          refusal(schema, `fix ${control}gnp.exe`),
          "bidirectional controls",
          JSON.stringify(control)
        )
      }
    }
    // Right-to-left text itself is fine, and a prompt may hold the controls (it is not a label).
    assert.isUndefined(refusal(Title, "תיקון דף הכניסה"))
    assert.isUndefined(refusal(Title, "إصلاح صفحة الدخول"))
    assert.isUndefined(refusal(Prompt, "quote \u202eevil\u202c as written"))
    // What was recorded before keeps decoding: a title in an event or a read model, and tags.
    assert.isUndefined(refusal(StoredTitle, "invoice \u202egnp.exe"))
    assert.isUndefined(refusal(Thread.fields.title, "invoice \u202egnp.exe"))
    assert.isUndefined(refusal(Project.fields.title, "invoice \u202egnp.exe"))
    assert.isUndefined(refusal(Tag, "\u202etag"))
    assert.strictEqual(withoutBidiControls("a\u202eb\u2066c\u200fd\u061c"), "abcd")
  })

  it("a prompt needs a visible character, not only whitespace or invisible characters", () => {
    for (const blank of [
      "",
      "   ",
      "\n\t",
      "\u200b\u200b",
      "\ufeff",
      " \u2060\u00a0\u3000",
      "\u200d\u034f",
      "\u2800"
    ]) {
      assert.include(refusal(Prompt, blank), "visible character", JSON.stringify(blank))
      if (!/[\n\t]/u.test(blank))
        assert.include(refusal(Title, blank), "visible character", JSON.stringify(blank))
    }
    // Emoji sequences joined by U+200D and text in other scripts are visible.
    assert.isUndefined(refusal(Title, "👩‍💻 ship it"))
    assert.isUndefined(refusal(Title, "修正ログイン"))
    assert.isUndefined(refusal(Prompt, "\u200b go"))
  })

  it("lengths are counted on the trimmed text", () => {
    const padded = `${" ".repeat(500)}${"x".repeat(120_000)}\n\n${" ".repeat(500)}`
    assert.isUndefined(refusal(Prompt, padded))
    assert.include(refusal(Prompt, "x".repeat(120_001)), "at most 120000 characters")
    assert.isUndefined(refusal(Title, `  ${"t".repeat(200)}  `))
    assert.include(refusal(Title, "t".repeat(201)), "at most 200 characters")
  })

  it("a prompt must be valid Unicode: no lone surrogate", () => {
    assert.include(refusal(Prompt, "broken \ud800 text"), "lone surrogate")
    assert.isUndefined(refusal(Prompt, "emoji 😀 is a pair"))
    // A default title is cut from the prompt and may split a pair, so titles keep what they get.
    assert.isUndefined(refusal(Title, `${"x".repeat(78)}\ud83d…`))
  })

  it("text that went through a lenient UTF-8 decoder (U+FFFD) is refused", () => {
    for (const schema of [Prompt, Title, Tag, SetupScript]) {
      assert.include(refusal(schema, "fix \ufffd\ufffd this"), "not valid UTF-8")
    }
    assert.include(refusal(AbsolutePath, "/repo/\ufffd"), "valid UTF-8")
  })

  it("setup scripts refuse NUL, which no shell argument can carry", () => {
    assert.isUndefined(refusal(SetupScript, "npm ci\nnpm run build\n"))
    assert.include(refusal(SetupScript, "npm ci\u0000rm -rf /"), "control characters")
  })

  it("tags are at most 32", () => {
    assert.isUndefined(
      refusal(
        Tags,
        Array.from({ length: 32 }, (_, i) => `t${i}`)
      )
    )
    assert.include(
      refusal(
        Tags,
        Array.from({ length: 33 }, (_, i) => `t${i}`)
      ),
      "at most 32 tags"
    )
  })

  it("paths refuse control characters", () => {
    assert.isUndefined(refusal(AbsolutePath, "/home/me/repo"))
    assert.include(refusal(AbsolutePath, "/home/me/re\u0000po"), "control characters")
    assert.include(refusal(AbsolutePath, "/home/me/re\npo"), "control characters")
  })
})

describe("model names", () => {
  it("are safe tokens", () => {
    for (const good of [
      "gpt-5-codex",
      "o3",
      "openai/gpt-4o",
      "llama3:8b",
      "us.anthropic.claude-v1:0",
      "mock_model"
    ]) {
      assert.isUndefined(refusal(ModelName, good), good)
    }
    for (const bad of [
      "",
      "-c",
      "--config=x",
      "gpt 5",
      "gpt-5;rm -rf /",
      "a/../../etc",
      ".hidden",
      "/abs",
      "m\u0000",
      "模型",
      "x".repeat(201)
    ]) {
      assert.include(refusal(ModelName, bad), "model names must be", JSON.stringify(bad))
    }
  })
})

describe("findUnsafeInput", () => {
  it("finds __proto__, constructor and prototype as own keys at any depth, from JSON", () => {
    assert.isUndefined(findUnsafeInput(JSON.parse('{"a":{"b":[1,{"c":"constructor"}]}}')))
    assert.deepInclude(findUnsafeInput(JSON.parse('{"__proto__":{"admin":true}}')), { field: "__proto__" })
    assert.deepInclude(findUnsafeInput(JSON.parse('{"a":{"constructor":{"prototype":1}}}')), {
      field: "a.constructor"
    })
    assert.deepInclude(findUnsafeInput(JSON.parse('{"a":[{"ok":1},{"prototype":1}]}')), {
      field: "a.1.prototype"
    })
    assert.include(findUnsafeInput(JSON.parse('{"x":{"__proto__":1}}'))?.message, "remove it")
  })

  it("refuses input nested deeper than the bound, without recursing into it", () => {
    let deep: unknown = "leaf"
    for (let i = 0; i < 10_000; i++) deep = [deep]
    const found = findUnsafeInput(deep)
    assert.include(found?.message, `more than ${MAX_INPUT_DEPTH} levels`)
    let shallow: unknown = "leaf"
    for (let i = 0; i < MAX_INPUT_DEPTH; i++) shallow = { a: shallow }
    assert.isUndefined(findUnsafeInput(shallow))
  })

  it("passes scalars and null", () => {
    for (const value of [null, undefined, 1, "s", true]) assert.isUndefined(findUnsafeInput(value))
  })
})
