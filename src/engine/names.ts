// Docker-style generated names ("adjective_scientist") for containers created without --name.
import { randomIndex } from '../util/random.ts';

const LEFT = ['admiring', 'brave', 'calm', 'clever', 'dreamy', 'eager', 'elastic', 'festive', 'focused', 'gallant',
  'happy', 'jolly', 'keen', 'kind', 'lucid', 'modest', 'nifty', 'optimistic', 'quirky', 'relaxed', 'serene',
  'sharp', 'stoic', 'tender', 'upbeat', 'vibrant', 'wizardly', 'zealous'];
const RIGHT = ['agnesi', 'babbage', 'bardeen', 'curie', 'darwin', 'dijkstra', 'einstein', 'euler', 'fermi', 'galois',
  'hopper', 'hypatia', 'kepler', 'knuth', 'lamport', 'lovelace', 'meitner', 'noether', 'pascal', 'ritchie',
  'shannon', 'thompson', 'turing', 'wozniak'];

export function randomName(): string {
  return `${LEFT[randomIndex(LEFT.length)]}_${RIGHT[randomIndex(RIGHT.length)]}`;
}

export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
