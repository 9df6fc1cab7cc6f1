import { fanoutContract } from '../contract/fanout.contract.ts'
import { testPlatform } from '../helpers/kernel.ts'

fanoutContract('embedded', (opts) => testPlatform(opts as never))
