// Time as an injected dependency, so rotation can be tested by moving a clock instead of waiting a year.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
