// Type test for 'node-asgi/fastify': registering the plugin compiles with { handler } or
// PythonHandler options; wrong options are rejected.
import Fastify from 'fastify'
import nodeAsgi, { nodeAsgi as named } from 'node-asgi/fastify'
import type { NodeAsgiFastifyOptions } from 'node-asgi/fastify'
import { PythonHandler } from 'node-asgi'

async function main (): Promise<void> {
  const fastify = Fastify()
  await fastify.register(nodeAsgi, { prefix: '/api', app: 'main:app', appDir: './py', rootPath: '/outer' })
  const handler = new PythonHandler({ app: 'main:app' })
  await fastify.register(named, { prefix: '/other', handler })
  const options: NodeAsgiFastifyOptions = { handler }
  await fastify.register(nodeAsgi, options)
  // logLevel is Fastify's (pino's levels) for the plugin's routes
  await fastify.register(nodeAsgi, { prefix: '/quiet', logLevel: 'warn', app: 'main:app' })

  // @ts-expect-error handler is a PythonHandler
  await fastify.register(nodeAsgi, { handler: {} })
  // @ts-expect-error handler and PythonHandler options do not mix
  await fastify.register(nodeAsgi, { handler, app: 'main:app' })
  // @ts-expect-error app is a string
  await fastify.register(nodeAsgi, { app: 5 })
  // @ts-expect-error unknown option
  await fastify.register(nodeAsgi, { app: 'main:app', appDri: '.' })
  // @ts-expect-error prefix is a string
  await fastify.register(nodeAsgi, { prefix: 1, app: 'main:app' })
  await fastify.close()
}
main().catch(console.error)
