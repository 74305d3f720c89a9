'use strict'
// A missing or malformed setting stops the hub at startup (CLI exit 3) with the variable named, and an
// unreachable REDIS_URL fails the lifespan startup the same way.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const net = require('node:net')
const { childEnv, runNodeProcess } = require('../../../test/helpers')
const { HUB_DIR, SECRET } = require('./hub_support')

const BIN = path.resolve(HUB_DIR, '..', '..', 'bin', 'node-asgi.js')

function runHub (env) {
  const base = childEnv({ JWT_SECRET: SECRET })
  for (const key of ['CORS_ORIGINS', 'REDIS_URL', 'TERMINAL_COMMANDS', 'RATE_LIMIT_POINTS', 'RATE_LIMIT_WINDOW_SECONDS']) delete base[key]
  const merged = { ...base, ...env }
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key]
  return runNodeProcess([BIN, 'app:app', '--app-dir', HUB_DIR, '--port', '0'], { env: merged, timeoutMs: 30000 })
}

const CASES = [
  [{ JWT_SECRET: undefined }, /JWT_SECRET is not set/],
  [{ RATE_LIMIT_POINTS: 'many' }, /RATE_LIMIT_POINTS must be an integer between 1 and 1000000, got 'many'/],
  [{ RATE_LIMIT_WINDOW_SECONDS: '0' }, /RATE_LIMIT_WINDOW_SECONDS must be between 0.01 and 86400, got '0'/],
  [{ CORS_ORIGINS: 'app.example.com' }, /CORS_ORIGINS: 'app.example.com' is not an origin/],
  [{ TERMINAL_COMMANDS: '{"wipe": "rm -rf /"}' }, /TERMINAL_COMMANDS: 'wipe' must map to a non-empty list of strings/],
  [{ TERMINAL_COMMANDS: '{"x": ["no-such-binary-here"]}' }, /TERMINAL_COMMANDS: 'x' runs 'no-such-binary-here', which is not an executable on PATH/],
  [{ TERMINAL_COMMANDS: '[1,' }, /TERMINAL_COMMANDS must be a JSON object/],
  [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL must start with redis:\/\//]
]

for (const [env, message] of CASES) {
  test(`startup refused: ${JSON.stringify(env)}`, async () => {
    const result = await runHub(env)
    assert.equal(result.code, 3, result.stderr)
    assert.match(result.stderr, message)
  })
}

test('an unreachable REDIS_URL fails startup with "cannot reach Redis"', async () => {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve)) // nothing listens there now
  const result = await runHub({ REDIS_URL: `redis://127.0.0.1:${port}/0` })
  assert.equal(result.code, 3, result.stderr)
  assert.match(result.stderr, new RegExp(`REDIS_URL redis://127.0.0.1:${port}/0: cannot reach Redis`))
})
