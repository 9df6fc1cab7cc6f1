import { semanticsContract } from '../contract/semantics.contract.ts'
import { testPlatform } from '../helpers/kernel.ts'

semanticsContract('embedded', (opts) => testPlatform(opts))
