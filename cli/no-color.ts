/** Imported first by the CLI's command tree (cli/app.ts): colour only on a TTY (and never with NO_COLOR, which the help printer honours). */
if (!process.stdout.isTTY || !process.stderr.isTTY) process.env.NO_COLOR ||= '1'
