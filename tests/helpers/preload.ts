// bunfig [test] preload: fail loudly on stray promise rejections; keep service logs quiet.
process.env.AOB_LOG_LEVEL ??= 'silent'
process.on('unhandledRejection', (e) => {
  console.error('unhandled rejection in a test:', e)
  process.exitCode = 1
})
