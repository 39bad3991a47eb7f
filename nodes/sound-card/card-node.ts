import type { Node, NodeAPI } from 'node-red';
import type { SoundCard } from '../../lib/audio-io/sound-card';

/** The shared SoundCard of the sound-card config node a mic-in or speaker-out names, if it exists. */
export function cardOf(RED: NodeAPI, id: string): SoundCard | undefined {
  return (RED.nodes.getNode(id) as (Node & { card?: SoundCard }) | null)?.card;
}
