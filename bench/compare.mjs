#!/usr/bin/env node
// Firebreak's relay against the Yjs servers people use, on this machine, in one run: every
// load below is applied to a freshly started copy of each server by the same load generator
// (`target/release/loadgen`), and one table compares them, with ratios against Firebreak.
//
// Run through bench/compare.sh, which builds the relay and the generator and installs the npm
// peers first. Flags:
//   --duration S   seconds of sending for the two fan-out loads (default 10)
//   --hold S       seconds the 1,000 connections sit idle before memory is read (default 10)
//   --servers a,b  subset of firebreak,y-websocket,hocuspocus,y-sweet (default: all found),
//                  or firebreak-pg: the relay on a private PostgreSQL (only when named;
//                  `--servers firebreak,firebreak-pg --loads fanout-1x50,fanout-50x10`
//                  compares SQLite and PostgreSQL, with PostgreSQL's transactions per update
//                  and its CPU printed under the table), or firebreak-cluster: three
//                  relays on one private PostgreSQL and one private redis-server
//                  (`--redis-url`), each load's clients spread over the three in turn
//                  (only when named; PostgreSQL transactions and Redis commands per update
//                  are printed under the table)
//   --loads a,b    subset of fanout-1x50,fanout-50x10,idle-1000,late-join-5mib
//   --out FILE     where the raw JSON reports go (default target/bench/compare-TIME.json)
//
// Every server listens on 127.0.0.1 only, and every server is stopped at the end, also when
// something fails or the run is interrupted.

import { spawn, spawnSync, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const BENCH = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(BENCH, '..')
const LOADGEN = path.join(ROOT, 'target/release/loadgen')
const RELAY = path.join(ROOT, 'target/release/sync-server')

// ---------------------------------------------------------------------------------------------
// Flags

function parseFlags (argv) {
  const flags = { duration: 10, hold: 10, servers: null, loads: null, out: null }
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split('=', 2)
    const value = () => inline ?? argv[++i]
    switch (name) {
      case '--duration': flags.duration = Number(value()); break
      case '--hold': flags.hold = Number(value()); break
      case '--servers': flags.servers = value().split(','); break
      case '--loads': flags.loads = value().split(','); break
      case '--out': flags.out = value(); break
      case '-h': case '--help':
        console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8')
          .split('\n').filter(l => l.startsWith('//')).map(l => l.slice(3)).join('\n'))
        process.exit(0)
        break
      default:
        throw new Error(`unknown flag ${argv[i]} (see --help)`)
    }
  }
  for (const key of ['duration', 'hold']) {
    if (!(flags[key] > 0)) throw new Error(`--${key} must be a positive number of seconds`)
  }
  return flags
}

// ---------------------------------------------------------------------------------------------
// The loads: the same arguments for every server.

function loads (flags) {
  const d = String(flags.duration)
  return [
    {
      id: 'fanout-1x50',
      title: '1 room × 50 clients × 50 updates/s',
      args: ['fanout', '--rooms', '1', '--clients', '50', '--rate', '50', '--duration', d],
      headline: 'cpu'
    },
    {
      id: 'fanout-50x10',
      title: '50 rooms × 10 clients × 2 updates/s',
      args: ['fanout', '--rooms', '50', '--clients', '10', '--rate', '2', '--duration', d],
      headline: 'cpu'
    },
    {
      id: 'idle-1000',
      title: '1,000 idle connections (50 rooms)',
      args: ['idle', '--connections', '1000', '--rooms', '50', '--hold', String(flags.hold)],
      headline: 'memory'
    },
    {
      id: 'late-join-5mib',
      title: '5 MiB document + 20 late joiners (×3)',
      args: ['late-join', '--doc-mib', '5', '--joiners', '20', '--rounds', '3'],
      headline: 'join'
    }
  ]
}

// ---------------------------------------------------------------------------------------------
// The servers. Each `start` returns { proc, loadgenArgs }.

const children = new Set()

