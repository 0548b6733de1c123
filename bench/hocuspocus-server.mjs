// Hocuspocus with its defaults (no extensions, no persistence), for bench/compare.mjs.
// Listens on 127.0.0.1:$PORT (0 picks a free port) and prints `listening on http://ADDR`.
import { Server } from '@hocuspocus/server'

const server = new Server({
  address: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  quiet: true,
})
await server.listen()
console.log(`listening on http://127.0.0.1:${server.address.port}`)
