// The thread and project ids a command line names, checked against the contracts' id schemas while
// it is parsed: a malformed one (`spindle thread show ../../etc`) is a usage error, exit 2, naming
// the argument and what an id looks like, before anything connects (the RPC client could not even
// encode the request). Every command that takes such an id builds its argument or flag here.
// Imports the contracts' ids module alone: the whole contracts would cost every command its start.
import { ProjectId, ThreadId } from "@spindle/contracts/ids"
import * as Argument from "effect/cli/Argument"
import * as CliError from "effect/cli/CliError"
import * as Flag from "effect/cli/Flag"
import * as Param from "effect/cli/Param"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"

const KINDS = {
  thread: { schema: ThreadId, example: "t-1a2b3c4d5e", list: "spindle thread list" },
  project: { schema: ProjectId, example: "my-app", list: "spindle project list" }
} as const
type IdKind = keyof typeof KINDS
type IdOf<K extends IdKind> = (typeof KINDS)[K]["schema"]["Type"]

const checked = <K extends IdKind, P extends Param.ParamKind>(
  kind: K,
  name: string,
  param: Param.Param<P, string>
): Param.Param<P, IdOf<K>> => {
  const { schema, example, list } = KINDS[kind]
  const decode = Schema.decodeUnknownExit(schema as Schema.Codec<IdOf<K>, string>)
  return Param.mapEffect(param, (value) => {
    const decoded = decode(value)
    if (Exit.isSuccess(decoded)) return Effect.succeed(decoded.value)
    return Effect.fail(
      new CliError.InvalidValue({
        option: name,
        value,
        expected: `a ${kind} id such as ${example} (1-128 letters, digits, '-' or '_', starting with a letter or digit; '${list}' shows them)`,
        kind: param.kind
      })
    )
  })
}

/** A positional thread or project id, e.g. `spindle thread show <thread>`. */
export const idArgument = <K extends IdKind>(
  kind: K,
  description: string,
  name: string = kind
): Argument.Argument<IdOf<K>> =>
  checked(kind, name, Argument.String(name).pipe(Argument.withDescription(description)))

/** A flag that takes a thread or project id, e.g. `--project`, `--thread`, `--parent`. */
export const idFlag = <K extends IdKind>(kind: K, name: string, description: string): Flag.Flag<IdOf<K>> =>
  checked(kind, name, Flag.String(name).pipe(Flag.withDescription(description)))
