import type { StateCreator } from 'zustand'
import type { BridgeStatus, NodeInfo } from '../../../../shared/views.ts'
import type { SwarmSettings } from '../../../../shared/swarm-settings.ts'
import type { InspectorState } from '../index.ts'

export type LinkStatus = 'connecting' | 'live' | 'offline'

export interface DiscoveredPeer {
  peerId: string
  addresses: string[]
  at: number
}

export interface NodeSlice {
  node: NodeInfo | null
  settings: SwarmSettings | null
  /** The SDK bridge's listeners and clients. */
  bridge: BridgeStatus | null
  link: LinkStatus
  linkError: string | null
  /** Peers found by mDNS or bootstrap, newest first. */
  discovered: DiscoveredPeer[]
  setNode(node: NodeInfo): void
  setSettings(settings: SwarmSettings): void
  setBridge(bridge: BridgeStatus): void
  setLink(link: LinkStatus, error?: string | null): void
  adjustConnections(delta: number): void
  peerDiscovered(peer: DiscoveredPeer): void
}

export const createNodeSlice: StateCreator<InspectorState, [['zustand/devtools', never]], [], NodeSlice> = (
  set
) => ({
  node: null,
  settings: null,
  bridge: null,
  link: 'connecting',
  linkError: null,
  discovered: [],
  setNode: (node) => set({ node }, false, 'node/set'),
  setSettings: (settings) => set({ settings }, false, 'node/settings'),
  setBridge: (bridge) => set({ bridge }, false, 'node/bridge'),
  setLink: (link, error = null) => set({ link, linkError: error }, false, 'node/link'),
  adjustConnections: (delta) =>
    set(
      (s) =>
        s.node == null ? {} : { node: { ...s.node, connections: Math.max(0, s.node.connections + delta) } },
      false,
      'node/connections'
    ),
  peerDiscovered: (peer) =>
    set(
      (s) => ({ discovered: [peer, ...s.discovered.filter((p) => p.peerId !== peer.peerId)].slice(0, 200) }),
      false,
      'node/discovered'
    )
})
