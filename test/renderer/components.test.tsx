// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { App } from '../../src/renderer/src/App.tsx'
import { hexDump, ValueViewer } from '../../src/renderer/src/components/ValueViewer.tsx'
import { useInspector } from '../../src/renderer/src/store/index.ts'
import { setPeerClient } from '../../src/renderer/src/store/peer-client.ts'
import { compactRanges, RoutingView } from '../../src/renderer/src/views/RoutingView.tsx'
import { PutRecordForm } from '../../src/renderer/src/views/RecordForms.tsx'
import { encodeValue } from '../../src/shared/value-encoding.ts'
import { fakeClient } from '../helpers/fake-client.ts'
import { node, record, routingPeer } from '../helpers/fixtures.ts'

const initial = useInspector.getState()
beforeEach(() => useInspector.setState(initial, true))
afterEach(cleanup)

describe('ValueViewer', () => {
  test('decodes JSON by default and shows CBOR as a tree and bytes as a hex dump', () => {
    render(<ValueViewer value={encodeValue('{"battery": 83}', 'cbor')} />)
    expect(screen.getByRole('tab', { name: 'CBOR' }).getAttribute('aria-selected')).toBe('true')
    expect(screen.getByText('battery:')).toBeTruthy()
    fireEvent.click(screen.getByRole('tab', { name: 'HEX' }))
    expect(screen.getByText(/^00000000 a1 67 62 61/)).toBeTruthy()
    fireEvent.click(screen.getByRole('tab', { name: 'UTF-8' }))
    expect(screen.getByText(/Not UTF-8/)).toBeTruthy()
  })

  test('hex dump rows show offset, bytes and printable text', () => {
    expect(hexDump(new TextEncoder().encode('hello'))).toBe(
      '00000000  68 65 6c 6c 6f' + ' '.repeat(33) + '  hello'
    )
  })
})

describe('PutRecordForm', () => {
  test('validates before sending: a bad topic is shown inline and nothing is called', async () => {
    const { client, calls } = fakeClient()
    setPeerClient(client)
    render(<PutRecordForm />)
    fireEvent.change(screen.getByLabelText('Topic'), { target: { value: 'a/b' } })
    fireEvent.change(screen.getByLabelText('Key'), { target: { value: 'k' } })
    fireEvent.click(screen.getByRole('button', { name: 'Put' }))
    expect((await screen.findByRole('alert')).textContent).toMatch(/must not contain "\/"/)
    fireEvent.change(screen.getByLabelText('Topic'), { target: { value: 't' } })
    fireEvent.change(screen.getByLabelText('Value as'), { target: { value: 'hex' } })
    fireEvent.change(screen.getByLabelText('Value'), { target: { value: 'xyz' } })
    fireEvent.click(screen.getByRole('button', { name: 'Put' }))
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/invalid hex/))
    expect(calls).toEqual([])
  })

  test('sends the encoded value and reports how many peers stored it; API errors are shown as they come', async () => {
    let fail = false
    const { client, calls } = fakeClient({
      putRecord: () => {
        if (fail) throw new Error('put failed: no peers answered')
        return { accepted: 3, sentTo: 4, queryId: 'q' }
      },
      records: () => [],
      providerRecords: () => ({ provided: [], held: [] }),
      nodeInfo: () => node
    })
    setPeerClient(client)
    render(<PutRecordForm />)
    fireEvent.change(screen.getByLabelText('Topic'), { target: { value: 'charging_pause' } })
    fireEvent.change(screen.getByLabelText('Key'), { target: { value: 'robot-1' } })
    fireEvent.change(screen.getByLabelText('Value'), { target: { value: '1h' } })
    fireEvent.click(screen.getByRole('button', { name: 'Put' }))
    expect((await screen.findByTestId('put-result')).textContent).toBe('Stored here and on 3 of 4 peer(s).')
    expect(calls[0]).toEqual({
      method: 'putRecord',
      input: { topic: 'charging_pause', key: 'robot-1', value: new TextEncoder().encode('1h') }
    })
    fail = true
    fireEvent.click(screen.getByRole('button', { name: 'Put' }))
    expect((await screen.findByRole('alert')).textContent).toBe('put failed: no peers answered')
  })
})

describe('RoutingView', () => {
  test('shows non-empty buckets with their fill, expands peers, filters by id, and names empty buckets', () => {
    const peer = (id: string, d: number) => routingPeer(id, { log2Distance: d })
    useInspector.getState().setRouting({
      ownKadId: '00',
      k: 20,
      size: 3,
      buckets: [
        { cpl: 0, peers: [peer('12D3KooWAAAAAAAAAAAAAAAA', 255.5), peer('12D3KooWBBBBBBBBBBBBBBBB', 255.2)] },
        { cpl: 3, peers: [peer('12D3KooWCCCCCCCCCCCCCCCC', 252.1)] }
      ]
    })
    render(<RoutingView />)
    expect(screen.getByTestId('routing-summary').textContent).toBe('3 peer(s) in 2 bucket(s)')
    expect(screen.getByText('2/20')).toBeTruthy()
    expect(screen.getByText('Empty buckets: cpl 1–2')).toBeTruthy()
    fireEvent.click(screen.getByText('cpl 3'))
    expect(screen.getByText('252.10')).toBeTruthy()
    fireEvent.change(screen.getByLabelText('Filter by peer id'), { target: { value: 'BBBB' } })
    expect(screen.queryByText('cpl 3')).toBeNull()
    expect(screen.getByText('1/20')).toBeTruthy()
  })

  test('compacts bucket ranges', () => {
    expect(compactRanges([0, 1, 2, 5, 7, 8])).toBe('0–2, 5, 7–8')
  })
})

describe('NodeHeader', () => {
  test('shows start-up notices, such as a port that moved', () => {
    useInspector.getState().setNode({
      ...node,
      notices: ['API port 8080 on 127.0.0.1 is in use; the API listens on port 40001 instead']
    })
    render(<App transport="http" />)
    expect(screen.getByTestId('notices').textContent).toMatch(/listens on port 40001/)
  })
})

describe('App', () => {
  test('tabs switch views with the keyboard, and a snapshot disables the forms', () => {
    useInspector.getState().setNode(node)
    useInspector.getState().setRecords([record('status', 'robot-1')])
    render(<App transport="http" />)
    const overview = screen.getByRole('tab', { name: 'Overview' })
    fireEvent.keyDown(overview, { key: 'ArrowRight' })
    expect(screen.getByRole('tab', { name: 'Routing table' }).getAttribute('aria-selected')).toBe('true')
    fireEvent.keyDown(overview, { key: 'End' })
    expect(useInspector.getState().tab).toBe('lookups')
    expect(screen.getByText('No lookups yet')).toBeTruthy()
    fireEvent.click(screen.getByRole('tab', { name: 'Records' }))
    expect(screen.getByRole('option', { name: /status/ })).toBeTruthy()
    useInspector.getState().setSnapshot({ name: 'x.json', takenAt: 0 })
    return waitFor(() =>
      expect((screen.getByRole('button', { name: 'Put' }) as HTMLButtonElement).disabled).toBe(true)
    )
  })
})
