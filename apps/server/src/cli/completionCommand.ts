// `spindle completion bash|zsh|fish`: the shell completion script effect/cli generates from the
// command tree. Load it with `source <(spindle completion bash)`.
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Completions from "effect/cli/Completions"
import * as Effect from "effect/Effect"

/** For the command tree `root`, given by main.ts (which imports this file). */
export const completionCommand = (root: () => Command.Command.Any) =>
  Command.make(
    "completion",
    {
      shell: Argument.Literals("shell", ["bash", "zsh", "fish"]).pipe(Argument.withDescription("Your shell"))
    },
    ({ shell }) =>
      Effect.sync(() => {
        const tree = root()
        process.stdout.write(`${Completions.generate(tree.name, shell, Completions.fromCommand(tree))}\n`)
      })
  ).pipe(
    Command.withDescription(
      "A shell completion script: source <(spindle completion bash), or add that line to ~/.bashrc (zsh: ~/.zshrc; fish: spindle completion fish | source)"
    )
  )
