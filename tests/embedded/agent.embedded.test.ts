import { agentContract } from '../contract/agent.contract.ts'
import { testPlatform } from '../helpers/kernel.ts'

agentContract('embedded', (opts) => testPlatform(opts))