function freePort () {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function onPath (command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0
}

// Starts `command`, waits for a line matching `ready` on stdout or stderr (its first group, if
// any, is returned), and keeps the process for stopping later.
function launch (name, command, args, { env = {}, ready, timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    children.add(proc)
    let output = ''
    let settled = false
    const finish = (error, match) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (error) {
        stop(proc).finally(() => reject(error))
      } else {
        resolve({ proc, match })
      }
    }
    const timer = setTimeout(
      () => finish(new Error(`${name} did not start within ${timeoutMs / 1000} s:\n${tail(output)}`)),
      timeoutMs
    )
    const watch = chunk => {
      // Keep the pipes drained; remember only the end for error messages.
      output = (output + chunk.toString()).slice(-8000)
      const m = output.match(ready)
      if (m) finish(null, m[1])
    }
    proc.stdout.on('data', watch)
    proc.stderr.on('data', watch)
    proc.on('error', error => finish(new Error(`${name}: ${error.message}`)))
    proc.on('exit', (code, signal) => {
      children.delete(proc)
      proc.exited = { code, signal }
      finish(new Error(`${name} exited (${signal ?? code}) before it was ready:\n${tail(output)}`))
    })
  })
}

function tail (text, lines = 12) {
  return text.trim().split('\n').slice(-lines).join('\n')
}

function stop (proc) {
  return new Promise(resolve => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve()
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000)
    proc.once('exit', () => { clearTimeout(timer); resolve() })
    proc.kill('SIGTERM')
  })
}

function stopAllNow () {
  for (const proc of children) {
    try { proc.kill('SIGKILL') } catch { /* already gone */ }
  }
  for (const pg of postgresRunning) pg.kill()
}

function relaySupports (flag) {
  try {
    return execFileSync(RELAY, ['--help'], { encoding: 'utf8' }).includes(flag)
  } catch {
    return false
  }
}

// ---------------------------------------------------------------------------------------------
// A private PostgreSQL for `firebreak-pg`: a fresh data directory per load, a free 127.0.0.1
// port, PostgreSQL's defaults otherwise (fsync and synchronous_commit on). Run as the
// `postgres` user when this is root (PostgreSQL refuses root).

// Stopped (SIGQUIT: immediate shutdown) with every server when the run ends early.
const postgresRunning = new Set()

const ROOT_USER = typeof process.getuid === 'function' && process.getuid() === 0

function pgTool (name) {
  if (onPath(name)) return name
  const base = '/usr/lib/postgresql'
  const versions = fs.existsSync(base)
    ? fs.readdirSync(base).filter(v => fs.existsSync(path.join(base, v, 'bin', name))).sort((a, b) => Number(a) - Number(b))
    : []
  return versions.length ? path.join(base, versions.at(-1), 'bin', name) : null
}

function asPgOwner (command, args) {
  const result = ROOT_USER
    ? spawnSync('/usr/sbin/runuser', ['-u', 'postgres', '--', command, ...args], { encoding: 'utf8' })
    : spawnSync(command, args, { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`${path.basename(command)} failed: ${result.stderr || result.stdout}`)
  return result.stdout
}

async function startPostgres (dir) {
  fs.mkdirSync(dir, { recursive: true })
  if (ROOT_USER) {
    // mkdtemp's directory is root's alone: let the postgres user pass through it.
    fs.chmodSync(path.dirname(dir), 0o711)
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    fs.chownSync(dir, uid, -1)
  }
  const data = path.join(dir, 'data')
  asPgOwner(pgTool('initdb'), ['-D', data, '-U', 'firebreak', '--auth=trust', '-E', 'UTF8', '--no-sync'])
  const port = await freePort()
  asPgOwner(pgTool('pg_ctl'), ['-D', data, '-l', path.join(dir, 'postgres.log'), '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, '-w', 'start'])
  const sql = (query, db = 'bench') => execFileSync('psql',
    ['-h', '127.0.0.1', '-p', String(port), '-U', 'firebreak', '-d', db, '-Atc', query],
    { encoding: 'utf8' }).trim()
  sql('CREATE DATABASE bench', 'postgres')
  const postmaster = () => Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0])
  const running = { kill: () => { try { process.kill(postmaster(), 'SIGQUIT') } catch { /* gone */ } } }
  postgresRunning.add(running)
  return {
    url: `postgres://firebreak@127.0.0.1:${port}/bench`,
    sql,
    postmaster,
    stop: () => {
      postgresRunning.delete(running)
      asPgOwner(pgTool('pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'])
    }
  }
}

// CPU seconds of PostgreSQL: the postmaster, its children so far (reaped ones included in its
// cutime/cstime), read from /proc.
function pgCpuSeconds (postmaster) {
  const ticks = 100
  const fields = pid => {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  }
  let total = 0
  const own = fields(postmaster)
  total += Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14])
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === postmaster) continue
    try {
      const f = fields(entry)
      if (Number(f[1]) === postmaster) total += Number(f[11]) + Number(f[12])
    } catch { /* gone meanwhile */ }
  }
  return total / ticks
}

