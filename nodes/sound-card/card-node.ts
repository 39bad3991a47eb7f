import type { Node, NodeAPI } from 'node-red';
import type { SoundCard } from '../../lib/audio-io/sound-card';

/** The shared SoundCard of the sound-card config node a mic-in or speaker-out names, if it exists. */
export function cardOf(RED: NodeAPI, id: string): SoundCard | undefined {
  return (RED.nodes.getNode(id) as (Node & { card?: SoundCard }) | null)?.card;
}

/** Shows text on a browser card's page (what was heard, what is said); other cards have no screen. */
export type CardDisplay = (kind: 'heard' | 'said', text: string, final: boolean) => void;

export function displayOf(RED: NodeAPI, id: string): CardDisplay | undefined {
  return (RED.nodes.getNode(id) as (Node & { display?: CardDisplay }) | null)?.display;
}
