/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * UI benchmark: the built inspector in Debian's Chromium against an API that serves 10 000 records and 1 000
 * routing-table peers. Reports time to first render of each view and frame times while scrolling the records.
 *   npm run bench (after npm run build)
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { startApiServer } from '../src/main/api/http-api.ts'
import { DEFAULT_UI_DIR } from '../src/main/cli/serve.ts'
import type { PeerApiHandlers } from '../src/shared/api-contract.ts'
import { DEFAULT_SETTINGS } from '../src/shared/swarm-settings.ts'
import type { BucketsView, RoutingPeerView, StoredRecordView } from '../src/shared/views.ts'
import { launchChromium } from '../test/helpers/browser.ts'

const RECORDS = 10_000
const PEERS = 1_000
const enc = new TextEncoder()

const records: StoredRecordView[] = Array.from({ length: RECORDS }, (_, i) => ({
  topic: `topic-${i % 20}`,
  key: enc.encode(`key-${i}`),
  keyDisplay: `key-${i}`,
  value: enc.encode(JSON.stringify({ robot: i, battery: i % 100 })),
  size: 24,
  publisher: '12D3KooWBenchPublisher',
  createdAt: Date.now() - i * 1000,
  receivedAt: Date.now(),
  expiresAt: Date.now() + 3_600_000,
  signature: 'valid',
  mine: i % 7 === 0
}))
const peer = (i: number, cpl: number): RoutingPeerView => ({
  peerId: `12D3KooWBenchPeer${i.toString().padStart(6, '0')}`,
  distance: '00',
  log2Distance: 255 - cpl + Math.random(),
  connected: i % 3 === 0,
  addresses: [`/ip4/10.0.${(i >> 8) & 255}.${i & 255}/tcp/4101`],
  agent: 'swarm-inspector/0.1.0',
  protocols: ['/swarm-inspector/kad/1.0.0'],
  latencyMs: i % 50,
  addedAt: Date.now() - i * 1000,
  lastSeen: Date.now(),
  dhtMode: 'server',
  clockSkewMs: (i % 7) - 3,
  clockReadAt: Date.now(),
  localAddress: '10.0.0.1:4101',
  localInterface: 'eth0'
})
const buckets = Array.from({ length: 50 }, (_, cpl) => ({
  cpl,
  peers: Array.from({ length: PEERS / 50 }, (_, j) => peer(cpl * 100 + j, cpl))
}))
const routing: BucketsView = { ownKadId: '00', k: 20, size: PEERS, buckets }

const handlers = {
  nodeInfo: async () => ({
    peerId: '12D3KooWBenchNode',
    agent: 'bench',
    protocol: DEFAULT_SETTINGS.protocol,
    namespace: 'swarm',
    dhtMode: 'server',
    listenAddresses: [],
    observedAddresses: [],
    connections: 0,
    routingTableSize: PEERS,
    records: RECORDS,
    providerRecords: 0,
    mdns: false,
    bootstrap: [],
    transports: ['tcp'],
    startedAt: Date.now(),
    dataDir: '/bench',
    notices: [],
    privateSwarm: null
  }),
  routingTable: async () => routing,
  records: async () => records,
  providerRecords: async () => ({ provided: [], held: [] }),
  queries: async () => [],
  settings: async () => DEFAULT_SETTINGS,
  bridgeStatus: async () => ({ socketPath: null, tcp: null, web: null, clients: 0, calls: 0, problems: [] }),
  // A live stream with nothing happening: one event, then quiet until the page goes away.
  events: async function* (_input: unknown, { signal }: { signal?: AbortSignal }) {
    yield { type: 'node:started', peerId: '12D3KooWBenchNode', at: Date.now() }
    await new Promise((resolve) => signal?.addEventListener('abort', resolve))
  }
} as unknown as PeerApiHandlers

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN

const server = await startApiServer({ handlers, host: '127.0.0.1', port: 0, ui: { root: DEFAULT_UI_DIR } })
const browser = await launchChromium()
try {
  const page = await browser.newPage()
  const t0 = Date.now()
  await page.goto(`${server.url}/`)
  await page.getByTestId('link-status').filter({ hasText: /^live/ }).waitFor()
  const firstRender = Date.now() - t0

  let t = Date.now()
  await page.getByRole('tab', { name: 'Records' }).click()
  await page.getByTestId('records-table').getByRole('row', { name: /key-/ }).first().waitFor()
  const recordsRender = Date.now() - t

  // Scroll the records table from top to bottom over 120 frames and record each frame's duration.
  const frames = await page.evaluate(async () => {
    const scroller = document.querySelector('[data-testid="records-table"] .scroll') as HTMLElement
    const times: number[] = []
    let last = performance.now()
    for (let i = 1; i <= 120; i++) {
      scroller.scrollTop = (scroller.scrollHeight * i) / 120
      await new Promise((r) => requestAnimationFrame(() => r(null)))
      const now = performance.now()
      times.push(now - last)
      last = now
    }
    return times
  })
  const rowsInDom = await page.getByTestId('records-table').getByRole('row').count()

  t = Date.now()
  await page.getByRole('tab', { name: 'Routing table' }).click()
  await page.getByTestId('buckets').waitFor()
  const routingRender = Date.now() - t
  // Expand every bucket at once (1 000 peer rows), timed inside the page up to the next painted frame.
  const expandAll = await page.evaluate(async () => {
    const start = performance.now()
    for (const head of document.querySelectorAll<HTMLButtonElement>('.bucket-head')) head.click()
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(null))))
    return Math.round(performance.now() - start)
  })
  await page
    .locator('.peer-table tbody tr')
    .nth(PEERS - 1)
    .waitFor()

  const sorted = [...frames].sort((a, b) => a - b)
  const result = {
    records: RECORDS,
    routingPeers: PEERS,
    firstRenderMs: firstRender,
    recordsViewMs: recordsRender,
    recordRowsInDom: rowsInDom,
    scrollFrameMs: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) },
    routingViewMs: routingRender,
    expandAllBucketsMs: expandAll
  }
  console.log(`UI with ${RECORDS} records and ${PEERS} routing-table peers (Chromium, headless)`)
  console.log(`first render (live)         ${firstRender} ms`)
  console.log(`records view                ${recordsRender} ms (${rowsInDom} rows in the DOM: virtualized)`)
  console.log(
    `scroll frames               p50 ${result.scrollFrameMs.p50.toFixed(1)} ms, p95 ${result.scrollFrameMs.p95.toFixed(1)} ms, max ${result.scrollFrameMs.max?.toFixed(1)} ms`
  )
  console.log(`routing view                ${routingRender} ms`)
  console.log(`expand all 50 buckets       ${expandAll} ms (1 000 peer rows)`)
  await mkdir('.bench-results', { recursive: true })
  await writeFile('.bench-results/ui-render.json', JSON.stringify(result, null, 2) + '\n')
} finally {
  await browser.close()
  await server.close()
}