function pgSample (pg) {
  return {
    xact: Number(pg.sql("SELECT xact_commit FROM pg_stat_database WHERE datname = 'bench'")),
    // WAL written so far, in bytes (the whole cluster's: only the bench writes here).
    wal: Number(pg.sql("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")),
    cpu: pgCpuSeconds(pg.postmaster())
  }
}

// A private redis-server for `firebreak-cluster`: a free 127.0.0.1 port, no snapshots, no
// append-only file (pub/sub only; PostgreSQL is the truth).
async function startRedis () {
  const port = await freePort()
  const { proc } = await launch('redis-server', 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'
  ], { ready: /Ready to accept connections/ })
  return { proc, port, url: `redis://127.0.0.1:${port}` }
}

// Redis's counters: every command, PUBLISH alone, and bytes in and out.
function redisSample (redis) {
  const info = execFileSync('redis-cli', ['-p', String(redis.port), 'info', 'all'], { encoding: 'utf8' })
  const field = name => Number(info.match(new RegExp(`^${name}:(\\d+)`, 'm'))?.[1] ?? 0)
  const publish = Number(info.match(/^cmdstat_publish:calls=(\d+)/m)?.[1] ?? 0)
  return {
    commands: field('total_commands_processed'),
    publish,
    net_in: field('total_net_input_bytes'),
    net_out: field('total_net_output_bytes'),
    cpu: Number(info.match(/^used_cpu_sys:([\d.]+)/m)[1]) + Number(info.match(/^used_cpu_user:([\d.]+)/m)[1])
  }
}

// A process's own CPU seconds and peak resident memory (MB), from /proc.
function procSample (pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const hwm = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+)/m)
  return { cpu: (Number(f[11]) + Number(f[12])) / 100, hwm_mb: hwm ? Number(hwm[1]) / 1024 : null }
}

