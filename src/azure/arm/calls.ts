// How the SDK-backed port turns SDK calls into the port's answers: 404 is "does not exist", pages
// are collected, and every failure becomes an ArmError.
import { classifyArmError, isNotFound } from '../errors.ts';
import { completedHandle, startOperation, type OperationHandle } from '../operations.ts';

/** What every SDK call of one port view carries: the signal that cancels it. */
export interface CallOptions {
  abortSignal?: AbortSignal;
}

export function callOptions(signal: AbortSignal | undefined): CallOptions {
  return signal ? { abortSignal: signal } : {};
}

/** `{ [key]: value }`, or nothing when the value is undefined (the SDK's bodies are not sent with undefined fields). */
export function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** A GET: the resource, or undefined when ARM says 404. */
export async function observe<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    const armError = classifyArmError(error);
    if (isNotFound(armError)) return undefined;
    throw armError;
  }
}

export async function collect<M, T>(items: AsyncIterable<M>, map: (model: M) => T): Promise<T[]> {
  const result: T[] = [];
  try {
    for await (const item of items) result.push(map(item));
  } catch (error) {
    throw classifyArmError(error);
  }
  return result;
}

/** Deleting what is already gone is done, not an error. */
export async function startDelete(...args: Parameters<typeof startOperation<void>>): Promise<OperationHandle> {
  try {
    return await startOperation(...args);
  } catch (error) {
    const armError = classifyArmError(error);
    if (isNotFound(armError)) return completedHandle(args[0], args[1]);
    throw armError;
  }
}
