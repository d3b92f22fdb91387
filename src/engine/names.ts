// Docker-style generated names ("adjective_scientist") for containers created without --name.
import { invalid } from '../core/errors.ts';
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

/** dockerd's container name rule, with a length limit: each name is a file (NAME_MAX 255). */
export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,252}$/;

/** The name without its leading "/", or InvalidArgument in dockerd's words (a long one cut short). */
export function checkName(wanted: string): string {
  const name = wanted.replace(/^\//, '');
  if (NAME_PATTERN.test(name)) return name;
  if (name.length > 253) throw invalid(`Invalid container name (${wanted.slice(0, 64)}...): at most 253 characters are allowed`);
  throw invalid(`Invalid container name (${wanted}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
}
