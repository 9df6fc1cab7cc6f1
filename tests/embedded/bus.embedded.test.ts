import { createMemoryBus } from '../../src/adapters/embedded/memory-bus.ts'
import { busContract } from '../contract/bus.contract.ts'

busContract('memory', async () => createMemoryBus())
