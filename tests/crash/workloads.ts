/** Mixed DAGs for the crash tests: chains, fan-out/fan-in, branches and loops, with sleeps. */
export function mixedWorkflow(i: number, scale = 1): unknown {
  const ms = (20 + (i % 7) * 30) * scale
  switch (i % 4) {
    case 0:
      return {
        name: 'crash-chain',
        nodes: [
          { id: 'a', type: 'noop' },
          { id: 'b', type: 'sleep', config: { ms } },
          {
            id: 'c',
            type: 'transform',
            config: {
              input: '{{ input }}',
              pipeline: [{ op: 'transform', expr: "$merge([$, {'c': true}])" }],
            },
          },
          { id: 'd', type: 'noop' },
        ],
        edges: [
          { from: 'a', to: 'b' },
          { from: 'b', to: 'c' },
          { from: 'c', to: 'd' },
        ],
      }
    case 1:
      return {
        name: 'crash-fan',
        nodes: [
          { id: 's', type: 'noop' },
          ...[1, 2, 3, 4].map((k) => ({ id: `p${k}`, type: 'sleep', config: { ms: ms + k * 10 } })),
          { id: 'j', type: 'noop' },
        ],
        edges: [
          ...[1, 2, 3, 4].flatMap((k) => [
            { from: 's', to: `p${k}` },
            { from: `p${k}`, to: 'j' },
          ]),
        ],
      }
    case 2:
      return {
        name: 'crash-branch',
        nodes: [
          { id: 'a', type: 'noop', config: { output: i } },
          { id: 'even', type: 'sleep', config: { ms } },
          { id: 'odd', type: 'sleep', config: { ms } },
          { id: 'j', type: 'noop' },
        ],
        edges: [
          { from: 'a', to: 'even', when: 'nodes.a.output % 2 = 0' },
          { from: 'a', to: 'odd', when: 'nodes.a.output % 2 = 1' },
          { from: 'even', to: 'j' },
          { from: 'odd', to: 'j' },
        ],
      }
    default:
      return {
        name: 'crash-loop',
        nodes: [
          { id: 'body', type: 'sleep', config: { ms } },
          { id: 'exit', type: 'noop' },
        ],
        edges: [
          { from: 'body', to: 'body', max_iterations: 3 },
          { from: 'body', to: 'exit' },
        ],
      }
  }
}
