/**
 * Simulated devices: one movement model and one sensor model per device, each with its own seeded stream,
 * turned into the specification's JSON events, plus the device's part in the run's script (`scenario.ts`): a
 * silent window, or a wander added to its fixes. Event ids are UUIDv7 (time-ordered and unique across
 * devices, runs and processes); they are the one field a seed does not reproduce.
 */
import { uuidv7 } from 'uuidv7';
import type { LocationRecord, StatusRecord } from '../core/events.js';
import { createMovementModel, type MovementModel } from '../core/movement.js';
import { createRandom, streamSeed } from '../core/random.js';
import { createSensorModel, type SensorModel } from '../core/sensors.js';
import { createWander, type Wander } from '../core/wander.js';
import type { ScenarioSchedule } from './scenario.js';
import type { SimulationConfig } from './simulation-config.js';

export interface SimulatedDevice {
  id: string;
  movement: MovementModel;
  sensors: SensorModel;
  /** When the device sends nothing (it still moves and measures). */
  silent?: { from: number; until: number | undefined };
  /** The offset that walks its fixes out of the box and back. */
  wander?: Wander;
}

export function createDevices(
  config: SimulationConfig,
  startTs: number,
  schedule: ScenarioSchedule = { silent: undefined, wander: undefined },
): SimulatedDevice[] {
  const silent = new Set(schedule.silent?.devices);
  const wandering = new Set(schedule.wander?.devices);
  return config.devices.map((id) => ({
    id,
    ...(schedule.silent && silent.has(id) ? { silent: schedule.silent } : {}),
    ...(schedule.wander && wandering.has(id) ? { wander: createWander(schedule.wander) } : {}),
    movement: createMovementModel({
      sigma: config.sigma,
      start: config.start,
      startTs,
      boundary: config.boundary,
      random: createRandom(streamSeed(config.seed, id, 'movement')),
    }),
    sensors: createSensorModel(config.sensors, createRandom(streamSeed(config.seed, id, 'sensors'))),
  }));
}

/** The next location fix of a device at `ts`; field order as the specification lists it. */
export function nextLocationEvent(device: SimulatedDevice, ts: number, newId: () => string = uuidv7): LocationRecord {
  const walk = device.movement.next(ts);
  const { latitude, longitude } = device.wander ? device.wander.apply(ts, walk) : walk;
  return { id: newId(), device_id: device.id, latitude, longitude, event_ts: ts };
}

/** The next status reading of a device at `ts`. */
export function nextStatusEvent(device: SimulatedDevice, ts: number, newId: () => string = uuidv7): StatusRecord {
  const { sound, temperature, altitude } = device.sensors.next();
  return { id: newId(), device_id: device.id, sound, temperature, altitude, event_ts: ts };
}
