/** CPU time of the processes a benchmark drives, from /proc (Linux), for per-transition costs. */
import { readdirSync, readFileSync } from 'node:fs'

const TICK_MS = 10 // USER_HZ = 100 on Linux

/** CPU ms so far of each named group: pids given, or processes whose command name matches. */
export function cpuSnapshot(
  groups: Record<string, { pids?: number[]; comm?: string[] }>
): Record<string, number> {
  const out: Record<string, number> = {}
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d))
  for (const [name, g] of Object.entries(groups)) {
    const pids = g.pids ?? all.map(Number).filter((pid) => g.comm?.includes(comm(pid)))
    out[name] = pids.reduce((sum, pid) => sum + cpuMs(pid), 0)
  }
  out.bench = (process.cpuUsage().user + process.cpuUsage().system) / 1000
  return out
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim()
  } catch {
    return ''
  }
}

function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS // utime + stime
  } catch {
    return 0
  }
}
