/**
 * An error with a stable `code` (for flows that branch on msg.error) and a
 * short `statusText` that the node shell shows under the node (shortReason).
 */
export class CodedError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly statusText: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * The base class of a family of coded errors whose status text follows from
 * the code: one table per family, one fallback for codes it does not list.
 */
export function codedErrorFamily(statusTexts: Readonly<Record<string, string>>, fallback: string) {
  return class extends CodedError {
    constructor(message: string, code: string) {
      super(message, code, statusTexts[code] ?? fallback);
    }
  };
}

/** A message the node cannot use: wrong type, empty, too long. */
export function inputError(message: string): CodedError {
  return new CodedError(message, 'BAD_INPUT', 'bad input');
}
