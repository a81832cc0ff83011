/**
 * GEO_DISTANCE and the geofence of JOIN_EVENTS, with ksqlDB's numerics (ksqldb-semantics.md §2, §1.6).
 *
 * ksqlDB's `GeoDistance` UDF is a haversine on a sphere of radius 6371 km with degrees converted by
 * `Math.toRadians`, which on JDK ≥ 9 is `x * (PI / 180)` evaluated as one multiplication by the constant — so
 * the conversion here multiplies by `DEG_TO_RAD` rather than computing `x * PI / 180`, to stay bit-identical.
 */

/** Mean Earth radius used by ksqlDB for the default unit (km). */
export const EARTH_RADIUS_KM = 6371;
const DEG_TO_RAD = Math.PI / 180;

/** The fixed reference point of the specification's `GEO_DISTANCE(lat, lon, 9.0, 107.0)`. */
export const REFERENCE_POINT = { latitude: 9.0, longitude: 107.0 } as const;

/** The geofence `LATITUDE BETWEEN 8 AND 10 AND LONGITUDE BETWEEN 106 AND 108` (inclusive bounds). */
export const GEOFENCE = { minLatitude: 8, maxLatitude: 10, minLongitude: 106, maxLongitude: 108 } as const;

/**
 * Great-circle distance in km between two points given in decimal degrees, (lat, lon) order.
 * @example geoDistance(9.5, 107.5, 9.0, 107.0) // 78.11700792544114
 */
export function geoDistance(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * DEG_TO_RAD;
  const dLon = (lon2 - lon1) * DEG_TO_RAD;
  const a =
    Math.sin(dLat / 2) ** 2 + Math.sin(dLon / 2) ** 2 * Math.cos(lat1 * DEG_TO_RAD) * Math.cos(lat2 * DEG_TO_RAD);
  return 2 * Math.asin(Math.sqrt(a)) * EARTH_RADIUS_KM;
}

/** Distance from the specification's reference point (9.0, 107.0), in km. */
export function distanceFromReference(latitude: number, longitude: number): number {
  return geoDistance(latitude, longitude, REFERENCE_POINT.latitude, REFERENCE_POINT.longitude);
}

/** SQL `BETWEEN` is inclusive on both ends; a null operand makes it false. */
export function isInGeofence(latitude: number | null, longitude: number | null): boolean {
  if (latitude === null || longitude === null) return false;
  return (
    latitude >= GEOFENCE.minLatitude &&
    latitude <= GEOFENCE.maxLatitude &&
    longitude >= GEOFENCE.minLongitude &&
    longitude <= GEOFENCE.maxLongitude
  );
}
