/** `aob completion bash|zsh|fish`: a completion script for the shell (commands and subcommands). @module */
import { defineCommand } from 'citty'
import { CliError, EXIT } from '../errors.ts'

/** Every command and its subcommands (what the scripts complete). */
export const COMMANDS: Record<string, string[]> = {
  approvals: [],
  approve: [],
  completion: ['bash', 'zsh', 'fish'],
  dev: [],
  logs: ['stream'],
  migrate: [],
  openapi: ['add'],
  patch: ['list', 'show', 'approve', 'reject', 'apply'],
  replay: [],
  run: ['start', 'status', 'list', 'cancel'],
  tag: ['list', 'history', 'move'],
  tool: ['add', 'list'],
  workflow: ['validate', 'list', 'show'],
}

function bash(): string {
  const cases = Object.entries(COMMANDS)
    .filter(([, subs]) => subs.length)
    .map(([c, subs]) => `    ${c}) COMPREPLY=($(compgen -W "${subs.join(' ')}" -- "$cur")) ;;`)
    .join('\n')
  return `# aob completion for bash: eval "$(aob completion bash)"
_aob() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${Object.keys(COMMANDS).join(' ')} --version --help" -- "$cur"))
    return
  fi
  if [ "$COMP_CWORD" -eq 2 ]; then
    case "\${COMP_WORDS[1]}" in
${cases}
    esac
  fi
}
complete -o default -F _aob aob
`
}

function zsh(): string {
  return `#compdef aob
# aob completion for zsh: eval "$(aob completion zsh)"
autoload -U bashcompinit && bashcompinit
${bash()}`
}

function fish(): string {
  const lines = [`# aob completion for fish: aob completion fish | source`]
  lines.push(
    `complete -c aob -f -n '__fish_use_subcommand' -a '${Object.keys(COMMANDS).join(' ')}'`
  )
  for (const [c, subs] of Object.entries(COMMANDS))
    if (subs.length)
      lines.push(`complete -c aob -f -n '__fish_seen_subcommand_from ${c}' -a '${subs.join(' ')}'`)
  return `${lines.join('\n')}\n`
}

export default defineCommand({
  meta: { name: 'completion', description: 'Print a shell completion script: bash, zsh or fish' },
  args: { shell: { type: 'positional', required: true, description: 'bash | zsh | fish' } },
  run({ args }) {
    const scripts: Record<string, () => string> = { bash, zsh, fish }
    const make = scripts[args.shell]
    if (!make)
      throw new CliError(`the shell must be bash, zsh or fish, got "${args.shell}"`, EXIT.usage)
    process.stdout.write(make())
  },
})
