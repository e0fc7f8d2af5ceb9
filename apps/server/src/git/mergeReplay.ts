// A rebase as a merge strategy: the source's own commits replayed onto the target one by one, each
// a three-way merge-tree, written as objects only; branchMerge.ts moves the target to the tip.
import * as Effect from "effect/Effect"
import { type MergePreview, mergeFiles, SPINDLE_IDENTITY, trialMerge } from "./branchMerge.ts"
import type { GitCli } from "./GitCli.ts"

const RECORD = "\x1e"

/** The source's own commits since the fork point, oldest first, merges left out (as git rebase). */
const commitsToReplay = (git: GitCli["Service"], repo: string, preview: MergePreview) =>
  Effect.map(
    git.runOk(
      [
        "log",
        "--reverse",
        "--topo-order",
        "--no-merges",
        "--date=raw",
        `--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%ad%x00%B${RECORD}`,
        "--end-of-options",
        preview.sourceOid,
        `^${preview.base}`
      ],
      { cwd: repo }
    ),
    (text) =>
      text
        .split(RECORD)
        .map((record) => record.replace(/^\n/, ""))
        .filter((record) => record !== "")
        .map((record) => {
          const [oid = "", tree = "", parents = "", name = "", email = "", date = "", ...body] =
            record.split("\0")
          return { oid, tree, parent: parents.split(" ")[0] ?? "", name, email, date, message: body.join("") }
        })
  )

/**
 * The preview of a rebase: the source's commits replayed one by one onto the target, each as a
 * three-way merge of the commit against its parent. git before 2.40 cannot give merge-tree a base,
 * so each merge runs on stand-in commits that share a parent holding the commit's parent tree.
 * Commits keep their author, message and dates; one whose change is already in the target is left
 * out. Writes objects only: `replayed` is the new tip, or null with the first conflicting commit's
 * files in `conflicts`.
 */
export const withReplay = (git: GitCli["Service"], repo: string, preview: MergePreview) =>
  Effect.gen(function* () {
    const commits = yield* commitsToReplay(git, repo, preview)
    const standIn = (tree: string, parent?: string) =>
      Effect.map(
        git.runOk(
          ["commit-tree", tree, ...(parent === undefined ? [] : ["-p", parent]), "-m", "spindle replay"],
          { cwd: repo, config: SPINDLE_IDENTITY }
        ),
        (oid) => oid.trim()
      )
    let head = preview.targetOid
    let headTree = (yield* git.runOk(["rev-parse", "--verify", `${head}^{tree}`], { cwd: repo })).trim()
    for (const commit of commits) {
      if (commit.parent === head) {
        // Nothing moved under this commit: it stays as it is.
        head = commit.oid
        headTree = commit.tree
        continue
      }
      const parentTree = (yield* git.runOk(["rev-parse", "--verify", `${commit.parent}^{tree}`], {
        cwd: repo
      })).trim()
      const base = yield* standIn(parentTree)
      const trial = yield* trialMerge(
        git,
        repo,
        yield* standIn(headTree, base),
        yield* standIn(commit.tree, base),
        `commit ${commit.oid.slice(0, 12)} onto ${preview.target}`
      )
      if (trial.tree === null) {
        return { ...preview, tree: null, conflicts: trial.conflicts, files: [], replayed: null }
      }
      if (trial.tree === headTree) continue
      const made = yield* git.runOk(["commit-tree", trial.tree, "-p", head, "-m", commit.message], {
        cwd: repo,
        config: SPINDLE_IDENTITY,
        env: {
          GIT_AUTHOR_NAME: commit.name,
          GIT_AUTHOR_EMAIL: commit.email,
          GIT_AUTHOR_DATE: commit.date
        }
      })
      head = made.trim()
      headTree = trial.tree
    }
    const replayed = {
      ...preview,
      tree: headTree,
      conflicts: [],
      upToDate: head === preview.targetOid,
      replayed: head
    } satisfies MergePreview
    return { ...replayed, files: yield* mergeFiles(git, repo, replayed) }
  })
