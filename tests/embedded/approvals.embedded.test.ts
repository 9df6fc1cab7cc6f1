import { approvalsContract } from '../contract/approvals.contract.ts'
import { testPlatform } from '../helpers/kernel.ts'

approvalsContract('embedded', (opts) => testPlatform(opts))
