'use strict'
// test/redis_support.js: startRedis() gives a working throwaway redis-server without persistence that
// stop() removes; a missing binary is a clear error.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { runNodeProcess } = require('./helpers')
const { startRedis, redisCommand } = require('./redis_support')

test('startRedis(): answers on 127.0.0.1, no persistence, and stop() ends it and removes its dir', async () => {
  const redis = await startRedis()
  try {
    assert.match(redis.url, /^redis:\/\/127\.0\.0\.1:\d+\/0$/)
    assert.equal(await redisCommand(redis.port, 'PING'), 'PONG')
    assert.equal(await redisCommand(redis.port, 'SET', 'k', 'v é'), 'OK')
    assert.equal(await redisCommand(redis.port, 'GET', 'k'), 'v é')
    assert.deepEqual(await redisCommand(redis.port, 'CONFIG', 'GET', 'save'), ['save', ''])
    assert.deepEqual(await redisCommand(redis.port, 'CONFIG', 'GET', 'appendonly'), ['appendonly', 'no'])
    assert.deepEqual(await redisCommand(redis.port, 'CONFIG', 'GET', 'bind'), ['bind', '127.0.0.1'])
    await assert.rejects(redisCommand(redis.port, 'NOSUCHCOMMAND'), /redis NOSUCHCOMMAND: ERR unknown command/)
    assert.equal(fs.existsSync(redis.dir), true)
  } finally {
    await redis.stop()
    await redis.stop() // twice is fine
  }
  assert.equal(fs.existsSync(redis.dir), false)
  await assert.rejects(redisCommand(redis.port, 'PING'), /ECONNREFUSED/)
})

test('startRedis() without the binary rejects naming the path and the Debian package', async () => {
  const script = `require(${JSON.stringify(path.join(__dirname, 'redis_support.js'))}).startRedis()` +
    '.then(() => process.exit(0), (err) => { console.error(err.message); process.exit(1) })'
  const result = await runNodeProcess(['-e', script], { env: { ...process.env, NODE_ASGI_REDIS_SERVER: '/nonexistent/redis-server' } })
  assert.equal(result.code, 1)
  assert.match(result.stderr, /^\/nonexistent\/redis-server not found: install Debian's redis-server package/)
})
