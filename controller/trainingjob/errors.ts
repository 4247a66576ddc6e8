// The one failure the pure core reports: a TrainingJob that lacks what its children need (not defaulted, not persisted).
import type { JsonObject } from '../../api/json.ts';

export class InvalidTrainingJobError extends Error {
  readonly code = 'InvalidTrainingJob';
  readonly data: JsonObject;
  constructor(message: string, data: JsonObject) {
    super(message);
    this.name = 'InvalidTrainingJobError';
    this.data = data;
  }
}