function servers (tmp) {
  const relayFlags = relaySupports('--max-connections-per-address')
    // All load comes from one address here; lift the per-address limit as its help says.
    ? ['--max-connections-per-address', '0']
    : []
  const ywsBin = path.join(BENCH, 'node_modules/y-websocket-1.5.4/bin/server.js')
  let n = 0
  return [
    {
      id: 'firebreak',
      version: () => execFileSync(RELAY, ['--version'], { encoding: 'utf8' }).trim(),
      available: () => fs.existsSync(RELAY) || 'target/release/sync-server is not built',
      async start () {
        const data = path.join(tmp, `firebreak-${n++}`)
        const { proc, match: addr } = await launch('firebreak', RELAY, [
          '--listen', '127.0.0.1:0', '--data', data, '--dist', path.join(tmp, 'no-app'),
          ...relayFlags
        ], { env: { RUST_LOG: 'warn,sync_server::server=info' }, ready: /listening on http:\/\/(\S+)/ })
        return {
          proc,
          loadgenArgs: ['--url', `ws://${addr}/sync`, '--firebreak-api', `http://${addr}`]
        }
      }
    },
    {
      id: 'firebreak-pg',
      onlyWhenNamed: true,
      version: () => execFileSync(RELAY, ['--version'], { encoding: 'utf8' }).trim() + ' on ' +
        execFileSync(pgTool('postgres') ?? 'postgres', ['--version'], { encoding: 'utf8' }).trim(),
      available: () => {
        if (!fs.existsSync(RELAY)) return 'target/release/sync-server is not built'
        if (!pgTool('initdb') || !onPath('psql')) return 'PostgreSQL is not installed (scripts/setup.sh installs it)'
        return true
      },
      async start () {
        const dir = path.join(tmp, `firebreak-pg-${n++}`)
        const pg = await startPostgres(dir)
        try {
          const { proc, match: addr } = await launch('firebreak-pg', RELAY, [
            '--listen', '127.0.0.1:0', '--data', path.join(dir, 'relay'), '--dist', path.join(tmp, 'no-app'),
            '--database-url', pg.url, ...relayFlags
          ], { env: { RUST_LOG: 'warn,sync_server::server=info' }, ready: /listening on http:\/\/(\S+)/ })
          return {
            proc,
            pg,
            loadgenArgs: ['--url', `ws://${addr}/sync`, '--firebreak-api', `http://${addr}`]
          }
        } catch (error) {
          pg.stop()
          throw error
        }
      }
    },
    {
      id: 'firebreak-cluster',
      onlyWhenNamed: true,
      version: () => execFileSync(RELAY, ['--version'], { encoding: 'utf8' }).trim() + ' ×3 on ' +
        execFileSync(pgTool('postgres') ?? 'postgres', ['--version'], { encoding: 'utf8' }).trim() + ' + ' +
        execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim().split(' ').slice(0, 3).join(' '),
      available: () => {
        if (!fs.existsSync(RELAY)) return 'target/release/sync-server is not built'
        if (!pgTool('initdb') || !onPath('psql')) return 'PostgreSQL is not installed (scripts/setup.sh installs it)'
        if (!onPath('redis-server') || !onPath('redis-cli')) return 'redis-server is not installed'
        if (!relaySupports('--redis-url')) return 'this relay has no --redis-url'
        return true
      },
      async start () {
        const dir = path.join(tmp, `firebreak-cluster-${n++}`)
        const pg = await startPostgres(dir)
        let redis = null
        const relays = []
        try {
          redis = await startRedis()
          for (let i = 0; i < 3; i++) {
            const { proc, match: addr } = await launch(`firebreak-cluster relay ${i + 1}`, RELAY, [
              '--listen', '127.0.0.1:0', '--data', path.join(dir, `relay-${i + 1}`),
              '--dist', path.join(tmp, 'no-app'), '--database-url', pg.url,
              '--redis-url', redis.url, '--node-id', `bench-${i + 1}`, ...relayFlags
            ], { env: { RUST_LOG: 'warn,sync_server::server=info' }, ready: /listening on http:\/\/(\S+)/ })
            relays.push({ proc, addr })
          }
        } catch (error) {
          for (const r of relays) await stop(r.proc)
          if (redis) await stop(redis.proc)
          pg.stop()
          throw error
        }
        return {
          // The first relay is the one loadgen watches; the others are stopped with it.
          proc: relays[0].proc,
          others: [...relays.slice(1).map(r => r.proc), redis.proc],
          relays: relays.map(r => r.proc),
          pg,
          redis,
          loadgenArgs: [
            '--url', `ws://${relays[0].addr}/sync`,
            ...relays.slice(1).flatMap(r => ['--also-url', `ws://${r.addr}/sync`]),
            '--firebreak-api', `http://${relays[0].addr}`
          ]
        }
      }
    },
    {
      id: 'y-websocket',
      version: () => 'y-websocket ' + JSON.parse(fs.readFileSync(
        path.join(BENCH, 'node_modules/y-websocket-1.5.4/package.json'))).version + ' bin/server.js',
      available: () => fs.existsSync(ywsBin) || 'bench/node_modules is not installed',
      async start () {
        const port = await freePort()
        const { proc } = await launch('y-websocket', process.execPath, [ywsBin], {
          env: { HOST: '127.0.0.1', PORT: String(port) },
          ready: /running at/
        })
        return { proc, loadgenArgs: ['--url', `ws://127.0.0.1:${port}`] }
      }
    },
    {
      id: 'hocuspocus',
      version: () => '@hocuspocus/server ' + JSON.parse(fs.readFileSync(
        path.join(BENCH, 'node_modules/@hocuspocus/server/package.json'))).version,
      available: () => fs.existsSync(path.join(BENCH, 'node_modules/@hocuspocus/server')) ||
        'bench/node_modules is not installed',
      async start () {
        const { proc, match: addr } = await launch('hocuspocus', process.execPath,
          [path.join(BENCH, 'hocuspocus-server.mjs')], {
            env: { PORT: '0' },
            ready: /listening on http:\/\/(\S+)/
          })
        return { proc, loadgenArgs: ['--url', `ws://${addr}`, '--framing', 'hocuspocus'] }
      }
    },
    {
      id: 'y-sweet',
      version: () => 'y-sweet ' + execFileSync('y-sweet', ['version'], { encoding: 'utf8' }).trim(),
      available: () => onPath('y-sweet') ||
        'not on PATH (cargo install y-sweet --version 0.9.1 --locked)',
      async start () {
        const port = await freePort()
        const store = path.join(tmp, `y-sweet-${n++}`)
        fs.mkdirSync(store)
        const { proc } = await launch('y-sweet', 'y-sweet', [
          'serve', '--host', '127.0.0.1', '--port', String(port), store
        ], { env: { RUST_LOG: 'warn,y_sweet=info' }, ready: /Listening on/ })
        return {
          proc,
          loadgenArgs: [
            '--url', `ws://127.0.0.1:${port}/d/{room}/ws/{room}`,
            '--ysweet-api', `http://127.0.0.1:${port}`
          ]
        }
      }
    }
  ]
}

