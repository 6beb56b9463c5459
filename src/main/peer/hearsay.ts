/**
 * How much of another peer's word this one takes: the table crawler learns most of the swarm from the peers other
 * peers name in their answers. What decides it is the IP-diversity filter's view of the peer that answered
 * (`IpDiversityFilter.hearsay`); it lives here so that the crawler and the filter do not depend on each other.
 */
import type { Multiaddr } from '@multiformats/multiaddr'

/** How much of one peer's answer is taken. */
export interface Hearsay {
  /**
   * Whether the peers it names may enter the routing table undialled, on its word. Otherwise they still go to the
   * table's door, where the contact check dials each before it enters (a dial proves the peer is there, and where).
   */
  vouches: boolean
  /** Which of the addresses it gives for them are kept (and may be dialled); a peer left with none is dropped. */
  keeps: (address: Multiaddr) => boolean
}

/** Every word taken, every address kept: a swarm that trusts itself (the IP-diversity filter off). */
export const TRUSTED_HEARSAY: Hearsay = { vouches: true, keeps: () => true }
