/**
 * The one stand-in the tests allow: a scripted OpenAI-compatible server on loopback, so the real
 * `openai` SDK is exercised over real HTTP. A script answers each chat.completions request from
 * its body (so concurrent runs get their own answers); the server logs every request and every
 * completed answer, keyed by the conversation so far, so a test can tell whether a completed model
 * call was ever made again.
 */

export interface ToolCallSpec {
  name: string
  arguments: unknown
  id?: string
}

export interface Answer {
  content?: string | null
  tool_calls?: ToolCallSpec[]
  usage?: { prompt_tokens?: number; completion_tokens?: number; cached_tokens?: number }
  /** Answer with this HTTP status instead (429, 500, …), with an error body. */
  status?: number
  retry_after_s?: number
  /** Wait this long before answering. */
  delay_ms?: number
}

export interface ChatBody {
  model: string
  messages: {
    role: string
    content: string | null
    tool_calls?: { id: string; function: { name: string; arguments: string } }[]
    tool_call_id?: string
  }[]
  tools?: { type: string; function: { name: string; parameters: unknown } }[]
  temperature?: number
}

export type Script = (body: ChatBody, call: number) => Answer | Promise<Answer>

export interface LlmServer {
  url: string
  /** Every request body, in arrival order. */
  requests: ChatBody[]
  /** Keys (conversation so far) of the calls that were answered 200, with how often. */
  completed: Map<string, number>
  /** Completed calls whose conversation had been answered before (a repeated model call). */
  repeats(): number
  setScript(script: Script): void
  /** Answers nothing until release(): a test can kill a client while no answer is in transit. */
  hold(): void
  release(): void
  stop(): void
}

/** The user message a conversation started with, parsed (the node's input). */
export function inputOf(body: ChatBody): any {
  const first = body.messages.find((m) => m.role === 'user')
  return first?.content ? JSON.parse(first.content) : null
}

/** The tool results so far, parsed, in order. */
export function toolResults(body: ChatBody): any[] {
  return body.messages.filter((m) => m.role === 'tool').map((m) => JSON.parse(m.content ?? 'null'))
}

/** How many assistant turns the conversation already has. */
export function turnsOf(body: ChatBody): number {
  return body.messages.filter((m) => m.role === 'assistant').length
}

export function startLlmServer(initial: Script): LlmServer {
  let script = initial
  let held: Promise<void> | null = null
  let unhold = () => {}
  let calls = 0
  let ids = 0
  const requests: ChatBody[] = []
  const completed = new Map<string, number>()
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname
      if (!path.endsWith('/chat/completions') || req.method !== 'POST')
        return Response.json({ error: { message: `no route ${path}` } }, { status: 404 })
      const body = (await req.json()) as ChatBody
      requests.push(body)
      const answer = await script(body, ++calls)
      if (answer.delay_ms) await Bun.sleep(answer.delay_ms)
      while (held) await held
      // The client went away meanwhile (a killed worker): this call never completed for it.
      if (req.signal.aborted) return new Response(null, { status: 499 })
      if (answer.status && answer.status !== 200) {
        const headers: Record<string, string> = {}
        if (answer.retry_after_s !== undefined)
          headers['retry-after'] = String(answer.retry_after_s)
        return Response.json(
          { error: { message: `scripted ${answer.status}`, type: 'scripted' } },
          { status: answer.status, headers }
        )
      }
      const key = JSON.stringify(body.messages)
      completed.set(key, (completed.get(key) ?? 0) + 1)
      const toolCalls = answer.tool_calls?.map((c) => ({
        id: c.id ?? `call_${++ids}`,
        type: 'function',
        function: {
          name: c.name,
          arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
        },
      }))
      const prompt = answer.usage?.prompt_tokens ?? 100
      const completion = answer.usage?.completion_tokens ?? 20
      return Response.json({
        id: `chatcmpl-${calls}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: answer.content ?? null,
              ...(toolCalls?.length ? { tool_calls: toolCalls } : {}),
            },
            finish_reason: toolCalls?.length ? 'tool_calls' : 'stop',
          },
        ],
        usage: {
          prompt_tokens: prompt,
          completion_tokens: completion,
          total_tokens: prompt + completion,
          prompt_tokens_details: { cached_tokens: answer.usage?.cached_tokens ?? 0 },
        },
      })
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}/v1`,
    requests,
    completed,
    repeats: () => [...completed.values()].reduce((n, c) => n + (c - 1), 0),
    setScript(s) {
      script = s
    },
    hold() {
      held ??= new Promise<void>((r) => (unhold = r))
    },
    release() {
      held = null
      unhold()
    },
    stop() {
      server.stop(true)
    },
  }
}