// ---------------------------------------------------------------------------------------------
// Running

function runLoadgen (args) {
  return new Promise(resolve => {
    const proc = spawn(LOADGEN, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    children.add(proc)
    let out = ''
    let err = ''
    proc.stdout.on('data', c => { out += c })
    proc.stderr.on('data', c => { err = (err + c).slice(-8000) })
    proc.on('exit', code => {
      children.delete(proc)
      let report = null
      try { report = JSON.parse(out.trim().split('\n').pop()) } catch { /* no report */ }
      resolve({ code, report, stderr: err })
    })
  })
}

async function measure (server, load, flags) {
  let started
  try {
    started = await server.start()
  } catch (error) {
    return { error: `did not start: ${error.message.split('\n')[0]}`, detail: error.message }
  }
  const { proc, loadgenArgs, pg, redis, relays, others = [] } = started
  try {
    const before = pg && pgSample(pg)
    const redisBefore = redis && redisSample(redis)
    const relaysBefore = relays && relays.map(r => procSample(r.pid))
    const { code, report, stderr } = await runLoadgen([
      ...loadgenArgs, '--server-pid', String(proc.pid), '--label', server.id, '--json',
      ...load.args
    ])
    const crashed = proc.exitCode !== null || proc.signalCode !== null
    if (!report) {
      return { error: `loadgen failed (exit ${code}): ${tail(stderr, 3)}`, crashed }
    }
    if (crashed) report.problems.push(`the server exited during the load (${proc.signalCode ?? proc.exitCode})`)
    if (relays) {
      // The table's CPU and memory are all three relays', not only the one loadgen watched.
      for (const r of relays.slice(1)) {
        if (r.exitCode !== null || r.signalCode !== null) report.problems.push('a relay exited during the load')
      }
      const after = relays.map(r => procSample(r.pid))
      const perRelay = after.map((a, i) => a.cpu - relaysBefore[i].cpu)
      const cpu = perRelay.reduce((a, b) => a + b, 0)
      report.server = {
        ...report.server,
        first_relay: { cpu_s: report.server?.cpu_s, rss_peak_mb: report.server?.rss_peak_mb },
        relays_cpu_s: perRelay,
        cpu_s: cpu,
        cpu_us_per_delivery: report.deliveries ? cpu * 1e6 / report.deliveries : null,
        rss_peak_mb: after.reduce((a, b) => a + (b.hwm_mb ?? 0), 0)
      }
    }
    if (redis) {
      const after = redisSample(redis)
      const d = k => after[k] - redisBefore[k]
      const per = v => report.updates_sent ? v / report.updates_sent : null
      report.redis = {
        commands: d('commands'),
        commands_per_update: per(d('commands')),
        publish: d('publish'),
        publish_per_update: per(d('publish')),
        net_in_bytes: d('net_in'),
        net_out_bytes: d('net_out'),
        net_in_bytes_per_update: per(d('net_in')),
        net_out_bytes_per_update: per(d('net_out')),
        cpu_s: d('cpu'),
        cpu_us_per_delivery: report.deliveries ? d('cpu') * 1e6 / report.deliveries : null
      }
    }
    if (pg) {
      // Backends report their counts to the statistics within a second or so.
      await new Promise(resolve => setTimeout(resolve, 1500))
      const after = pgSample(pg)
      const xact = after.xact - before.xact
      const cpu = after.cpu - before.cpu
      const wal = after.wal - before.wal
      report.postgres = {
        wal_bytes: wal,
        wal_bytes_per_update: report.updates_sent ? wal / report.updates_sent : null,
        xact_commit: xact,
        xact_per_update: report.updates_sent ? xact / report.updates_sent : null,
        cpu_s: cpu,
        cpu_us_per_delivery: report.deliveries ? cpu * 1e6 / report.deliveries : null
      }
    }
    return { report }
  } finally {
    await stop(proc)
    for (const other of others) await stop(other)
    if (pg) pg.stop()
  }
}

// ---------------------------------------------------------------------------------------------
// The table

const fmt = (v, digits = 1) => (v === undefined || v === null || Number.isNaN(v)) ? '—' : v.toFixed(digits)

function headline (load, report) {
  switch (load.headline) {
    case 'cpu': return { value: report.server?.cpu_us_per_delivery, unit: 'µs CPU/delivery', digits: 2 }
    case 'memory': return { value: report.server?.rss_per_connection_kb, unit: 'KB RSS/connection', digits: 1 }
    case 'join': return { value: report.late_join?.time_to_state?.p50_ms, unit: 'ms to full state (p50)', digits: 1 }
  }
}

function ratio (value, base) {
  if (!(value > 0) || !(base > 0)) return '—'
  return `${(value / base).toFixed(2)}×`
}

function table (plan, results) {
  const rows = [[
    'load', 'server', 'headline', 'vs Firebreak', 'deliveries/s',
    'latency p50 / p99 / max ms', 'p99 vs FB', 'connect p50 / p99 ms',
    'server CPU s', 'RSS peak MB', 'lost', 'converged'
  ]]
  for (const load of plan.loads) {
    const base = results[load.id]?.firebreak?.report
    const baseHead = base && headline(load, base).value
    const baseP99 = base && (load.headline === 'join'
      ? base.late_join?.time_to_state?.p99_ms
      : base.latency?.p99_ms)
    for (const server of plan.servers) {
      const result = results[load.id]?.[server.id]
      if (!result) continue
      if (!result.report) {
        rows.push([load.title, server.id, result.error, '', '', '', '', '', '', '', '', ''])
        continue
      }
      const r = result.report
      const head = headline(load, r)
      const lat = load.headline === 'join' ? r.late_join?.time_to_state : r.latency
      const p99 = lat?.p99_ms
      const conv = r.rooms ? `${r.rooms - r.rooms_diverged}/${r.rooms}` : (r.late_join ? `${r.late_join.joiners_matching}/${r.late_join.joiners * (r.late_join.rounds ?? 1)}` : '—')
      rows.push([
        load.title,
        server.id + (r.ok ? '' : ' ⚠'),
        `${fmt(head.value, head.digits)} ${head.unit}`,
        server.id === 'firebreak' ? '1.00×' : ratio(head.value, baseHead),
        r.updates_sent ? fmt(r.deliveries_per_s, 0) : '—',
        lat?.count ? `${fmt(lat.p50_ms, 2)} / ${fmt(lat.p99_ms, 2)} / ${fmt(lat.max_ms, 1)}` : '—',
        server.id === 'firebreak' ? '1.00×' : ratio(p99, baseP99),
        load.headline === 'join' ? '—' : `${fmt(r.join.p50_ms, 1)} / ${fmt(r.join.p99_ms, 1)}`,
        fmt(r.server?.cpu_s, 2),
        fmt(r.server?.rss_peak_mb, 1),
        String(r.lost),
        conv
      ])
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => [...String(r[i])].length)))
  const line = r => '| ' + r.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |'
  return [line(rows[0]), '|' + widths.map(w => '-'.repeat(w + 2)).join('|') + '|', ...rows.slice(1).map(line)].join('\n')
}

