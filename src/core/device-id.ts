/**
 * The one device-id rule of the pipeline, used wherever a device id enters it: the source records the
 * processor decodes, the simulators' request, the API's parameters and the sink's rows.
 *
 * A letter or digit, then up to 127 letters, digits or `_ . : -`. Short and plain on purpose: the id is a Kafka
 * key, part of every window id, a primary key in PostgreSQL (whose btree refuses index rows above about 2.7 kB)
 * and a URL parameter, and it is shown in every API answer.
 */

export const DEVICE_ID_MAX_LENGTH = 128;

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** How the rule reads in error messages and in the OpenAPI document. */
export const DEVICE_ID_RULE = `a letter or digit, then letters, digits, _ . : - (at most ${DEVICE_ID_MAX_LENGTH})`;

export function isValidDeviceId(id: unknown): boolean {
  return typeof id === 'string' && id.length <= DEVICE_ID_MAX_LENGTH && DEVICE_ID_PATTERN.test(id);
}
