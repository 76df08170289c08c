// What the operator and its ARM emulator agree on for provider Simulated.

/** The subscription of a Simulated account without spec.azure (and of the emulator's demo principal). */
export const simulatedSubscriptionId = '00000000-0000-0000-0000-000000000000';

/**
 * The emulator's default principal's well-known token: the operator's own identity against the
 * embedded emulator, which only loopback reaches. A standalone emulator replaces it with a token
 * it generates.
 */
export const EMULATOR_DEFAULT_TOKEN = 'labimages-emulator';