function machine () {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
    cpu,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    loadavg: os.loadavg().map(l => +l.toFixed(2))
  }
}

// ---------------------------------------------------------------------------------------------

async function main () {
  const flags = parseFlags(process.argv.slice(2))
  if (!fs.existsSync(LOADGEN)) throw new Error('target/release/loadgen is not built: run bench/compare.sh')
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-bench-'))
  const cleanup = () => { stopAllNow(); fs.rmSync(tmp, { recursive: true, force: true }) }
  process.on('exit', cleanup)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => { console.error(`\n${signal}: stopping every server`); process.exit(130) })
  }

  const allLoads = loads(flags)
  const chosenLoads = flags.loads ? allLoads.filter(l => flags.loads.includes(l.id)) : allLoads
  const chosenServers = []
  for (const server of servers(tmp)) {
    if (flags.servers ? !flags.servers.includes(server.id) : server.onlyWhenNamed) continue
    const ok = server.available()
    if (ok !== true) {
      console.error(`skipping ${server.id}: ${ok}`)
      continue
    }
    chosenServers.push(server)
  }
  if (!chosenServers.length || !chosenLoads.length) throw new Error('nothing to run: check --servers and --loads')

  const info = machine()
  const versions = Object.fromEntries(chosenServers.map(s => {
    try { return [s.id, s.version()] } catch { return [s.id, 'unknown'] }
  }))
  console.error(`${info.date}: ${info.nproc} cores (${info.cpu}), ${info.memory_gib} GiB, ${info.kernel}, node ${info.node}; load average ${info.loadavg.join(' ')}`)
  console.error(`servers: ${Object.values(versions).join('; ')}`)

  const results = {}
  for (const load of chosenLoads) {
    results[load.id] = {}
    for (const server of chosenServers) {
      process.stderr.write(`${load.title} — ${server.id} … `)
      const began = Date.now()
      const result = await measure(server, load, flags)
      results[load.id][server.id] = result
      const r = result.report
      console.error(r
        ? `${r.ok ? 'ok' : 'PROBLEMS: ' + r.problems.join('; ')} (${((Date.now() - began) / 1000).toFixed(0)} s)`
        : result.error)
      // Let sockets in TIME_WAIT and the page cache settle before the next server.
      await new Promise(resolve => setTimeout(resolve, 1000))
    }
  }

  const plan = { loads: chosenLoads, servers: chosenServers }
  const out = flags.out ?? path.join(ROOT, 'target/bench', `compare-${info.date.replace(/[:]/g, '')}.json`)
  fs.mkdirSync(path.dirname(out), { recursive: true })
  fs.writeFileSync(out, JSON.stringify({ machine: info, versions, flags, results }, null, 2))

  console.log()
  console.log(`Firebreak relay vs Yjs servers — ${info.date} — ${info.nproc} cores, ${info.memory_gib} GiB (${info.cpu})`)
  console.log(`fan-out loads: ${flags.duration} s of sending; idle: ${flags.hold} s hold`)
  console.log()
  console.log(table(plan, results))
  console.log()
  console.log('headline: lower is better; "vs Firebreak" = the server\'s number ÷ Firebreak\'s (above 1× Firebreak does better).')
  console.log('CPU and memory are the server process\'s own (/proc/PID); latency is from a client\'s send to each other client\'s receipt.')
  console.log('⚠ = lost updates, a room that did not converge, or client errors (details in the JSON).')
  for (const load of plan.loads) for (const id of ['firebreak-pg', 'firebreak-cluster']) {
    const pg = results[load.id]?.[id]?.report
    if (!pg?.postgres) continue
    const p = pg.postgres
    const relayCpu = pg.server?.cpu_us_per_delivery
    if (pg.redis) {
      const r = pg.redis
      console.log(`${id}, ${load.title}: the three relays' CPU ${pg.server.relays_cpu_s.map(c => fmt(c, 2)).join(' + ')} s; ` +
        `Redis ran ${r.commands} commands, ${fmt(r.commands_per_update, 2)} per update (${r.publish} PUBLISH, ` +
        `${fmt(r.publish_per_update, 2)} per update; INFO), ${fmt(r.net_in_bytes_per_update, 0)} bytes in and ` +
        `${fmt(r.net_out_bytes_per_update, 0)} out per update, its CPU ${fmt(r.cpu_s, 2)} s ` +
        `(${fmt(r.cpu_us_per_delivery, 2)} µs per delivery)`)
    }
    console.log(`${id}, ${load.title}: PostgreSQL committed ${p.xact_commit} transactions, ` +
      `${fmt(p.xact_per_update, 2)} per update (pg_stat_database.xact_commit) and ${fmt(p.wal_bytes_per_update, 0)} WAL bytes per update; its CPU ${fmt(p.cpu_s, 2)} s, ` +
      `${fmt(p.cpu_us_per_delivery, 2)} µs per delivery (relay + PostgreSQL: ${fmt((relayCpu ?? 0) + (p.cpu_us_per_delivery ?? 0), 2)} µs)`)
  }
  console.log(`raw reports: ${path.relative(process.cwd(), out)}`)
  const failed = Object.values(results).some(byServer => Object.values(byServer).some(r => !r.report?.ok))
  process.exitCode = failed ? 2 : 0
}

main().catch(error => {
  console.error(`compare: ${error.message}`)
  process.exitCode = 1
})
