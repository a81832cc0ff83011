/**
 * Seeded pseudo-random numbers for the simulators, so a run can be replayed value for value.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Counter, 128-bit state, passes PractRand to 2^40+
 * bytes), seeded from a string through the cyrb128 hash. Gaussian draws use the Box–Muller transform. Each
 * device and model gets its own stream (`createRandom(`${seed}:${device}:movement`)`) so a device's values do
 * not depend on the order in which timers of different devices happen to fire.
 */

/** A deterministic source of randomness. */
export interface Random {
  /** Uniform in [0, 1), with 32 bits of resolution. */
  next(): number;
  /** Uniform in [min, max). */
  uniform(min: number, max: number): number;
  /** Standard normal N(0, 1). */
  gaussian(): number;
}

/** cyrb128: a fast 128-bit string hash, used only to spread a seed over sfc32's four state words. */
function cyrb128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

const twoTo32 = 4294967296;

/**
 * Creates a generator from a seed; equal seeds give equal sequences on every platform.
 * @example createRandom('42:dev-1:movement').gaussian()
 */
export function createRandom(seed: string | number): Random {
  let [a, b, c, d] = cyrb128(String(seed));
  const nextUint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Discard the first outputs: sfc32's state needs a few rounds to mix a hashed seed.
  for (let i = 0; i < 15; i++) nextUint32();

  let spare: number | undefined;
  const next = () => nextUint32() / twoTo32;
  return {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    gaussian() {
      if (spare !== undefined) {
        const value = spare;
        spare = undefined;
        return value;
      }
      // 1 − next() lies in (0, 1], so the logarithm is finite.
      const radius = Math.sqrt(-2 * Math.log(1 - next()));
      const angle = 2 * Math.PI * next();
      spare = radius * Math.sin(angle);
      return radius * Math.cos(angle);
    },
  };
}

/** The seed string of one device's model stream; documented so a run can be replayed outside the app. */
export function streamSeed(seed: string | number, deviceId: string, model: 'movement' | 'sensors'): string {
  return `${seed}:${deviceId}:${model}`;
}
