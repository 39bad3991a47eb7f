import { codedErrorFamily } from '../coded-error';

const STATUS_TEXT: Record<string, string> = {
  'bad-header': 'bad Wyoming header',
  'bad-data': 'bad Wyoming data',
  'too-big': 'Wyoming event too big',
  incomplete: 'incomplete event',
  'unknown-event': 'unknown event',
  'bad-audio': 'bad audio format',
  'bad-request': 'bad request',
  'no-flow': 'no flow for it',
  timeout: 'no answer in time',
  busy: 'too many clients',
};

/**
 * What went wrong with a Wyoming peer or request. `code` travels to the peer
 * in the `error` event (Wyoming's Error.code) and to the flow's Catch node.
 */
export class WyomingError extends codedErrorFamily(STATUS_TEXT, 'Wyoming error') {}
