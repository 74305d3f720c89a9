#!/usr/bin/env node
'use strict'
// node-asgi's command line: serves an ASGI app over HTTP like uvicorn, with uvicorn's option names,
// defaults and exit codes (2 for bad arguments, 3 when startup fails). With --workers N or
// --reload this process is a supervisor that runs no Python (lib/cluster.js).
const { parse, usageError, STARTUP_FAILURE } = require('../lib/cli/args')
const { loadEnvFile } = require('../lib/cli/env_file')

const args = parse(process.argv.slice(2))
if (args.envFile !== null) {
  try {
    loadEnvFile(args.envFile)
  } catch (err) {
    usageError(`Invalid value for '--env-file': ${err.message}`)
  }
}
if (args.workers > 1 || args.reload) {
  require('../lib/cluster').runCli(args).catch((err) => {
    process.stderr.write(`ERROR:    ${err.stack}\n`)
    process.exit(STARTUP_FAILURE)
  })
} else {
  require('../lib/cli/serve').serve(args)
}
