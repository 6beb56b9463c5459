import type { StateCreator } from 'zustand'
import type { NodeInfo } from '../../../../shared/views.ts'
import type { InspectorState } from '../index.ts'

export type LinkStatus = 'connecting' | 'live' | 'offline'

export interface NodeSlice {
  node: NodeInfo | null
  link: LinkStatus
  linkError: string | null
  setNode(node: NodeInfo): void
  setLink(link: LinkStatus, error?: string | null): void
  adjustConnections(delta: number): void
}

export const createNodeSlice: StateCreator<InspectorState, [['zustand/devtools', never]], [], NodeSlice> = (
  set
) => ({
  node: null,
  link: 'connecting',
  linkError: null,
  setNode: (node) => set({ node }, false, 'node/set'),
  setLink: (link, error = null) => set({ link, linkError: error }, false, 'node/link'),
  adjustConnections: (delta) =>
    set(
      (s) =>
        s.node == null ? {} : { node: { ...s.node, connections: Math.max(0, s.node.connections + delta) } },
      false,
      'node/connections'
    )
})
