import { hostileIdsContract } from '../contract/hostile-ids.contract.ts'
import { testPlatform } from '../helpers/kernel.ts'

hostileIdsContract('embedded', () => testPlatform())
